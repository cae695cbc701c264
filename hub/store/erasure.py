"""Erasure on request: one partner record removed from everything the hub keeps.

``erase_record`` removes the record's row in ``source_records``, its ``entity_map`` row and
its ``rejections``; publishes its domain again in the same transaction, so the directory and
the change feed say what happened (a ``deleted`` tombstone when the record was the entity's
only source, an ``updated`` item when the entity keeps other sources); scrubs the earlier
change-feed items that carried the record's data (its source reference and the fields the
partner contributed, contact included; the item is marked ``"redacted": true``); removes the
raw payloads that contain the record from the landing store (a marker says when and why, so a
replay of such a payload fails with that reason; the feed's fetch state is reset, so the next
sync fetches and stages in full); deletes the files of the partner's inbox moved aside into
``processed/`` and ``failed/`` that hold it; and writes an ``erasures`` audit row (partner,
domain, source id, time, reason; no personal data).

A record that no table holds (it was never staged: its delivery failed as a whole) is found
in the raw payloads and the inbox files and erased there, with the same audit row.

A record in a file still waiting in the partner's inbox (not yet processed) is refused, with
nothing erased: that file is the partner's delivery, not a copy the hub keeps, and once
processed it would publish the record again. The message names the file; the steward takes
the record (or the file) out and erases again.

The partner is the source of truth: erasure does not block the record. If the partner's feed
still sends it, the next sync stages and publishes it again. The request belongs with the
partner as well.

Publishing the domain publishes whatever else was staged and not yet published, as the next
``publish_directory`` run would.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from dataclasses import dataclass, field

import sqlalchemy as sa

from hub.store.db import forget_deleted
from hub.store.landing import LandingStore
from hub.store.tables import (
    changes,
    directory,
    entity_map,
    erasures,
    fetch_state,
    landing,
    rejections,
    source_records,
    syncs,
)

REASON_MAX = 500


class ErasureError(Exception):
    """The record cannot be erased as asked (unknown partner or record, ambiguous domain);
    the message is one line."""


@dataclass
class ErasureOutcome:
    partner_id: str
    domain: str
    source_id: str
    entity_id: str | None
    outcome: str  # deleted (tombstone), updated (entity kept with other sources), unpublished
    seq: int | None  # the change-feed item that announces it
    removed: dict[str, int] = field(default_factory=dict)  # table -> rows removed
    changes_scrubbed: int = 0
    payloads_erased: list[str] = field(default_factory=list)
    erasure_id: int | None = None
    inbox_files_removed: list[Path] = field(default_factory=list)  # processed/, failed/
    # SQLite: the write-ahead log, which held the deleted rows, was emptied (False: readers
    # kept it busy; the next erasure or retention run empties it)
    log_emptied: bool = True


def partner_known(conn: sa.Connection, partner_id: str) -> bool:
    """Whether the database holds anything of the partner."""
    for table in (source_records, syncs, fetch_state):
        if conn.execute(sa.select(table.c.partner_id).where(table.c.partner_id == partner_id)
                        .limit(1)).first():
            return True
    return False


def refused_id(source_id: str) -> str | None:
    """Why ``source_id`` cannot be a record's id, one line; None for one that can. A record's
    id has a letter or digit and no white space at its ends (the formats drop it): an id of
    punctuation alone ('-', '*') or blanks would otherwise be searched as text in the
    deliveries that failed as a whole, where it stands between any two words, and their files
    erased."""
    if not source_id.strip():
        return "an empty id is no record's id: give the record's id as the feedback report names it"
    if source_id != source_id.strip():
        return (f"{source_id!r} has white space at its ends, which no record's id has (the "
                f"formats drop it): erase {source_id.strip()!r}")
    if not any(char.isalnum() for char in source_id):
        return (f"{source_id!r} is no record's id (an id has a letter or digit): give the "
                "record's id as the feedback report names it")
    return None


def record_domains(conn: sa.Connection, partner_id: str, source_id: str) -> set[str]:
    """The domains in which the partner's record has rows (records, entity map, rejections)."""
    found: set[str] = set()
    for table in (source_records, entity_map, rejections):
        found.update(
            domain for (domain,) in conn.execute(
                sa.select(table.c.domain).where(table.c.partner_id == partner_id,
                                                table.c.source_id == source_id).distinct())
        )
    return found


def erase_record(
    engine: sa.Engine,
    store: LandingStore | None,
    partner_id: str,
    source_id: str,
    *,
    domain: str | None = None,
    reason: str | None = None,
    formats: dict[str, str] | None = None,
    inboxes: dict[str, Path] | None = None,
    now: dt.datetime | None = None,
) -> ErasureOutcome:
    """Erase the record (see the module docstring). ``formats`` maps a domain to the
    partner's feed format (from the registry) to find the raw payloads that contain the
    record; without it the payloads are searched for the source id as text. ``inboxes`` maps
    a domain to the partner's inbox folder, whose files moved aside that hold the record are
    deleted too. A record that no table holds (never staged: only in a delivery that failed
    as a whole) is erased where a raw payload or an inbox file holds it."""
    problem = refused_id(source_id)
    if problem:
        raise ErasureError(problem)
    now = now or dt.datetime.now(dt.timezone.utc)
    formats, inboxes = formats or {}, inboxes or {}
    with engine.connect() as conn:
        domains = record_domains(conn, partner_id, source_id)
        if domain:
            domains &= {domain}
        if not domains:  # only in what the hub keeps of its deliveries, if anywhere
            domains = {d for d in ([domain] if domain else _partner_domains(conn, partner_id, inboxes))
                       if _delivery_holds(conn, store, partner_id, d, source_id, formats.get(d),
                                          inboxes.get(d))}
        payload_candidates = (_payloads_of(conn, partner_id, next(iter(domains)))
                              if len(domains) == 1 else [])
    where = f" in {domain}" if domain else ""
    # a file waiting in the inbox is the partner's delivery: processed later, it would publish
    # the record again. Erasing inside it is the partner's (or the steward's) edit, not ours
    looked = domains or ({domain} if domain else set(inboxes))
    waiting = [path for d in sorted(looked) if d in inboxes
               for path in waiting_files_holding(inboxes[d], formats.get(d), partner_id, source_id)]
    if waiting:
        files = ", ".join(str(path) for path in waiting)
        raise ErasureError(
            f"partner {partner_id!r}: the record {source_id!r} is in {files}, waiting in the inbox "
            "(not yet processed), which would publish it again; nothing was erased: take the "
            "record out of that file (or the file out of the inbox), then erase again")
    if not domains:
        raise ErasureError(f"partner {partner_id!r} has no record {source_id!r}{where} (nothing "
                           "of it in the database, the raw payloads or the inbox files)")
    if len(domains) > 1:
        raise ErasureError(f"partner {partner_id!r} has a record {source_id!r} in "
                           f"{' and '.join(sorted(domains))}; say which with --domain")
    domain = next(iter(domains))

    # the raw payloads first: should the transaction below fail, running the erasure again
    # finds the record and completes it, while a replay already explains the missing payload
    erased: list[str] = []  # bytes removed now
    gone: list[str] = []  # erased before (an interrupted erasure): still to be marked below
    if store is not None:
        fmt = formats.get(domain)
        for sha in payload_candidates:
            if sha not in store and store.erased(sha) is not None:
                gone.append(sha)
                continue
            erased += _erase_payload(store, sha, fmt, partner_id, source_id, now)

    outcome = ErasureOutcome(partner_id, domain, source_id, None, "unpublished", None,
                             payloads_erased=erased)
    with engine.begin() as conn:
        from hub.store.publish import PUBLISH_LOCK, _publish, announce

        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": PUBLISH_LOCK})
        outcome.entity_id = conn.execute(
            sa.select(entity_map.c.entity_id).where(
                entity_map.c.domain == domain, entity_map.c.partner_id == partner_id,
                entity_map.c.source_id == source_id)
        ).scalar()
        for table in (source_records, entity_map, rejections):
            result = conn.execute(table.delete().where(
                table.c.domain == domain, table.c.partner_id == partner_id,
                table.c.source_id == source_id))
            outcome.removed[table.name] = result.rowcount or 0

        # the publication looks at the record's entity and what its resolution keys reach, and
        # deletes those keys (the record's last rows)
        seeds = {outcome.entity_id} if outcome.entity_id else set()
        published = _publish(conn, domain, now, seeds=seeds, erased={(partner_id, source_id)})
        if outcome.entity_id:
            item = conn.execute(
                sa.select(changes.c.seq, changes.c.op).where(
                    changes.c.publication_id == published.publication_id,
                    changes.c.entity_id == outcome.entity_id)
            ).first()
            if item is not None:
                outcome.outcome, outcome.seq = item.op, item.seq
            elif conn.execute(sa.select(directory.c.entity_id).where(
                    directory.c.entity_id == outcome.entity_id)).first():
                outcome.outcome = "updated"  # entry unchanged: the record added nothing to it
        outcome.changes_scrubbed = _scrub_changes(conn, domain, partner_id, source_id,
                                                  published.publication_id)

        if erased or gone:
            marked = sorted(set(erased) | set(gone))
            conn.execute(landing.update().where(landing.c.sha256.in_(marked),
                                                landing.c.erased_at.is_(None)).values(erased_at=now))
            _reset_fetch_state(conn, partner_id, domain, set(marked))
        outcome.erasure_id = conn.execute(
            erasures.insert().values(
                partner_id=partner_id, domain=domain, source_id=source_id,
                entity_id=outcome.entity_id, outcome=outcome.outcome,
                payloads_erased=len(erased), changes_scrubbed=outcome.changes_scrubbed,
                reason=(reason or "").strip()[:REASON_MAX] or None, erased_at=now,
            ).returning(erasures.c.id)
        ).scalar_one()
    announce(engine, published.seq)
    outcome.log_emptied = forget_deleted(engine)
    if domain in inboxes:  # after the transaction: should it fail, the files still find the record
        outcome.inbox_files_removed = erase_processed_files(inboxes[domain], formats.get(domain),
                                                            partner_id, source_id)
    return outcome


# -- change feed --------------------------------------------------------------------------


def _scrub_changes(conn: sa.Connection, domain: str, partner_id: str, source_id: str,
                   current_publication: int) -> int:
    """Earlier change-feed items that carried the record: drop its source reference and the
    fields its partner contributed (contact included); mark them redacted."""
    needle = json.dumps(source_id)[1:-1]  # as it appears inside the stored JSON text
    rows = conn.execute(
        sa.select(changes.c.seq, changes.c.entry).where(
            changes.c.domain == domain,
            changes.c.publication_id != current_publication,
            sa.cast(changes.c.entry, sa.Text).contains(needle, autoescape=True),
        )
    ).all()
    params = []
    for row in rows:
        entry = row.entry or {}
        sources = entry.get("sources") or []
        mine = [s for s in sources
                if s.get("partner_id") == partner_id and s.get("source_id") == source_id]
        if not mine:
            continue
        scrubbed = scrub_entry(entry, partner_id, source_id)
        params.append({"k_seq": row.seq, "new_entry": scrubbed})
    stmt = changes.update().where(changes.c.seq == sa.bindparam("k_seq")).values(
        entry=sa.bindparam("new_entry"))
    if params:
        conn.execute(stmt, params)
    return len(params)


def scrub_entry(entry: dict, partner_id: str, source_id: str) -> dict:
    """A directory entry without the record: its source reference and every field its
    partner contributed are removed (a partner has one feed per domain)."""
    provenance = dict(entry.get("provenance") or {})
    out = {}
    for key, value in entry.items():
        if key in ("id", "domain"):
            out[key] = value
        elif provenance.get(key) == partner_id:
            continue
        else:
            out[key] = value
    out["sources"] = [s for s in entry.get("sources") or []
                      if not (s.get("partner_id") == partner_id and s.get("source_id") == source_id)]
    out["provenance"] = {k: v for k, v in provenance.items() if v != partner_id}
    out["redacted"] = True
    return out


# -- raw payloads -------------------------------------------------------------------------


def _payloads_of(conn: sa.Connection, partner_id: str, domain: str) -> list[str]:
    shas = {sha for (sha,) in conn.execute(
        sa.select(syncs.c.content_sha256).where(syncs.c.partner_id == partner_id,
                                                syncs.c.domain == domain).distinct()) if sha}
    state = conn.execute(
        sa.select(fetch_state.c.content_sha256, fetch_state.c.staged_sha256,
                  fetch_state.c.released_sha256)
        .where(fetch_state.c.partner_id == partner_id, fetch_state.c.domain == domain)
    ).first()
    if state is not None:
        shas.update(sha for sha in state if sha)
    return sorted(shas)


def _partner_domains(conn: sa.Connection, partner_id: str, inboxes: dict[str, Path]) -> list[str]:
    """The domains in which the partner delivered anything (syncs, fetch state) or has an inbox."""
    found = set(inboxes)
    for table in (syncs, fetch_state):
        found.update(d for (d,) in conn.execute(
            sa.select(table.c.domain).where(table.c.partner_id == partner_id).distinct()))
    return sorted(found)


def _delivery_holds(conn: sa.Connection, store: LandingStore | None, partner_id: str, domain: str,
                    source_id: str, fmt: str | None, inbox: Path | None) -> bool:
    """Whether a raw payload of the partner's feed or a file of its inbox moved aside holds
    the record (a record never staged: its delivery failed as a whole)."""
    if store is not None and any(_pages_holding(store, sha, fmt, partner_id, source_id)
                                 for sha in _payloads_of(conn, partner_id, domain)):
        return True
    return bool(inbox is not None and _aside_files(inbox, fmt, partner_id, source_id))


def _pages_holding(store: LandingStore, sha: str, fmt: str | None, partner_id: str,
                   source_id: str) -> list[str]:
    """The bodies of the payload (itself, or a manifest's pages) that hold the record."""
    if sha not in store:
        return []
    return [page for page in store.pages(sha) or [sha]
            if page in store and _contains(store, page, fmt, partner_id, source_id)]


def _erase_payload(store: LandingStore, sha: str, fmt: str | None, partner_id: str,
                   source_id: str, now: dt.datetime) -> list[str]:
    """Erase the payload when it contains the record: a single body, or a manifest and those
    of its pages that contain it. Returns the hashes whose bytes were removed."""
    hit = _pages_holding(store, sha, fmt, partner_id, source_id)
    if not hit:
        return []
    why, when = "erased on request", now.isoformat()
    removed = [page for page in hit if store.erase(page, why, when)]
    if store.pages(sha):
        store.erase(sha, why, when)
        removed.append(sha)
    return removed


def erase_processed_files(folder: Path, fmt: str | None, partner_id: str,
                          source_id: str) -> list[Path]:
    """The files of an inbox's ``processed/`` and ``failed/`` folders (deliveries the hub
    moved aside itself) that contain the record, deleted; returns them. They are copies the
    hub keeps, as the landing store's payloads are."""
    removed = _aside_files(folder, fmt, partner_id, source_id)
    for path in removed:
        path.unlink()
    return removed


def waiting_files_holding(folder: Path, fmt: str | None, partner_id: str,
                          source_id: str) -> list[Path]:
    """The files waiting in the inbox ``folder`` (not yet processed, those still being
    uploaded too) that hold the record."""
    from hub.inbox import waiting_files

    return [path for path in waiting_files(folder, settle=0)
            if _holds(path.read_bytes(), fmt, partner_id, source_id)]


def _aside_files(folder: Path, fmt: str | None, partner_id: str, source_id: str) -> list[Path]:
    """The files of the inbox's ``processed/`` and ``failed/`` folders that hold the record."""
    from hub.inbox import files_aside

    return [path for path in files_aside(folder)
            if _holds(path.read_bytes(), fmt, partner_id, source_id)]


def _contains(store: LandingStore, sha: str, fmt: str | None, partner_id: str,
              source_id: str) -> bool:
    return _holds(store.get(sha), fmt, partner_id, source_id)


def _holds(body: bytes, fmt: str | None, partner_id: str, source_id: str) -> bool:
    """Whether ``body`` (a delivery in the format ``fmt``) holds the record: as parsed where
    it can be, else as text."""
    if fmt:
        from hub.formats import get_format

        try:
            parsed = get_format(fmt).parse(body, partner_id)
        except Exception:  # noqa: BLE001 - an unparsable payload is searched as text below
            parsed = None
        if parsed is not None:
            ids = {r.source_id for r in parsed.records}
            ids.update(r.source_id for r in parsed.rejections if r.source_id)
            ids.update(parsed.deletions)
            return source_id in ids
    variants = {source_id, json.dumps(source_id)[1:-1], _xml_escape(source_id)}
    # as a whole id: erasing A-1 must not take the file of A-10
    return any(re.search(rb"(?<![0-9A-Za-z])" + re.escape(v.encode("utf-8")) + rb"(?![0-9A-Za-z])",
                         body) for v in variants if v)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _reset_fetch_state(conn: sa.Connection, partner_id: str, domain: str, erased: set[str]) -> None:
    """The next sync fetches the feed in full (no ETag, no Last-Modified) and stages it again
    even when the partner sends the same bytes; until then a replay of the erased payload
    fails with the erasure note."""
    state = conn.execute(
        sa.select(fetch_state).where(fetch_state.c.partner_id == partner_id,
                                     fetch_state.c.domain == domain)
    ).first()
    if state is None:
        return
    if not erased & {state.content_sha256, state.staged_sha256, state.released_sha256}:
        return
    # an inbox cannot be fetched again: its delivery stays staged (the directory already
    # holds it without the erased record), and the next file dropped is staged as usual
    inbox = (state.source or "").startswith("inbox:")
    conn.execute(
        fetch_state.update()
        .where(fetch_state.c.partner_id == partner_id, fetch_state.c.domain == domain)
        .values(etag=None, last_modified=None, released_sha256=None,
                **({} if inbox else {"staged_sha256": None}))
    )
