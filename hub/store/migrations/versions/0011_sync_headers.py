"""syncs.headers: the columns a CSV delivery wrote under another usual name

The feedback report names a column as the partner's file wrote it ('Postleitzahl' where the
template says 'PLZ'), also when it is built later from the database. Syncs of earlier
deliveries keep none: their reports name the template's columns, as before.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("syncs", sa.Column("headers", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("syncs", schema=None) as batch_op:
        batch_op.drop_column("headers")
