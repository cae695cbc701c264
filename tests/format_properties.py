"""Shared pieces of the property tests of the format adapters: whatever the input, a parser
either returns a consistent result or raises a one-line FormatError."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hypothesis import strategies as st

from hub.formats import FormatError, ParseResult
from hub.quality.rules import RULES

Parse = Callable[[bytes, str], ParseResult]


def parse_or_refuse(parse: Parse, data: bytes, partner_id: str) -> ParseResult | None:
    """The parse result, checked; None when the input was refused with a one-line message."""
    try:
        result = parse(data, partner_id)
    except FormatError as error:
        assert "\n" not in str(error)
        return None
    assert result.items >= len(result.records)
    assert all(rejection.rule in RULES for rejection in result.rejections)
    assert all(rejection.partner_id == partner_id for rejection in result.rejections)
    return result


DELIMITERS = st.sampled_from([";", ","])
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])


def csv_rows(examples: Sequence[str]) -> st.SearchStrategy[list[list[str]]]:
    """Rows of any short texts, or of the template's typical (good and bad) cell values."""
    cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
        [*examples, '"', ""]
    )
    return st.lists(st.lists(cells, max_size=10), max_size=6)


def template_csv(columns: Sequence[str], rows: list[list[str]], delimiter: str, encoding: str):
    """A template file: the header and the rows, encoded as a partner's program would."""
    text = "\n".join([delimiter.join(columns), *(delimiter.join(row) for row in rows)])
    return text.encode(encoding, "replace")


def json_values(keys: Sequence[str]) -> st.SearchStrategy[object]:
    """JSON values whose objects use the response's own keys (and some others)."""
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(list(keys)) | st.text(max_size=6), inner, max_size=6),
        max_leaves=30,
    )
