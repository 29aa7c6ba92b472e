"""Source health: the last scheduled health check per source, the same on every instance.

Revision ID: 0011_source_health
Revises: 0010_job_run
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_source_health"
down_revision = "0010_job_run"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_health",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("source_health")
