"""directory: a job's occupation in the search text

The read API's ``q`` finds a posting by its occupation ('Erzieher/in') as well as by its
title, organisation and description: the BA's postings often name the occupation only there
and have no description. A publication only rewrites entries whose content changed, so the
search text of the entries already published is written again here.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from hub.store.search import refill

    refill(op.get_bind(), ("search_text",), "jobs")


def downgrade() -> None:
    pass  # the column stays; an older publication writes it as it did
