"""The access log becomes an RFC 6962 Merkle tree: interior nodes, signed checkpoints, retention.

Existing entries keep their stored bytes; their `hash` becomes the Merkle leaf hash and the tree
is built over them, so a log from the hash-chain days verifies as a tree afterwards.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

# Retention may empty an entry's body and its personal index columns, and nothing else; the
# leaf hash stays, so the tree still verifies. Everything else about an entry is append-only.
_PRUNE_ONLY = (
    "NEW.body = '' AND NEW.seq = OLD.seq AND NEW.hash = OLD.hash AND NEW.at = OLD.at"
    " AND NEW.action = OLD.action AND NEW.outcome = OLD.outcome"
    " AND NEW.actor_subject IS NULL AND NEW.actor_department IS NULL"
    " AND NEW.citizen_hash IS NULL"
)
_SQLITE_GUARDS = [
    f"""CREATE TRIGGER access_entry_no_update BEFORE UPDATE ON access_entry
        WHEN NOT ({_PRUNE_ONLY})
        BEGIN SELECT RAISE(ABORT, 'access_entry is append-only (retention may only empty a body)'); END""",
    *(
        f"""CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table}
            BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
        for table in ("merkle_node", "log_checkpoint")
        for verb in ("update", "delete")
    ),
]
_POSTGRES_GUARDS = [
    f"""CREATE FUNCTION helhed_access_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND {_PRUNE_ONLY} THEN RETURN NEW; END IF;
          RAISE EXCEPTION '% is append-only (retention may only empty a body)', TG_TABLE_NAME;
        END $$""",
    "DROP TRIGGER access_entry_append_only ON access_entry",
    """CREATE TRIGGER access_entry_append_only BEFORE UPDATE OR DELETE ON access_entry
       FOR EACH ROW EXECUTE FUNCTION helhed_access_entry_guard()""",
    *(
        f"""CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION helhed_append_only()"""
        for table in ("merkle_node", "log_checkpoint")
    ),
]


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _rebuild_tree(connection: sa.Connection) -> None:
    """Leaf hashes and interior nodes for the entries written before this revision."""
    entries = sa.table(
        "access_entry", sa.column("seq", sa.BigInteger), sa.column("body"), sa.column("hash")
    )
    nodes = sa.table(
        "merkle_node",
        sa.column("level", sa.SmallInteger),
        sa.column("idx", sa.BigInteger),
        sa.column("hash", sa.LargeBinary),
    )
    peaks: list[tuple[int, bytes]] = []
    rows = connection.execute(sa.select(entries.c.seq, entries.c.body).order_by(entries.c.seq))
    for size, (seq, body) in enumerate(rows.fetchall()):
        leaf = hashlib.sha256(b"\x00" + body.encode("ascii")).digest()
        connection.execute(entries.update().where(entries.c.seq == seq).values(hash=leaf.hex()))
        level, digest = 0, leaf
        while peaks and peaks[-1][0] == level:
            digest = _node(peaks.pop()[1], digest)
            level += 1
            connection.execute(nodes.insert().values(level=level, idx=size >> level, hash=digest))
        peaks.append((level, digest))
    root = hashlib.sha256(b"").digest()
    if peaks:
        root = peaks[-1][1]
        for _level, peak in reversed(peaks[:-1]):
            root = _node(peak, root)
    head = sa.table("log_head", sa.column("id"), sa.column("head_hash"))
    connection.execute(head.update().where(head.c.id == 1).values(head_hash=root.hex()))


def upgrade() -> None:
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    op.add_column(
        "log_head",
        sa.Column("pruned_through", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_table(
        "merkle_node",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "log_checkpoint",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_id", sa.String(100), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    if sqlite:
        op.execute("DROP TRIGGER access_entry_no_update")
    else:
        op.execute("ALTER TABLE access_entry DISABLE TRIGGER access_entry_append_only")
    _rebuild_tree(connection)
    for statement in _SQLITE_GUARDS if sqlite else _POSTGRES_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the Merkle log cannot be turned back into a hash chain")
