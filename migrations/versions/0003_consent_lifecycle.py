"""Consent lifecycle: case, data period, legal basis, notice version, version reasons, usage.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

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


def downgrade() -> None:
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
