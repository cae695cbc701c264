"""directory: search text with the umlauts written out, a region key for addresses without
an AGS, a tag for flats free only later (filled again for the entries already there)

The read API's ``q`` now matches word by word on text folded with ä -> ae, ö -> oe,
ü -> ue (``hub.store.search.fold``), and its ``region`` filter finds entries whose partner
sends no municipality key (the BA's job postings) by the district or Land their postal code
lies in (``hub.store.search.region_key``); its ``available_by`` no longer takes a flat
'nach Vereinbarung' for one free at once (tag ``available:later``). A publication only rewrites entries whose content
changed, so the entries already published get both columns here.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    from hub.store.search import region_key, search_columns

    conn = op.get_bind()
    table = sa.table(
        "directory",
        sa.column("entity_id", sa.String()),
        sa.column("domain", sa.String()),
        sa.column("entry", sa.JSON()),
        sa.column("search_text", sa.Text()),
        sa.column("tags", sa.Text()),
        sa.column("municipality_key", sa.String()),
    )
    stmt = (
        table.update()
        .where(table.c.entity_id == sa.bindparam("b_entity_id"))
        .values(search_text=sa.bindparam("b_text"), tags=sa.bindparam("b_tags"),
                municipality_key=sa.bindparam("b_region"))
    )
    last = ""
    while True:  # in pages of ids: a national directory is not read into memory at once
        rows = conn.execute(
            sa.select(table.c.entity_id, table.c.domain, table.c.entry).where(table.c.entity_id > last)
            .order_by(table.c.entity_id).limit(BATCH)).all()
        if not rows:
            return
        params = []
        for row in rows:
            entry = row.entry or {}
            columns = search_columns(row.domain, entry)
            params.append({"b_entity_id": row.entity_id, "b_text": columns["search_text"],
                           "b_tags": columns["tags"], "b_region": region_key(entry.get("address"))})
        conn.execute(stmt, params)
        last = rows[-1].entity_id


def downgrade() -> None:
    pass  # the columns stay; an older publication writes them as it did
