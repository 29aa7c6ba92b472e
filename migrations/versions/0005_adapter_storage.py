"""Adapter storage: csv_drop exports in service and their fragments, encrypted at rest.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drop_export",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("imported", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Text, nullable=False),
    )
    op.create_table(
        "drop_fragment",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("citizen_hash", sa.String(64), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("sealed", sa.Text, nullable=False),
    )
    op.create_index("ix_drop_fragment_lookup", "drop_fragment", ["source", "citizen_hash"])


def downgrade() -> None:
    op.drop_index("ix_drop_fragment_lookup", table_name="drop_fragment")
    op.drop_table("drop_fragment")
    op.drop_table("drop_export")
