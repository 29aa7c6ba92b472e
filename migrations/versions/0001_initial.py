"""Consents, their events, the access log and its head; the log refuses UPDATE and DELETE.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64

# The application never changes a log entry; the database refuses to as well, so that a bug or
# a careless script cannot either. Changing the log takes dropping these triggers first.
_SQLITE_GUARDS = [
    """CREATE TRIGGER access_entry_no_update BEFORE UPDATE ON access_entry
       BEGIN SELECT RAISE(ABORT, 'access_entry is append-only'); END""",
    """CREATE TRIGGER access_entry_no_delete BEFORE DELETE ON access_entry
       BEGIN SELECT RAISE(ABORT, 'access_entry is append-only'); END""",
]
_POSTGRES_GUARDS = [
    """CREATE FUNCTION helhed_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$""",
    """CREATE TRIGGER access_entry_append_only BEFORE UPDATE OR DELETE ON access_entry
       FOR EACH ROW EXECUTE FUNCTION helhed_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("citizen_hash", sa.String(64), nullable=False),
        sa.Column("citizen_ciphertext", sa.String, nullable=False),
        sa.Column("given_by", sa.JSON, nullable=False),
        sa.Column("from_departments", sa.JSON, nullable=False),
        sa.Column("to_departments", sa.JSON, nullable=False),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        sa.Column("recorded_by", sa.JSON, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawal", sa.JSON, nullable=True),
    )
    op.create_index("ix_consent_citizen_hash", "consent", ["citizen_hash"])
    op.create_table(
        "consent_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("consent_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.JSON, nullable=False),
        sa.Column("reason", sa.String, nullable=True),
        sa.Column("access_entry", sa.Integer, nullable=True),
    )
    op.create_index("ix_consent_event_consent_id", "consent_event", ["consent_id"])
    op.create_table(
        "access_entry",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("actor_subject", sa.String(200), nullable=True),
        sa.Column("actor_department", sa.String(64), nullable=True),
        sa.Column("citizen_hash", sa.String(64), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_access_entry_citizen_hash", "access_entry", ["citizen_hash"])
    op.create_index("ix_access_entry_actor", "access_entry", ["actor_subject"])
    op.create_index("ix_access_entry_at", "access_entry", ["at"])
    log_head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(log_head, [{"id": 1, "size": 0, "head_hash": GENESIS_HASH}])
    guards = _SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else _POSTGRES_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS access_entry_append_only ON access_entry")
        op.execute("DROP FUNCTION IF EXISTS helhed_append_only()")
    for table in ("log_head", "access_entry", "consent_event", "consent"):
        op.drop_table(table)
