"""The hub's tables (SQLAlchemy Core). Schema changes go through alembic migrations in
``hub/store/migrations``; a test checks that the migrations produce exactly these tables."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

TS = sa.DateTime(timezone=True)

landing = sa.Table(
    "landing",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("content_type", sa.String(200)),
    sa.Column("first_seen", TS, nullable=False),
    # set when the payload's bytes were removed (erasure on request, or the retention period):
    # the row stays so that a replay can say why the payload is gone
    sa.Column("erased_at", TS),
)

fetch_state = sa.Table(
    "fetch_state",
    metadata,
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("domain", sa.String(16), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("content_sha256", sa.String(64)),  # last payload fetched
    sa.Column("staged_sha256", sa.String(64)),  # last payload whose records were staged
    sa.Column("released_sha256", sa.String(64)),  # payload a steward released from the guard
    sa.Column("http_status", sa.Integer),
    sa.Column("fetched_at", TS),
    sa.Column("changed_at", TS),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text),
)

syncs = sa.Table(
    "syncs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partner_id", sa.String(64), nullable=False),
    sa.Column("domain", sa.String(16), nullable=False),
    sa.Column("started_at", TS, nullable=False),
    sa.Column("finished_at", TS),
    sa.Column("content_sha256", sa.String(64)),
    sa.Column("status", sa.String(16), nullable=False),  # ok, failed, held
    sa.Column("items", sa.Integer, nullable=False, server_default="0"),
    sa.Column("accepted", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("added", sa.Integer, nullable=False, server_default="0"),
    sa.Column("changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("withdrawn", sa.Integer, nullable=False, server_default="0"),
    sa.Column("message", sa.Text),
    sa.Column("field_coverage", sa.JSON),  # share of accepted records that fill each field
    # a CSV template's column -> the other usual name the delivery wrote it under (the report
    # names it so: 'PLZ' -> 'Postleitzahl'); None: every column under the template's name
    sa.Column("headers", sa.JSON),
    sa.Index("ix_syncs_partner", "partner_id", "domain", "id"),
)

source_records = sa.Table(
    "source_records",
    metadata,
    sa.Column("domain", sa.String(16), primary_key=True),
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("source_id", sa.String(255), primary_key=True),
    sa.Column("record", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active, withdrawn
    sa.Column("first_seen", TS, nullable=False),
    sa.Column("last_seen", TS, nullable=False),
    sa.Column("sync_id", sa.Integer),
    # a domain's active records, and one partner's (SQLite took an index on (domain, status)
    # alone for the partner's too, and read the whole domain)
    sa.Index("ix_source_records_active", "domain", "status", "partner_id", "source_id"),
)

rejections = sa.Table(
    "rejections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sync_id", sa.Integer, nullable=False),
    sa.Column("partner_id", sa.String(64), nullable=False),
    sa.Column("domain", sa.String(16), nullable=False),
    sa.Column("source_id", sa.String(255)),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("field", sa.String(128)),
    sa.Column("value", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("message_en", sa.Text, nullable=False),
    sa.Column("hint", sa.Text),
    sa.Column("title", sa.Text),
    # the line of the partner's file the record starts on (CSV templates)
    sa.Column("line", sa.Integer),
    sa.Index("ix_rejections_sync", "partner_id", "domain", "sync_id"),
    # one delivery's rejections (feedback report, check sample, counts): by sync id alone
    sa.Index("ix_rejections_sync_id", "sync_id"),
)

entities = sa.Table(
    "entities",
    metadata,
    sa.Column("entity_id", sa.String(32), primary_key=True),
    sa.Column("domain", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # active, withdrawn, merged
    sa.Column("merged_into", sa.String(32)),
    sa.Column("anchor_partner_id", sa.String(64), nullable=False),
    sa.Column("anchor_source_id", sa.String(255), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("records", sa.Integer),  # active source records joined in it (its cluster's size)
    sa.Index("ix_entities_domain", "domain", "status"),
)

entity_map = sa.Table(
    "entity_map",
    metadata,
    sa.Column("domain", sa.String(16), primary_key=True),
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("source_id", sa.String(255), primary_key=True),
    sa.Column("entity_id", sa.String(32), nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    # the record's content hash as the last publication resolved it (NULL once it is no longer
    # active): a source record whose hash differs changed since, and is re-resolved
    sa.Column("record_hash", sa.String(64)),
    sa.Index("ix_entity_map_entity", "entity_id"),
)

resolution_keys = sa.Table(
    # every key under which the last publication put a record together with others (its
    # blocks and identity keys, hub.resolve.engine.record_keys), as a 64-bit hash: an
    # incremental publication finds by them which unchanged records a change can reach
    "resolution_keys",
    metadata,
    sa.Column("domain", sa.String(16), primary_key=True),
    sa.Column("partner_id", sa.String(64), primary_key=True),
    sa.Column("source_id", sa.String(255), primary_key=True),
    sa.Column("key", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Index("ix_resolution_keys_key", "domain", "key"),
    sqlite_with_rowid=False,  # the key is the row: one B-tree less to write (millions of rows)
)

directory = sa.Table(
    "directory",
    metadata,
    sa.Column("entity_id", sa.String(32), primary_key=True),
    sa.Column("domain", sa.String(16), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("organisation", sa.Text),
    sa.Column("postal_code", sa.String(5)),
    sa.Column("city", sa.Text),
    sa.Column("municipality_key", sa.String(8)),
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
    sa.Column("entry", sa.JSON, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    # search columns for the read API, filled from the entry (hub/store/search.py)
    sa.Column("search_text", sa.Text),
    sa.Column("tags", sa.Text),
    sa.Column("start_date", sa.Date),
    sa.Column("rent", sa.Float),
    sa.Column("rooms", sa.Float),
    sa.Column("area", sa.Float),
    sa.Column("cold_rent", sa.Float),
    sa.Column("persons", sa.Integer),
    sa.Index("ix_directory_domain", "domain", "entity_id"),
    # entity_id last: a page of one postal code (or municipality) comes in id order from the
    # index and stops after `limit` rows instead of sorting every match
    sa.Index("ix_directory_postal", "domain", "postal_code", "entity_id"),
    sa.Index("ix_directory_region", "domain", "municipality_key", "entity_id"),
    sa.Index("ix_directory_geo", "domain", "lat", "lon"),
)

publications = sa.Table(
    "publications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("domain", sa.String(16), nullable=False),
    sa.Column("published_at", TS, nullable=False),
    sa.Column("entries", sa.Integer, nullable=False),
    sa.Column("added", sa.Integer, nullable=False),
    sa.Column("updated", sa.Integer, nullable=False),
    sa.Column("deleted", sa.Integer, nullable=False),
    sa.Column("merged", sa.Integer, nullable=False),
    sa.Column("mode", sa.String(16)),  # full, incremental (NULL: before 0006)
    sa.Column("resolution_version", sa.Integer),  # hub.store.publish.RESOLUTION_VERSION
    sa.Column("resolved", sa.Integer),  # source records resolved (all active ones when full)
)

changes = sa.Table(
    "changes",
    metadata,
    # 64 bits (a national full publication writes a million rows; the read API accepts any
    # cursor up to 2**62); on SQLite an INTEGER PRIMARY KEY, which is 64 bits and the rowid
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("publication_id", sa.Integer, nullable=False),
    sa.Column("entity_id", sa.String(32), nullable=False),
    sa.Column("domain", sa.String(16), nullable=False),
    sa.Column("op", sa.String(16), nullable=False),  # updated, deleted
    sa.Column("entry", sa.JSON),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_changes_entity", "entity_id"),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("prefix", sa.String(16), nullable=False),  # shown in `hub keys list`, not secret
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),  # sha256 of the key
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),  # space-separated: read contacts feedback steward
    sa.Column("partner_id", sa.String(64)),
    sa.Column("rate_limit", sa.Integer),  # requests per minute; NULL: the server's default
    sa.Column("created_at", TS, nullable=False),
    sa.Column("revoked_at", TS),
    sa.Index("ix_api_keys_prefix", "prefix"),
)

erasures = sa.Table(
    "erasures",
    metadata,
    # the audit trail of erasures on request (``hub erase``): which record, when and why; no
    # personal data (the reason is a steward's note such as a ticket number)
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partner_id", sa.String(64), nullable=False),
    sa.Column("domain", sa.String(16), nullable=False),
    sa.Column("source_id", sa.String(255), nullable=False),
    sa.Column("entity_id", sa.String(32)),
    sa.Column("outcome", sa.String(16), nullable=False),  # deleted, updated, unpublished
    sa.Column("payloads_erased", sa.Integer, nullable=False, server_default="0"),
    sa.Column("changes_scrubbed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reason", sa.Text),
    sa.Column("erased_at", TS, nullable=False),
    sa.Index("ix_erasures_record", "partner_id", "domain", "source_id"),
)
