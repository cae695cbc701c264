"""directory: a flat's cold rent as a search column of its own

The read API's ``cold_rent_max`` finds flats by their Kaltmiete (an advisor's 'up to 400 EUR
cold'), next to ``rent_max``, which reads the warm rent where a flat gives one. A publication
only rewrites entries whose content changed, so the flats already published get the column
filled here.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from hub.store.search import refill

    op.add_column("directory", sa.Column("cold_rent", sa.Float, nullable=True))
    refill(op.get_bind(), ("cold_rent",), "housing")


def downgrade() -> None:
    with op.batch_alter_table("directory", schema=None) as batch_op:
        batch_op.drop_column("cold_rent")
