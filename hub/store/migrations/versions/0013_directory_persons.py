"""directory: how many persons a flat is for, as a search column

The read API's ``persons`` finds flats for a household of that size (a newcomer family of
three), by the flat's ``max_persons`` (OpenImmo's max_personen). A publication only rewrites
entries whose content changed, so the flats already published get the column filled here.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from hub.store.search import refill

    op.add_column("directory", sa.Column("persons", sa.Integer, nullable=True))
    refill(op.get_bind(), ("persons",), "housing")


def downgrade() -> None:
    with op.batch_alter_table("directory", schema=None) as batch_op:
        batch_op.drop_column("persons")
