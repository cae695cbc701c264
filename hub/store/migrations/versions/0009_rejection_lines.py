"""rejections.line: the line of the partner's file a rejected record starts on

The feedback report names it (CSV templates), so that a partner finds a row that has no id,
or whose id occurs more than once, in the file. Rejections of earlier deliveries keep no line.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rejections", sa.Column("line", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rejections", schema=None) as batch_op:
        batch_op.drop_column("line")
