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
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    from hub.store.search import search_columns

    conn = op.get_bind()
    table = sa.table(
        "directory",
        sa.column("entity_id", sa.String()),
        sa.column("domain", sa.String()),
        sa.column("entry", sa.JSON()),
        sa.column("search_text", sa.Text()),
    )
    stmt = (table.update().where(table.c.entity_id == sa.bindparam("b_entity_id"))
            .values(search_text=sa.bindparam("b_text")))
    last = ""
    while True:  # in pages of ids: a national directory is not read into memory at once
        rows = conn.execute(
            sa.select(table.c.entity_id, table.c.domain, table.c.entry)
            .where(table.c.entity_id > last, table.c.domain == "jobs")
            .order_by(table.c.entity_id).limit(BATCH)).all()
        if not rows:
            return
        conn.execute(stmt, [{"b_entity_id": row.entity_id,
                             "b_text": search_columns(row.domain, row.entry or {})["search_text"]}
                            for row in rows])
        last = rows[-1].entity_id


def downgrade() -> None:
    pass  # the column stays; an older publication writes it as it did
