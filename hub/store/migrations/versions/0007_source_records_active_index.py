"""source_records: the index of active records holds the partner and the source id;
rejections: an index by sync id

The index on (domain, status) alone made SQLite read every active record of the domain for a
question about one partner's records (it prefers that index to the primary key's
(domain, partner_id) prefix): the stage of a partner feed counted, compared and withdrew
its records by walking the whole domain, a million job postings at national scale.
One delivery's rejections (its feedback report, the check's sample, the counts of an
unchanged re-sync) were found by reading every rejection of every partner.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_source_records_active", "source_records",
                    ["domain", "status", "partner_id", "source_id"])
    op.drop_index("ix_source_records_status", table_name="source_records")
    op.create_index("ix_rejections_sync_id", "rejections", ["sync_id"])


def downgrade() -> None:
    op.drop_index("ix_rejections_sync_id", table_name="rejections")
    op.create_index("ix_source_records_status", "source_records", ["domain", "status"])
    op.drop_index("ix_source_records_active", table_name="source_records")
