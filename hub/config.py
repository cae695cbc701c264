"""Where the hub keeps its things. Every setting comes from the environment, with a default
that works on a fresh clone (the embedded SQLite database under ``.hub/``)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path


class SettingsError(ValueError):
    """A setting of the environment cannot be used (one line for a person)."""


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    registry_path: Path

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        home = Path(env.get("HUB_HOME") or ".hub").resolve()
        url = env.get("HUB_DATABASE_URL")
        if url is not None and not url.strip():
            # an environment file or Secret that lost its value: not the embedded database
            raise SettingsError("HUB_DATABASE_URL is set but empty; give the database URL, or "
                                "unset it for the embedded SQLite database under HUB_HOME")
        if url:
            _refuse_passing_sqlite(url)
        url = url or f"sqlite:///{home / 'hub.db'}"
        registry = Path(env.get("HUB_REGISTRY") or home / "registry.yaml")
        return cls(home=home, database_url=url, registry_path=registry)


def _refuse_passing_sqlite(url: str) -> None:
    """A SQLite HUB_DATABASE_URL that would keep the hub's data somewhere other than one file
    every command and the Dagster daemon share: in memory (gone when the command ends, with
    the directory it published and the API key it printed), or a path relative to the working
    folder ('sqlite:///tmp/hub.db' is tmp/hub.db there, where '/tmp/hub.db' was meant).
    Other URLs (unparsable, other databases) are the engine's to judge."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - make_engine says what is wrong with it
        return
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory or parsed.query.get("mode") == "memory":
        raise SettingsError(f"HUB_DATABASE_URL={url} is a SQLite database in memory, gone when the "
                            "command ends (with all it published); name a file, "
                            "sqlite:////PATH/hub.db, or unset it for the embedded database under HUB_HOME")
    if not database.startswith("file:") and not Path(database).is_absolute():
        raise SettingsError(f"HUB_DATABASE_URL={url} names {database} relative to the working "
                            "folder: each command, and the Dagster daemon, started in another folder "
                            f"would use another database; write its absolute path (four slashes: "
                            f"sqlite:////{database} is /{database})")


def redact_url(url: str) -> str:
    """A database URL fit for logs and messages: the password is replaced."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown without its credentials
        return url.split("@")[-1]


_YES = frozenset({"yes", "y", "true", "1", "on", "ja"})
_NO = frozenset({"no", "n", "false", "0", "off", "nein"})


def env_flag(env, name: str, default: bool = False, *, error: type[Exception] = ValueError) -> bool:
    """A yes/no setting from ``env`` (``default`` when unset or blank); ``error`` with a
    one-line message naming the setting for any other value (a typo must not switch a
    safeguard off)."""
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in _YES | _NO:
        raise error(f"{name} must be yes or no (1 or 0), not {raw!r}")
    return raw in _YES


def env_int(env, name: str, default: int, *, minimum: int = 0, error: type[Exception] = ValueError) -> int:
    """A whole-number setting from ``env`` (``default`` when unset or blank); ``error`` with a
    one-line message naming the setting when it is not a number or below ``minimum``."""
    return _env_number(env, name, default, int, "a whole number", minimum, error)


def env_float(env, name: str, default: float, *, minimum: float = 0.0,
              error: type[Exception] = ValueError) -> float:
    """A number setting from ``env`` (``default`` when unset or blank); ``error`` with a
    one-line message naming the setting when it is not a finite number or below ``minimum``."""
    return _env_number(env, name, default, float, "a number", minimum, error)


def _env_number(env, name, default, kind, what: str, minimum, error):
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):  # also nan and inf, which float() reads
        raise error(f"{name}={raw!r} is not {what}")
    if value < minimum:
        raise error(f"{name}={raw} must be at least {minimum:g}")
    return value
