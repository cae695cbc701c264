"""initial tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('changes',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('publication_id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.String(length=32), nullable=False),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('op', sa.String(length=16), nullable=False),
    sa.Column('entry', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.create_index('ix_changes_entity', ['entity_id'], unique=False)

    op.create_table('directory',
    sa.Column('entity_id', sa.String(length=32), nullable=False),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('organisation', sa.Text(), nullable=True),
    sa.Column('postal_code', sa.String(length=5), nullable=True),
    sa.Column('city', sa.Text(), nullable=True),
    sa.Column('municipality_key', sa.String(length=8), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('entry', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity_id')
    )
    with op.batch_alter_table('directory', schema=None) as batch_op:
        batch_op.create_index('ix_directory_domain', ['domain', 'entity_id'], unique=False)
        batch_op.create_index('ix_directory_postal', ['domain', 'postal_code'], unique=False)

    op.create_table('entities',
    sa.Column('entity_id', sa.String(length=32), nullable=False),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into', sa.String(length=32), nullable=True),
    sa.Column('anchor_partner_id', sa.String(length=64), nullable=False),
    sa.Column('anchor_source_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('entity_id')
    )
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.create_index('ix_entities_domain', ['domain', 'status'], unique=False)

    op.create_table('entity_map',
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=255), nullable=False),
    sa.Column('entity_id', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('domain', 'partner_id', 'source_id')
    )
    with op.batch_alter_table('entity_map', schema=None) as batch_op:
        batch_op.create_index('ix_entity_map_entity', ['entity_id'], unique=False)

    op.create_table('fetch_state',
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('staged_sha256', sa.String(length=64), nullable=True),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('partner_id', 'domain')
    )
    op.create_table('landing',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=True),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('publications',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('added', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.Column('merged', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('rejections',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sync_id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=255), nullable=True),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('field', sa.String(length=128), nullable=True),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('message_en', sa.Text(), nullable=False),
    sa.Column('hint', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.create_index('ix_rejections_sync', ['partner_id', 'domain', 'sync_id'], unique=False)

    op.create_table('source_records',
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.String(length=255), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sync_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('domain', 'partner_id', 'source_id')
    )
    with op.batch_alter_table('source_records', schema=None) as batch_op:
        batch_op.create_index('ix_source_records_status', ['domain', 'status'], unique=False)

    op.create_table('syncs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.String(length=64), nullable=False),
    sa.Column('domain', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('items', sa.Integer(), server_default='0', nullable=False),
    sa.Column('accepted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected', sa.Integer(), server_default='0', nullable=False),
    sa.Column('added', sa.Integer(), server_default='0', nullable=False),
    sa.Column('changed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('withdrawn', sa.Integer(), server_default='0', nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.create_index('ix_syncs_partner', ['partner_id', 'domain', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('syncs', schema=None) as batch_op:
        batch_op.drop_index('ix_syncs_partner')

    op.drop_table('syncs')
    with op.batch_alter_table('source_records', schema=None) as batch_op:
        batch_op.drop_index('ix_source_records_status')

    op.drop_table('source_records')
    with op.batch_alter_table('rejections', schema=None) as batch_op:
        batch_op.drop_index('ix_rejections_sync')

    op.drop_table('rejections')
    op.drop_table('publications')
    op.drop_table('landing')
    op.drop_table('fetch_state')
    with op.batch_alter_table('entity_map', schema=None) as batch_op:
        batch_op.drop_index('ix_entity_map_entity')

    op.drop_table('entity_map')
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.drop_index('ix_entities_domain')

    op.drop_table('entities')
    with op.batch_alter_table('directory', schema=None) as batch_op:
        batch_op.drop_index('ix_directory_postal')
        batch_op.drop_index('ix_directory_domain')

    op.drop_table('directory')
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index('ix_changes_entity')

    op.drop_table('changes')
