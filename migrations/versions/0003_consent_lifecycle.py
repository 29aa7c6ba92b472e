"""Consent lifecycle: case, data period, legal basis, notice version, version reasons, usage.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

# A consent's content never changes (a change is a new version) and its events are kept forever;
# the database refuses otherwise, so that neither a bug nor a careless script can rewrite them.
_CONTENT = (
    "citizen_hash, citizen_ciphertext, given_by, from_departments, to_departments, categories, "
    "purpose, valid_from, valid_until, evidence, recorded_by, recorded_at, case_ref, "
    "data_period, legal_basis, notice_version, version_reason"
)
_SQLITE_GUARDS = [
    f"""CREATE TRIGGER consent_content_fixed BEFORE UPDATE OF {_CONTENT} ON consent
        BEGIN SELECT RAISE(ABORT, 'consent content is immutable: record a new version'); END""",
    """CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent
       BEGIN SELECT RAISE(ABORT, 'consents are never deleted'); END""",
    """CREATE TRIGGER consent_event_no_update BEFORE UPDATE ON consent_event
       BEGIN SELECT RAISE(ABORT, 'consent_event is append-only'); END""",
    """CREATE TRIGGER consent_event_no_delete BEFORE DELETE ON consent_event
       BEGIN SELECT RAISE(ABORT, 'consent_event is append-only'); END""",
]
_POSTGRES_GUARDS = [
    """CREATE FUNCTION helhed_consent_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'consent content is immutable: record a new version'; END $$""",
    f"""CREATE TRIGGER consent_content_fixed BEFORE UPDATE OF {_CONTENT} ON consent
        FOR EACH ROW EXECUTE FUNCTION helhed_consent_immutable()""",
    """CREATE TRIGGER consent_no_delete BEFORE DELETE ON consent
       FOR EACH ROW EXECUTE FUNCTION helhed_append_only()""",
    """CREATE TRIGGER consent_event_append_only BEFORE UPDATE OR DELETE ON consent_event
       FOR EACH ROW EXECUTE FUNCTION helhed_append_only()""",
]

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("consent") as batch:
        batch.add_column(sa.Column("case_ref", sa.String(100), nullable=True))
        batch.add_column(sa.Column("data_period", sa.JSON, nullable=True))
        batch.add_column(sa.Column("legal_basis", sa.String(300), nullable=True))
        batch.add_column(sa.Column("notice_version", sa.String(50), nullable=True))
        batch.add_column(sa.Column("version_reason", sa.String(1000), nullable=True))
    op.create_index("ix_consent_status_valid_until", "consent", ["status", "valid_until"])
    # Counters change on every view; kept apart so the consent record itself never changes.
    op.create_table(
        "consent_usage",
        sa.Column("consent_id", sa.String(36), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("use_count", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
    )
    guards = _SQLITE_GUARDS if op.get_bind().dialect.name == "sqlite" else _POSTGRES_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    for trigger, table in (
        ("consent_content_fixed", "consent"),
        ("consent_no_delete", "consent"),
        ("consent_event_no_update", "consent_event"),
        ("consent_event_no_delete", "consent_event"),
        ("consent_event_append_only", "consent_event"),
    ):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS helhed_consent_immutable()")
    op.drop_table("consent_usage")
    op.drop_index("ix_consent_status_valid_until", table_name="consent")
    with op.batch_alter_table("consent") as batch:
        for column in (
            "version_reason",
            "notice_version",
            "legal_basis",
            "data_period",
            "case_ref",
        ):
            batch.drop_column(column)
