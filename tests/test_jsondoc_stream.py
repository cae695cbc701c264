"""Reading a big JSON response as a stream (hub.formats.jsondoc.stream_object): the same
values as json.loads, wherever the decoding windows happen to end, and the same refusals."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hub.formats.jsondoc as jsondoc
from hub.formats.base import FormatError
from hub.formats.jsondoc import stream_object

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=12)


def rebuild(data: bytes, lists: tuple[str, ...]) -> dict:
    doc: dict = {}
    for key, in_list, value in stream_object(data, "a test document", lists):
        if in_list:
            doc.setdefault(key, []).append(value)
        else:
            doc[key] = value
    return doc


@settings(max_examples=300, deadline=None)
@given(head=st.dictionaries(st.text(max_size=8), values, max_size=4),
       items=st.lists(values, max_size=12), window=st.integers(1, 40),
       indent=st.sampled_from([None, 1, 3]))
def test_stream_gives_what_json_loads_gives(head, items, window, indent):
    doc = {**head, "items": items}
    data = json.dumps(doc, indent=indent, ensure_ascii=False).encode()
    old, jsondoc.WINDOW = jsondoc.WINDOW, window
    try:
        got = rebuild(data, ("items",))
    finally:
        jsondoc.WINDOW = old
    expected = json.loads(data)
    if not items:  # an empty list is a member like any other
        got.setdefault("items", [])
    assert got == expected


def test_numbers_and_words_cut_by_a_window_are_read_whole(monkeypatch):
    monkeypatch.setattr(jsondoc, "WINDOW", 3)
    data = b'{"items": [123456789, true, false, null, -1.5e10, "\xc3\xa4\xc3\xb6\xc3\xbc"], "n": 42}'
    assert rebuild(data, ("items",)) == {"items": [123456789, True, False, None, -1.5e10, "äöü"], "n": 42}


@pytest.mark.parametrize("data, message", [
    (b"", "the input is empty"),
    (b'{"items": [1, 2', "invalid JSON at line 1"),
    (b'{"items": [1, 2,]}', "invalid JSON at line 1 column 17"),
    (b'{"items": [1 2]}', "invalid JSON at line 1 column 14"),
    (b'{"a": 1}\n{"b": 2}', "invalid JSON at line 2 column 1: Extra data"),
    (b'{"items": ["\xff"]}', "not UTF-8 text (byte 12)"),
    (b'{"a": "unterminated', "Unterminated string"),
])
def test_broken_documents_are_refused_with_their_place(data, message, monkeypatch):
    monkeypatch.setattr(jsondoc, "WINDOW", 4)
    with pytest.raises(FormatError, match=re.escape(message)):
        rebuild(data, ("items",))


def test_a_top_level_that_is_not_an_object_comes_whole():
    assert list(stream_object(b"[1, 2]", "x", ("items",))) == [("", False, [1, 2])]
