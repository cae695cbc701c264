"""Read API: api_keys, and search columns on directory (filled for the entries already there)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SEARCH_COLUMNS = (
    ("search_text", sa.Text()),
    ("tags", sa.Text()),
    ("start_date", sa.Date()),
    ("rent", sa.Float()),
    ("rooms", sa.Float()),
    ("area", sa.Float()),
)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=True),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])

    with op.batch_alter_table("directory", schema=None) as batch_op:
        for name, type_ in SEARCH_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    # pages of one postal code or municipality come in id order straight from the index
    op.drop_index("ix_directory_postal", table_name="directory")
    op.create_index("ix_directory_postal", "directory", ["domain", "postal_code", "entity_id"])
    op.create_index("ix_directory_region", "directory", ["domain", "municipality_key", "entity_id"])
    op.create_index("ix_directory_geo", "directory", ["domain", "lat", "lon"])
    _backfill()


def _backfill() -> None:
    """Entries published before this revision get their search columns now (a publication
    only rewrites entries whose content changed)."""
    from hub.store.search import search_columns

    conn = op.get_bind()
    table = sa.table(
        "directory",
        sa.column("entity_id", sa.String()),
        sa.column("domain", sa.String()),
        sa.column("entry", sa.JSON()),
        *(sa.column(name, type_) for name, type_ in SEARCH_COLUMNS),
    )
    rows = conn.execute(sa.select(table.c.entity_id, table.c.domain, table.c.entry)).all()
    if not rows:
        return
    stmt = (
        table.update()
        .where(table.c.entity_id == sa.bindparam("b_entity_id"))
        .values({name: sa.bindparam(name) for name, _ in SEARCH_COLUMNS})
    )
    params = [{"b_entity_id": r.entity_id, **search_columns(r.domain, r.entry)} for r in rows]
    for start in range(0, len(params), 5000):
        conn.execute(stmt, params[start : start + 5000])


def downgrade() -> None:
    op.drop_index("ix_directory_geo", table_name="directory")
    op.drop_index("ix_directory_region", table_name="directory")
    op.drop_index("ix_directory_postal", table_name="directory")
    op.create_index("ix_directory_postal", "directory", ["domain", "postal_code"])
    with op.batch_alter_table("directory", schema=None) as batch_op:
        for name, _ in reversed(SEARCH_COLUMNS):
            batch_op.drop_column(name)
    op.drop_index("ix_api_keys_prefix", table_name="api_keys")
    op.drop_table("api_keys")
