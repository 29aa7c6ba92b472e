"""Entry bodies compressed with LZ4 on PostgreSQL, where the server has it.

Bodies of views with many release lines pass PostgreSQL's TOAST threshold and were compressed
with pglz, whose decompression was most of the server's work in `helhed audit verify` (a million
entries: 5.2 s of server CPU with pglz, 2.1 s with LZ4, the same size on disk). Rows written
before keep pglz and read as before; new rows get LZ4. SQLite does not compress.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_HAS_LZ4 = sa.text(
    "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
)


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    if connection.execute(_HAS_LZ4).scalar():  # PostgreSQL 14+ built with LZ4
        op.execute("ALTER TABLE access_entry ALTER COLUMN body SET COMPRESSION lz4")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql" and connection.execute(_HAS_LZ4).scalar():
        op.execute("ALTER TABLE access_entry ALTER COLUMN body SET COMPRESSION pglz")
