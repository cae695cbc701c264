"""Incremental publication: entity_map.record_hash, entities.records, the resolution_keys
table and the publication's mode; changes.seq 64 bits on PostgreSQL

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resolution_keys",
        sa.Column("domain", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=False),
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("domain", "partner_id", "source_id", "key"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_resolution_keys_key", "resolution_keys", ["domain", "key"])
    with op.batch_alter_table("entity_map", schema=None) as batch_op:
        batch_op.add_column(sa.Column("record_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("records", sa.Integer(), nullable=True))
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mode", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("resolution_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("resolved", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # SQLite's INTEGER key has 64 bits already
        op.alter_column("changes", "seq", type_=sa.BigInteger(), existing_nullable=False)
        op.execute("ALTER SEQUENCE changes_seq_seq AS bigint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER SEQUENCE changes_seq_seq AS integer")
        op.alter_column("changes", "seq", type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_column("resolved")
        batch_op.drop_column("resolution_version")
        batch_op.drop_column("mode")
    with op.batch_alter_table("entities", schema=None) as batch_op:
        batch_op.drop_column("records")
    with op.batch_alter_table("entity_map", schema=None) as batch_op:
        batch_op.drop_column("record_hash")
    op.drop_index("ix_resolution_keys_key", table_name="resolution_keys")
    op.drop_table("resolution_keys")
