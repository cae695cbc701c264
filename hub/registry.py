"""The partner registry: one YAML file that declares every partner and its feeds.

Adding a partner with a supported format is one entry here, no code. The file is validated
by pydantic; a bad entry raises :class:`RegistryError` whose message names the file, the
line (as an editor counts), the partner, the field and what is wrong.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.models import SyncMode

PARTNER_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
PartnerKind = Literal[
    "jobcenter", "employment_agency", "employer", "language_school", "education_provider",
    "municipality", "housing_company", "other",
]


class RegistryError(Exception):
    """The registry cannot be used. The message is one line for a person."""


class Feed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = Field(description="Format name as `hub formats` lists it")
    source: str = Field(description="https://..., http://..., file://... or inbox:PATH")
    mode: SyncMode = SyncMode.SNAPSHOT
    schedule: str | None = Field(None, description="Cron expression for regular syncs")
    auth_env: str | None = Field(
        None, description="Name of the environment variable holding the secret, never the secret"
    )
    auth_header: str = "Authorization"
    max_withdrawal_share: float = Field(
        0.10, ge=0, le=1, description="Hold a snapshot that would withdraw more of the records"
    )
    max_rejection_share: float = Field(
        0.50, ge=0, le=1, description="Hold a delivery with a larger share of rejected records"
    )
    max_age_days: float | None = Field(
        None, gt=0, description="Warn when the feed's content has not changed for longer"
    )
    details: str | None = Field(None, description=(
        "ba-jobsuche: the job details endpoint, {refnr} standing for the posting's reference "
        "number (e.g. https://HOST/pc/v4/jobdetails/{refnr}); fetched for every posting of "
        "the search pages: the description and fields the search lists leave out"))

    @property
    def delivers_files(self) -> bool:
        """Whether the feed's deliveries are files (an inbox folder, a file:// path), not the
        answers of a web address: a message about them does not speak of a server."""
        return self.source.startswith(("inbox:", "file://"))

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        from hub.formats import FORMATS, FormatError, get_format, near_format

        try:  # the name as `hub formats` spells it: 'OpenImmo' is openimmo
            return get_format(value).name
        except FormatError:
            near = near_format(value)
            raise ValueError(f"unknown format {value!r}"
                             + (f": write format: {near}" if near else
                                f"; known: {', '.join(sorted(FORMATS))}")) from None

    @field_validator("source")
    @classmethod
    def _source_scheme(cls, value: str) -> str:
        if not re.match(r"^(https?://[^/\s]+|file://|inbox:)", value):
            raise ValueError("must start with https://, http://, file:// or inbox:")
        if value.startswith(("http://", "https://")):
            if re.search(r"\s", value):
                raise ValueError(f"{value!r} holds a space; a web address has none")
            try:
                parts = urlsplit(value)
                parts.port  # noqa: B018 - raises for a port that is not a number
            except ValueError as exc:
                raise ValueError(f"{value!r} is not a web address ({exc})") from None
            if not parts.hostname:
                raise ValueError(f"{value!r} names no host")
        if value.startswith("file://") and urlsplit(value).netloc not in ("", "localhost"):
            raise ValueError(f"{value!r} names the host {urlsplit(value).netloc!r}: a file is "
                             "file:///absolute/path (three slashes)")
        if value.startswith("inbox:") and not Path(value.removeprefix("inbox:")).is_absolute():
            raise ValueError(f"{value!r} is a relative folder: it would depend on where each "
                             "command and the Dagster daemon run; write its absolute path")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        from hub.cadence import valid_cron

        if value is not None and not valid_cron(value):
            raise ValueError(f"{value!r} is not a cron expression (five fields, e.g. '0 6 * * *' "
                             "for 6:00 every day)")
        return value

    @field_validator("details")
    @classmethod
    def _details_template(cls, value: str | None) -> str | None:
        if value is not None and not (re.match(r"^https?://[^/\s]+", value) and "{refnr}" in value):
            raise ValueError("must be an http(s) address holding {refnr}")
        return value

    @model_validator(mode="after")
    def _details_for_ba(self) -> "Feed":
        if self.details is not None and self.format != "ba-jobsuche":
            raise ValueError(f"details: only ba-jobsuche feeds have a details endpoint, not {self.format}")
        return self

    @field_validator("auth_header")
    @classmethod
    def _header_name(cls, value: str) -> str:
        # a header copied as a request shows it ('X-API-Key: ...') failed every fetch with an
        # internal error of the HTTP library
        if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", value):
            name = re.split(r"[:\s]", value.strip(), maxsplit=1)[0]
            raise ValueError(f"{value!r} is not a header name: write the name alone, without ':', "
                             "spaces or the value (the value comes from auth_env), e.g. "
                             f"auth_header: {name or 'X-API-Key'}")
        return value

    @field_validator("auth_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[A-Z_][A-Z0-9_]*$", value):
            raise ValueError("must be the NAME of an environment variable (A-Z, 0-9, _)")
        return value

    @property
    def domain(self) -> str:
        from hub.formats import FORMATS

        return FORMATS[self.format].domain


class Partner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=PARTNER_ID)
    name: str = Field(min_length=1)
    kind: PartnerKind = "other"
    contact_email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    feedback_language: Literal["de", "en"] = Field("de", description="Language of the feedback")
    region: str | None = Field(
        None, pattern=r"^[0-9]{2,8}$", description="AGS prefix of the partner's region"
    )
    allow_private_network: bool = Field(
        False, description="Allow loopback/private feed addresses (demo and tests only)"
    )
    feeds: list[Feed] = Field(min_length=1)

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        from hub.quality.regions import unknown_region

        # every record would be ADDRESS_OUTSIDE_REGION: the partner blamed for a typo
        problem = value and unknown_region(value)
        if problem:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _one_feed_per_domain(self) -> "Partner":
        domains = [feed.domain for feed in self.feeds]
        for domain in set(domains):
            if domains.count(domain) > 1:
                raise ValueError(f"more than one feed for domain {domain!r}")
        return self

    def feed_for(self, domain: str) -> Feed | None:
        return next((feed for feed in self.feeds if feed.domain == domain), None)


def near_ids(partner_id: str, ids: list[str]) -> list[str]:
    """The ids of ``ids`` that ``partner_id`` may have been meant to be: a close one
    ('VHS-Neunkirchen', a letter missing), else those it begins or is part of (the id in
    short: 'kohlbach' for 'kohlbach-logistik', at least 3 letters)."""
    asked = partner_id.strip().lower()
    near = difflib.get_close_matches(asked, ids, n=1, cutoff=0.75)
    if not near and len(asked) >= 3:  # the id in short: 'kohlbach' for 'kohlbach-logistik'
        near = [i for i in ids if i.startswith(asked)] or [i for i in ids if asked in i]
    return near


class Registry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partners: list[Partner] = Field(default_factory=list)

    def get(self, partner_id: str) -> Partner:
        for partner in self.partners:
            if partner.id == partner_id:
                return partner
        near = self.near_ids(partner_id)
        meant = (f" (did you mean {near[0]!r}?)" if len(near) == 1 else
                 f" (did you mean one of {', '.join(map(repr, near[:5]))}"
                 f"{f' or {len(near) - 5} more' if len(near) > 5 else ''}?)" if near else "")
        raise RegistryError(f"no partner {partner_id!r} in the registry" + meant
                            + ("" if self.partners else " (it lists no partners)"))

    def near(self, partner_id: str) -> str | None:
        """The one listed id ``partner_id`` was probably meant to be, if there is one."""
        near = self.near_ids(partner_id)
        return near[0] if len(near) == 1 else None

    def near_ids(self, partner_id: str) -> list[str]:
        """The listed ids ``partner_id`` may have been meant to be (``near_ids``)."""
        return near_ids(partner_id, [partner.id for partner in self.partners])

    def partitions(self) -> dict[str, list[str]]:
        """Partner ids with a feed, per domain: the Dagster partitions."""
        out: dict[str, list[str]] = {"jobs": [], "courses": [], "housing": []}
        for partner in self.partners:
            for feed in partner.feeds:
                out[feed.domain].append(partner.id)
        return out


class _RepeatedKey(yaml.MarkedYAMLError):
    """A key written twice in one mapping: YAML loaders keep the last silently, so a steward
    who adds a new ``source:`` above the old one would go on fetching the old one."""


# libyaml's loader where PyYAML has it (same documents and errors, ~6x faster: 0.04 s against
# 0.25 s for a national registry of 500 partners)
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    def construct_mapping(self, node, deep=False):
        first: dict[str, int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag.endswith(":str"):
                if key.value in first:
                    raise _RepeatedKey(problem=(
                        f"line {key.start_mark.line + 1}: {key.value!r} is given twice in this "
                        f"entry (first on line {first[key.value] + 1}); YAML would keep the "
                        "last one silently: write it once"), problem_mark=key.start_mark)
                first[key.value] = key.start_mark.line
        return super().construct_mapping(node, deep)


def parse_registry(text: str, origin: str = "<registry>") -> Registry:
    try:
        data = yaml.load(text, Loader=_Loader)
    except _RepeatedKey as exc:
        raise RegistryError(f"{origin}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"{origin}: {_yaml_problem(exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RegistryError(f"{origin}: expected a mapping with a 'partners' list")
    try:
        registry = Registry.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(_describe(exc, data, origin, text)) from None
    seen: dict[str, int] = {}
    for index, partner in enumerate(registry.partners):
        if partner.id in seen:
            where = _line_of(text, ("partners", index, "id"))
            first = _line_of(text, ("partners", seen[partner.id], "id")).removesuffix(": ")
            raise RegistryError(
                f"{origin}: {where}partner {partner.id!r}: id: used more than once"
                + (f" (first on {first})" if first else "")
                + ": give each partner an id of its own (a partner with several feeds lists "
                "them under one entry's feeds:)")
        seen[partner.id] = index
    return registry


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """'line N is not valid YAML (...)', N as an editor counts. Where something opened on one
    line is never completed (a quote or bracket not closed, a key without its ':'), the
    parser notices it lines later: the line it began on is named."""
    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    context, began = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    unfinished = context in ("while scanning a simple key", "while parsing a flow sequence",
                             "while parsing a flow mapping") or "end of stream" in problem
    if began is not None and context and unfinished:
        mark, problem = began, f"{problem} {context}"
    tabs = "tab" in problem or "'\\t'" in problem  # YAML indents with spaces only
    return (f"{'line ' + str(mark.line + 1) + ' ' if mark else ''}is not valid YAML ({problem})"
            + (": indent with spaces, not tabs (an editor can insert spaces for the Tab key)"
               if tabs else ""))


def _line_of(text: str, loc: tuple) -> str:
    """'line N: ' of the place ``loc`` (a validation error's path: keys and list positions)
    names in the registry's text: the line of its key, or of its list item; for a field that
    is missing, the line where its entry begins. Empty where the text gives no line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return ""
    at = node
    for step in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            found = next(((key, value) for key, value in node.value if key.value == step), None)
            if found is None:
                break
            at, node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            at = node = node.value[step]
        else:
            break
    return f"line {at.start_mark.line + 1}: " if at is not None else ""


# parsed registries by text and file: every Dagster step and sensor tick reads the registry,
# and a national one took 0.25 s to parse each time. Keyed by the text itself, so an edited
# file is parsed again at once; a RegistryError is not kept (raised each time); the models are
# frozen, so the shared object cannot be changed.
_parsed = lru_cache(maxsize=8)(parse_registry)


def load_registry(path: str | Path) -> Registry:
    """The registry in the file ``path`` (read every time; parsed again only when its text
    changed since a call in this process)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(f"{path}: registry file not found") from None
    except IsADirectoryError:
        raise RegistryError(f"{path} is a folder, not the registry file: HUB_REGISTRY (or "
                            "--registry) names the file itself, e.g. "
                            f"{path / 'registry.yaml'}") from None
    except UnicodeDecodeError as exc:
        from hub.formats.base import utf16_codec

        if utf16_codec(exc.object):  # Windows editors' 'Unicode'
            raise RegistryError(f"{path}: the registry is UTF-16 text; save it as UTF-8") from None
        line = exc.object[:exc.start].count(b"\n") + 1  # an umlaut saved as Windows-1252
        raise RegistryError(f"{path}: line {line} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                            "save the registry as UTF-8") from None
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry ({exc})") from None
    return _parsed(text, str(path))


def _describe(exc: ValidationError, data: dict, origin: str, text: str = "") -> str:
    """The file and every problem: partner, field, what is wrong. One problem on one line;
    more as a line each below a count. A required field missing beside an unknown key at the
    same place that is a near miss of its name is the same mistyped key, told once (with the
    name it was probably meant to be); any other missing field is told too."""
    errors = exc.errors(include_url=False)
    meant = {(tuple(e["loc"][:-1]), _near(tuple(e["loc"]))) for e in errors
             if e["type"] == "extra_forbidden"}
    errors = [e for e in errors
              if not (e["type"] == "missing" and (tuple(e["loc"][:-1]), e["loc"][-1]) in meant)]
    problems = [_line_of(text, tuple(error["loc"])) + _problem(error, data) for error in errors]
    if len(problems) == 1:
        return f"{origin}: {problems[0]}"
    return f"{origin}: {len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems)


def _problem(error: dict, data: dict) -> str:
    loc = list(error["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "partners" and isinstance(loc[1], int):
        entries = data.get("partners") or []
        entry = entries[loc[1]] if loc[1] < len(entries) else None
        pid = entry.get("id") if isinstance(entry, dict) else None
        where = f"partner {pid!r}" if pid else f"partner #{loc[1] + 1}"
        loc = loc[2:]
    field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field" + _meant(error["loc"])
    elif error["type"] == "string_pattern_mismatch" and loc == ["id"]:
        slug = _as_id(str(error.get("input")))
        message = (f"{error.get('input')!r} is not a partner id: 2 to 63 lower-case letters, "
                   "digits and '-', " + (f"write id: {slug}" if slug else "e.g. 'vhs-neunkirchen'"))
    elif error["type"] == "string_type" and isinstance(error.get("input"), (int, float)) \
            and not isinstance(error.get("input"), bool):
        # YAML reads 10043 and 7:00 as numbers (7:00 as 420 minutes): the text needs quotes
        message = f"{message}: write it in quotes, e.g. {field.rsplit('.', 1)[-1]}: '...'"
    else:
        message = _plainly(error, str(loc[-1]) if loc else "") or message
    return ": ".join(p for p in (where, field) if p) + f": {message}"


def _as_id(text: str) -> str | None:
    """The partner id ``text`` (a name, 'Sprachschule Blies') becomes written as ids are:
    'sprachschule-blies' (None where that is no id either)."""
    text = text.lower()
    for letter, spelt in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(letter, spelt)
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug if re.match(PARTNER_ID, slug) else None


def _plainly(error: dict, key: str) -> str | None:
    """What is wrong with a value and what to write instead, where pydantic's own words
    would name a regular expression or a limit the steward cannot act on (None: its own
    words do)."""
    kind, value = error["type"], error.get("input")
    if key == "contact_email" and kind == "string_pattern_mismatch":
        return (f"{value!r} is not an e-mail address (the partner's feedback is mailed there): "
                "write one address, e.g. contact_email: stellen@partner.example")
    if key == "region" and kind == "string_pattern_mismatch":
        return (f"{value!r} is not an AGS prefix: 2, 3, 5 or 8 digits in quotes (2 a Land, 3 a "
                "Regierungsbezirk, 5 a district, 8 a municipality), e.g. region: '10043'")
    if key.endswith("_share") and kind in ("less_than_equal", "greater_than_equal",
                                           "float_parsing", "float_type"):
        percent = re.fullmatch(r"\s*(\d+(?:[.,]\d+)?)\s*%?\s*", str(value))
        number = float(percent.group(1).replace(",", ".")) if percent else None
        example = (f"{number / 100:g} for {percent.group(1)} %" if number is not None
                   and 1 < number <= 100 else "0.1 for 10 %")
        return (f"{value!r} is not a share: write a fraction between 0 and 1, e.g. {key}: "
                f"{example}")
    if kind in ("bool_parsing", "bool_type"):
        return f"{value!r} is not a yes/no value: write true or false"
    if key == "feeds" and (kind in ("too_short", "missing") or (kind == "list_type" and value is None)):
        return ("lists no feed: a partner needs at least one, '- format: ...' (see hub formats) "
                "with its 'source: ...' below")
    if kind == "missing":
        return f"missing: write '{key}: ...' in this entry" + (
            " (https://, http://, file:// or inbox:FOLDER)" if key == "source" else "")
    if kind == "string_too_short":
        return f"is empty: write '{key}: ...' with its value"
    if kind == "list_type":  # partners: or feeds: written as one entry, not a list of them
        return (f"is not a list: write each entry below '{key}:' beginning with '- ', e.g. "
                + ("'- id: ...'" if key == "partners" else "'- format: ...'"))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        first = "format" if "feeds" in error["loc"] else "id"
        return (f"{value!r} is not an entry: write its fields after the '- ', one 'key: value' a "
                f"line, e.g. '- {first}: ...'")
    return None


def _meant(loc: tuple) -> str:
    """For an unknown key at ``loc``: ' (did you mean ...?)' for a near miss, else the
    fields that place takes."""
    near = _near(loc)
    if near:
        return f" (did you mean {near!r}?)"
    other = _other_level(loc)
    if other:
        return other
    names = _fields_at(loc)
    return f" (known here: {', '.join(names)})" if names else ""


def _other_level(loc: tuple) -> str | None:
    """For an unknown key at ``loc`` that is a field of the partner written in a feed, or of
    a feed written beside the partner's id: where it belongs (an indentation away)."""
    key = str(loc[-1])
    in_feed = len(loc) >= 5 and loc[2] == "feeds"
    if in_feed and key in Partner.model_fields:
        return (": it belongs to the partner, not to a feed: indent it as the partner's id: "
                "and name: are, above or below its feeds:")
    if len(loc) == 3 and loc[0] == "partners" and key in Feed.model_fields:
        return (": it belongs to a feed: indent it below feeds:, as that feed's format: and "
                "source: are")
    return None


def _near(loc: tuple) -> str | None:
    """The field an unknown key at ``loc`` was probably meant to be, if one is close."""
    near = difflib.get_close_matches(str(loc[-1]), _fields_at(loc), n=1, cutoff=0.7)
    return near[0] if near else None


def _fields_at(loc: tuple) -> list[str]:
    """The fields the place of ``loc`` takes (none where it is no model)."""
    model: type[BaseModel] = Registry
    for step in loc[:-1]:
        if isinstance(step, int):
            continue
        info = model.model_fields.get(step)
        inner = getattr(info, "annotation", None)
        inner = (getattr(inner, "__args__", None) or (inner,))[0]
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return []
        model = inner
    return list(model.model_fields)


def partition_changes(
    registry: Registry, existing: dict[str, list[str]]
) -> dict[str, tuple[list[str], list[str]]]:
    """Per domain: (partition keys to add, partition keys to delete) so that the Dagster
    partitions match the registry."""
    wanted = registry.partitions()
    out: dict[str, tuple[list[str], list[str]]] = {}
    for domain, keys in wanted.items():
        have = set(existing.get(domain, []))
        add = sorted(set(keys) - have)
        remove = sorted(have - set(keys))
        out[domain] = (add, remove)
    return out
