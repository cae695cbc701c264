"""API keys: who may read what, and how often.

A key is shown once, when it is created; the database keeps only its SHA-256 and a short
prefix (to name it in ``hub keys list`` and ``hub keys revoke``). Scopes:

- ``read``: the directory and the change feed (needed only where the server requires keys,
  ``HUB_API_REQUIRE_KEYS=1``; otherwise anyone may read)
- ``contacts``: entries include the contact person (``contact``); implies ``read``
- ``feedback``: the feedback page of the key's own partner (the key is bound to a partner)
- ``steward``: the feedback pages of all partners
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

import sqlalchemy as sa

from hub.store.tables import api_keys

SCOPES = ("read", "contacts", "feedback", "steward")
READ_SCOPES = frozenset({"read", "contacts"})
KEY_PREFIX = "hub_"
PREFIX_LEN = 12  # "hub_" and 8 characters of the key
PARTNER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


class ApiKeyError(Exception):
    """A key cannot be created or revoked; the message is one line for a person."""


@dataclass(frozen=True)
class ApiKey:
    id: int
    prefix: str
    name: str
    scopes: frozenset[str]
    partner_id: str | None
    rate_limit: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    @property
    def can_read(self) -> bool:
        return bool(self.scopes & READ_SCOPES)

    def may_see_feedback(self, partner_id: str) -> bool:
        if "steward" in self.scopes:
            return True
        return "feedback" in self.scopes and self.partner_id == partner_id


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _row_to_key(row) -> ApiKey:
    return ApiKey(
        id=row.id, prefix=row.prefix, name=row.name,
        scopes=frozenset(row.scopes.split()), partner_id=row.partner_id,
        rate_limit=row.rate_limit, created_at=row.created_at, revoked_at=row.revoked_at,
    )


MAX_RATE_LIMIT = 1_000_000  # requests per minute; the column is a 32-bit integer


NAME_MAX = 200  # characters of a key's name: who or what uses it


def create_key(
    engine: sa.Engine, *, name: str, scopes: list[str] | tuple[str, ...],
    partner_id: str | None = None, rate_limit: int | None = None,
    now: dt.datetime | None = None,
) -> tuple[str, ApiKey]:
    """A new key; returns (the key itself, shown only now, and its record)."""
    name = (name or "").strip()
    if not name:
        raise ApiKeyError("a key needs a --name")
    if any(not char.isprintable() for char in name) or len(name) > NAME_MAX:
        # a line break or control character would break the table of hub keys list
        raise ApiKeyError(f"--name is one line of at most {NAME_MAX} characters, without line "
                          "breaks or control characters: who or what uses the key, e.g. "
                          "'Portal Landkreis'")
    wanted = sorted(set(scopes))
    if not wanted:
        raise ApiKeyError(f"a key needs at least one --scope ({', '.join(SCOPES)})")
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown:
        raise ApiKeyError(f"unknown scope {unknown[0]!r}; use {', '.join(SCOPES)}")
    if partner_id is not None and not PARTNER_ID.match(partner_id):
        raise ApiKeyError(f"{partner_id!r} is not a partner id (2 to 63 lowercase letters, digits "
                          "and hyphens, starting with a letter or digit)")
    if "feedback" in wanted and partner_id is None:
        raise ApiKeyError("scope feedback needs --partner: the key reads that partner's feedback only")
    if partner_id is not None and "feedback" not in wanted:
        raise ApiKeyError("--partner goes with the scope feedback only (the other scopes read "
                          "every partner's entries)")
    if rate_limit is not None and not 1 <= rate_limit <= MAX_RATE_LIMIT:
        raise ApiKeyError(f"--rate-limit must be 1 to {MAX_RATE_LIMIT:,} requests per minute")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = now or dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        key_id = conn.execute(
            api_keys.insert()
            .values(prefix=key[:PREFIX_LEN], key_hash=hash_key(key), name=name,
                    scopes=" ".join(wanted), partner_id=partner_id, rate_limit=rate_limit,
                    created_at=now, revoked_at=None)
            .returning(api_keys.c.id)
        ).scalar_one()
        row = conn.execute(sa.select(api_keys).where(api_keys.c.id == key_id)).one()
    return key, _row_to_key(row)


def list_keys(engine: sa.Engine) -> list[ApiKey]:
    with engine.connect() as conn:
        return [_row_to_key(r) for r in conn.execute(sa.select(api_keys).order_by(api_keys.c.id))]


def revoke_key(engine: sa.Engine, prefix: str, now: dt.datetime | None = None) -> ApiKey:
    """Revoke the one active key whose prefix starts with ``prefix``."""
    prefix = (prefix or "").strip()
    if len(prefix) < 6:
        raise ApiKeyError("give the key's prefix as `hub keys list` shows it (at least 6 characters)")
    now = now or dt.datetime.now(dt.timezone.utc)
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with engine.begin() as conn:
        rows = conn.execute(
            sa.select(api_keys).where(
                api_keys.c.revoked_at.is_(None),
                sa.or_(api_keys.c.prefix.like(pattern, escape="\\"),
                       # the whole key given: its first characters are the prefix
                       api_keys.c.prefix == prefix[:PREFIX_LEN]),
            )
        ).all()
        if len(prefix) > PREFIX_LEN:
            rows = [r for r in rows if r.key_hash == hash_key(prefix) or r.prefix == prefix]
        if not rows:
            raise ApiKeyError(f"no active key with prefix {prefix!r}")
        if len(rows) > 1:
            raise ApiKeyError(f"{len(rows)} active keys start with {prefix!r}; give more characters")
        conn.execute(api_keys.update().where(api_keys.c.id == rows[0].id).values(revoked_at=now))
        row = conn.execute(sa.select(api_keys).where(api_keys.c.id == rows[0].id)).one()
    return _row_to_key(row)


def lookup_key(engine: sa.Engine, key: str) -> ApiKey | None:
    """The active key ``key``, or None (unknown or revoked)."""
    if not key or len(key) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(api_keys).where(api_keys.c.key_hash == hash_key(key))
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    return _row_to_key(row)


# --------------------------------------------------------------------------- rate limits


@dataclass
class _Window:
    start: float
    count: int = 0


@dataclass
class RateLimiter:
    """Fixed one-minute windows per client (a key, or an address), in memory: each process
    counts for itself. ``hit`` returns 0 when the request may pass, else the seconds until
    the client's window ends (for Retry-After)."""

    window: float = 60.0
    clock: callable = time.monotonic
    _windows: dict[str, _Window] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, client: str, limit: int) -> int:
        if limit <= 0:
            return 0
        now = self.clock()
        with self._lock:
            current = self._windows.get(client)
            if current is None or now - current.start >= self.window:
                if len(self._windows) > 100_000:
                    self._prune(now)
                current = self._windows[client] = _Window(start=now)
            if current.count >= limit:
                return max(1, math.ceil(current.start + self.window - now))
            current.count += 1
            return 0

    def _prune(self, now: float) -> None:
        for client in [c for c, w in self._windows.items() if now - w.start >= self.window]:
            del self._windows[client]

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
