"""Publication: resolve a domain's active records into entities and write the directory, the
entity map and the change feed in one transaction. Readers never see half a publication."""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass

import sqlalchemy as sa

from hub.faults import crash_point
from hub.resolve import EntityInfo, assign_ids, build_entry, content_hash, resolve_clusters
from hub.store.db import upsert
from hub.store.search import search_columns
from hub.store.tables import changes, directory, entities, entity_map, publications, source_records

PUBLISH_LOCK = 727_001  # PostgreSQL advisory lock: one publisher at a time keeps seq monotonic


@dataclass
class PublishOutcome:
    domain: str
    publication_id: int
    entries: int
    added: int
    updated: int
    deleted: int
    merged: int
    clusters_multi: int
    largest_cluster: int
    records: int = 0  # active source records resolved
    splits: int = 0  # entities that split off an existing one this run
    new_entities: int = 0
    withdrawn_entities: int = 0
    seq: int | None = None  # the change-feed sequence after this publication, if it moved


def publish_domain(engine: sa.Engine, domain: str, now: dt.datetime | None = None) -> PublishOutcome:
    now = now or dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLISH_LOCK})
        outcome = _publish(conn, domain, now)
        crash_point("publish:written")
    announce(engine, outcome.seq)
    return outcome


# ------------------------------------------------------------------ telling readers (read API)
#
# A publication that changes the directory advances the change-feed sequence. Readers that
# cache pages by that sequence (hub/api/version.py) learn of it by PostgreSQL's NOTIFY on the
# channel of the schema, sent inside the publication's transaction and so delivered on commit,
# and in the same process by ``announce``, called after the commit.

_ANNOUNCED: dict[str, list] = {}


def channel_name(schema: str) -> str:
    return f"hub_directory:{schema}"[:63]


def _engine_key(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def on_announce(engine: sa.Engine, callback) -> None:
    """Call ``callback(seq)`` (a bound method, held weakly) after each publication through
    this process on ``engine``'s database that advanced the sequence to ``seq``."""
    _ANNOUNCED.setdefault(_engine_key(engine), []).append(weakref.WeakMethod(callback))


def announce(engine: sa.Engine, seq: int | None) -> None:
    """After a commit: tell this process's readers of ``engine``'s database."""
    if seq is None:
        return
    listeners = _ANNOUNCED.get(_engine_key(engine), [])
    for ref in list(listeners):
        callback = ref()
        if callback is None:
            listeners.remove(ref)
        else:
            callback(seq)


def _notify(conn: sa.Connection, seq: int) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_notify(:channel, :seq)"),
                     {"channel": channel_name(conn.execute(sa.text("SELECT current_schema()")).scalar()),
                      "seq": str(seq)})


def _publish(conn: sa.Connection, domain: str, now: dt.datetime) -> PublishOutcome:
    rows = conn.execute(
        sa.select(
            source_records.c.partner_id,
            source_records.c.source_id,
            source_records.c.record,
            source_records.c.first_seen,
        ).where(source_records.c.domain == domain, source_records.c.status == "active")
    ).all()
    records = {(r.partner_id, r.source_id): r for r in rows}
    seen_order = {rk: (_ts(r.first_seen), rk) for rk, r in records.items()}
    previous = {
        (r.partner_id, r.source_id): r.entity_id
        for r in conn.execute(
            sa.select(entity_map.c.partner_id, entity_map.c.source_id, entity_map.c.entity_id).where(
                entity_map.c.domain == domain
            )
        )
    }
    entity_rows_db = conn.execute(sa.select(entities).where(entities.c.domain == domain)).all()
    created = {r.entity_id: r.created_at for r in entity_rows_db}
    known = {
        r.entity_id: EntityInfo(
            entity_id=r.entity_id,
            status=r.status,
            anchor=(r.anchor_partner_id, r.anchor_source_id),
            created_at=_ts(r.created_at),
            merged_into=r.merged_into,
        )
        for r in entity_rows_db
    }
    groups = resolve_clusters(domain, {rk: r.record for rk, r in records.items()})
    assignment = assign_ids(domain, groups, seen_order, previous, known)

    # entities
    entity_rows = []
    for eid, members in assignment.clusters.items():
        anchor = assignment.anchors[eid]
        entity_rows.append({
            "entity_id": eid,
            "domain": domain,
            "status": "active",
            "merged_into": None,
            "anchor_partner_id": anchor[0],
            "anchor_source_id": anchor[1],
            "created_at": created.get(eid) or now,
            "updated_at": now,
        })
    for eid, survivor in assignment.merged.items():
        info = known[eid]
        entity_rows.append({
            "entity_id": eid, "domain": domain, "status": "merged", "merged_into": survivor,
            "anchor_partner_id": info.anchor[0], "anchor_source_id": info.anchor[1],
            "created_at": created[eid], "updated_at": now,
        })
    for eid in assignment.withdrawn:
        info = known[eid]
        entity_rows.append({
            "entity_id": eid, "domain": domain, "status": "withdrawn", "merged_into": None,
            "anchor_partner_id": info.anchor[0], "anchor_source_id": info.anchor[1],
            "created_at": created[eid], "updated_at": now,
        })
    upsert(conn, entities, _changed_entities(entity_rows, known), ["entity_id"])

    # entity map: only rows whose entity changed
    map_rows = [
        {"domain": domain, "partner_id": rk[0], "source_id": rk[1], "entity_id": eid, "updated_at": now}
        for rk, eid in assignment.record_entity.items()
        if previous.get(rk) != eid
    ]
    upsert(conn, entity_map, map_rows, ["domain", "partner_id", "source_id"])

    # directory entries
    current = {
        r.entity_id: r.content_hash
        for r in conn.execute(
            sa.select(directory.c.entity_id, directory.c.content_hash).where(directory.c.domain == domain)
        )
    }
    entries = {}
    for eid, members in assignment.clusters.items():
        entries[eid] = build_entry(
            domain,
            eid,
            [(rk[0], rk[1], records[rk].record, records[rk].first_seen) for rk in members],
        )
    publication_id = conn.execute(
        publications.insert()
        .values(domain=domain, published_at=now, entries=len(entries), added=0, updated=0,
                deleted=0, merged=len(assignment.merged))
        .returning(publications.c.id)
    ).scalar_one()

    updated_rows, change_rows = [], []
    added = updated = 0
    for eid in sorted(entries):
        entry = entries[eid]
        digest = content_hash(entry)
        if current.get(eid) == digest:
            continue
        if eid in current:
            updated += 1
        else:
            added += 1
        change_rows.append({"publication_id": publication_id, "entity_id": eid, "domain": domain,
                            "op": "updated", "entry": entry, "created_at": now})
        updated_rows.append((eid, entry, digest))
    removed = sorted(eid for eid in current if eid not in entries)
    for eid in removed:
        tombstone = {"id": eid, "domain": domain}
        if eid in assignment.merged:
            tombstone["merged_into"] = assignment.merged[eid]
        change_rows.append({"publication_id": publication_id, "entity_id": eid, "domain": domain,
                            "op": "deleted", "entry": tombstone, "created_at": now})

    seqs: dict[str, int] = {}
    if change_rows:
        result = conn.execute(
            changes.insert().returning(changes.c.seq, changes.c.entity_id, sort_by_parameter_order=True),
            change_rows,
        )
        seqs = {row.entity_id: row.seq for row in result}
    upsert(
        conn,
        directory,
        [
            {
                "entity_id": eid,
                "domain": domain,
                "title": entry.get("title", ""),
                "organisation": entry.get("organisation"),
                "postal_code": (entry.get("address") or {}).get("postal_code"),
                "city": (entry.get("address") or {}).get("city"),
                "municipality_key": (entry.get("address") or {}).get("municipality_key"),
                "lat": (entry.get("geo") or {}).get("lat"),
                "lon": (entry.get("geo") or {}).get("lon"),
                "entry": entry,
                "content_hash": digest,
                "seq": seqs[eid],
                "updated_at": now,
                **search_columns(domain, entry),
            }
            for eid, entry, digest in updated_rows
        ],
        ["entity_id"],
    )
    for start in range(0, len(removed), 500):
        conn.execute(directory.delete().where(directory.c.entity_id.in_(removed[start : start + 500])))
    conn.execute(
        publications.update()
        .where(publications.c.id == publication_id)
        .values(added=added, updated=updated, deleted=len(removed))
    )
    seq = max(seqs.values(), default=None)
    if seq is not None:
        _notify(conn, seq)
    sizes = [len(m) for m in assignment.clusters.values()]
    return PublishOutcome(
        domain=domain,
        publication_id=publication_id,
        entries=len(entries),
        added=added,
        updated=updated,
        deleted=len(removed),
        merged=len(assignment.merged),
        clusters_multi=sum(1 for s in sizes if s > 1),
        largest_cluster=max(sizes, default=0),
        records=len(records),
        splits=len(assignment.split_from),
        new_entities=len(assignment.new),
        withdrawn_entities=len(assignment.withdrawn),
        seq=seq,
    )


def _changed_entities(rows: list[dict], known: dict[str, EntityInfo]) -> list[dict]:
    out = []
    for row in rows:
        info = known.get(row["entity_id"])
        if (
            info
            and info.status == row["status"]
            and info.merged_into == row["merged_into"]
            and info.anchor == (row["anchor_partner_id"], row["anchor_source_id"])
        ):
            continue
        out.append(row)
    return out


def _ts(value: dt.datetime | None) -> str:
    """Comparable text for a timestamp (SQLite returns naive, PostgreSQL aware datetimes)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat()
