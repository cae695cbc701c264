"""fetch_state.released_sha256: the payload a steward released from the mass-withdrawal guard

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("fetch_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("released_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fetch_state", schema=None) as batch_op:
        batch_op.drop_column("released_sha256")
