"""syncs.field_coverage: which fields a delivery fills, to notice fields that appear or vanish

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("syncs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("field_coverage", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("syncs", schema=None) as batch_op:
        batch_op.drop_column("field_coverage")
