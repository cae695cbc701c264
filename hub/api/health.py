"""Whether a read API process can answer: ``GET /health``, for load balancers, Kubernetes
probes and monitoring.

The answer follows the IETF draft "Health Check Response Format for HTTP APIs"
(``application/health+json``, ``status`` pass or fail): 200 while the process reaches its
database and the database's schema is the one this release was written for, 503 otherwise,
with the reason in ``output`` (a database that is down, or a schema another release
migrated: the answers of the process would be errors). It also tells when each domain of
the directory was last published, so that monitoring can see a directory that no longer
changes; an old publication does not fail the check (restarting the API would not help:
the pipeline publishes)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import sqlalchemy as sa
from pydantic import BaseModel, Field

from hub import __version__
from hub.models.vocab import Domain
from hub.config import redact_url
from hub.store.db import current_revision, head_revision, known_revision
from hub.store.tables import publications

MEDIA_TYPE = "application/health+json"


class Publication(BaseModel):
    published_at: dt.datetime = Field(description="When the domain was last published")
    entries: int = Field(description="Entries in the directory after that publication")


class Health(BaseModel):
    status: str = Field(description="pass: the process answers; fail: it cannot (see output)",
                        examples=["pass"])
    version: str = Field(description="The hub's release")
    schema_revision: str | None = Field(
        None, description="The database's schema revision (none when it cannot be read)")
    output: str | None = Field(None, description="Why the check fails")
    directory: dict[str, Publication | None] = Field(
        default_factory=dict,
        description="Per domain its last publication (null: never published)")


@lru_cache(maxsize=1)
def _expected_revision() -> str:
    return head_revision()


def check(engine: sa.Engine) -> Health:
    """The health of a read API on ``engine``: one short connection, two small queries."""
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
            newest = sa.select(sa.func.max(publications.c.id)).group_by(publications.c.domain)
            rows = conn.execute(
                sa.select(publications.c.domain, publications.c.published_at,
                          publications.c.entries)
                .where(publications.c.id.in_(newest))).all()
    except sa.exc.SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return Health(status="fail", version=__version__,
                      output=f"cannot reach the database {redact_url(str(engine.url))}: "
                             f"{first[0] if first else type(exc).__name__}")
    directory: dict[str, Publication | None] = {domain.value: None for domain in Domain}
    for row in rows:
        at = row.published_at
        if at.tzinfo is None:  # SQLite keeps UTC without its zone
            at = at.replace(tzinfo=dt.timezone.utc)
        directory[row.domain] = Publication(published_at=at, entries=row.entries)
    expected = _expected_revision()
    if revision != expected:
        return Health(status="fail", version=__version__, schema_revision=revision,
                      directory=directory,
                      output=_revision_mismatch(revision, expected))
    return Health(status="pass", version=__version__, schema_revision=revision,
                  directory=directory)


def _revision_mismatch(revision: str | None, expected: str) -> str:
    """Why a schema at ``revision`` fails the check, and what the operator does: a database a
    newer release migrated needs that release's server (this release's ``hub db`` cannot take
    it back); an older one, or one without the hub's tables, needs ``hub db``."""
    said = (f"the database has schema revision {revision or 'none'}, this release "
            f"({__version__}) is written for {expected}: ")
    if revision is not None and not known_revision(revision):
        return said + ("a newer release migrated it; serve the directory with that release "
                       "(or restore the backup taken before its hub db)")
    return said + "upgrade it with this release's hub db"
