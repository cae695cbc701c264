"""jsonld: reading schema.org JSON-LD from documents and HTML pages, and its value shapes."""

from __future__ import annotations

import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats import jsonld
from hub.formats.base import FormatError

BERLIN = ZoneInfo("Europe/Berlin")


def _page(*blocks: str, head: str = "") -> bytes:
    scripts = "\n".join(f'<script type="application/ld+json">{block}</script>' for block in blocks)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}{scripts}</head>"
        "<body><p>Stellen</p></body></html>"
    ).encode()


def _types(document: jsonld.Document) -> list[list[str]]:
    return [jsonld.types_of(node) for node in document.nodes]


# --------------------------------------------------------------------------- loading


def test_one_object():
    document = jsonld.load(b'{"@context": "https://schema.org", "@type": "JobPosting"}')
    assert _types(document) == [["JobPosting"]]
    assert document.problems == []


def test_list_of_objects_with_utf8_bom():
    data = b"\xef\xbb\xbf" + json.dumps([{"@type": "Course"}, {"@type": "Apartment"}]).encode()
    assert _types(jsonld.load(data)) == [["Course"], ["Apartment"]]


def test_graph_entries_are_the_nodes():
    document = jsonld.load(
        json.dumps(
            {"@context": "https://schema.org",
             "@graph": [{"@type": "Organization"}, {"@type": "Room"}]}
        ).encode()
    )
    assert _types(document) == [["Organization"], ["Room"]]


def test_non_object_entries_are_problems_and_null_is_ignored():
    document = jsonld.load(b'[{"@type": "Room"}, null, "Text", [3, {"@graph": [true]}]]')
    assert _types(document) == [["Room"]]
    assert document.problems == [
        "list entry 3 is a string, not an object",
        "list entry 4, list entry 1 is a number, not an object",
        "list entry 4, list entry 2, @graph entry 1 is a boolean, not an object",
    ]


def test_html_page_with_several_blocks_comments_and_other_scripts():
    page = (
        "<html><head><!-- Kommentar mit <script type='application/ld+json'>{}</script> -->"
        '<script type="application/ld+json">{"@type": "Organization", "name": "A"}</script>'
        '<script type="text/javascript">var x = "{";</script>'
        '<script type="Application/LD+JSON; charset=utf-8">\n<!--\n'
        '{"@type": "JobPosting", "title": "Köchin"}\n-->\n</script>'
        '<script type="application/ld+json">//<![CDATA[\n[{"@type": "Course"}]\n//]]></script>'
        "</head><body></body></html>"
    ).encode()
    document = jsonld.load(page)
    assert _types(document) == [["Organization"], ["JobPosting"], ["Course"]]
    assert document.nodes[1]["title"] == "Köchin"
    assert document.problems == []


def test_html_in_windows_1252_with_meta_charset():
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        '<script type="application/ld+json">{"@type": "Room", "name": "Zimmer für Gäste"}'
        "</script></head></html>"
    ).encode("cp1252")
    (node,) = jsonld.load(page).nodes
    assert node["name"] == "Zimmer für Gäste"


def test_invalid_block_is_skipped_and_reported():
    document = jsonld.load(
        _page('{"@type": "JobPosting", "title": "A"}', '{"@type": "JobPosting",')
    )
    assert _types(document) == [["JobPosting"]]
    (problem,) = document.problems
    assert problem.startswith("JSON-LD block 2 of 2: invalid JSON at line 2 column 24 of the page")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2,], "b": {"c": 1 ,\n},}', {"a": [1, 2], "b": {"c": 1}}),
        ('[{"a": "x,}"},\n]', [{"a": "x,}"}]),  # a comma in a string stays
        ('{"d": "Zeile 1\nZeile 2\tTab"}', {"d": "Zeile 1\nZeile 2\tTab"}),
    ],
)
def test_loads_reads_json_as_templates_write_it(text, expected):
    assert jsonld.loads(text) == expected


@pytest.mark.parametrize("text", ['{"a": 1,, }', "[,]", '{"a": 1 "b": 2,}', "{,}"])
def test_loads_guesses_nothing_else(text):
    with pytest.raises(json.JSONDecodeError):
        jsonld.loads(text)


def test_a_block_names_the_line_of_the_page_and_an_escaped_block_is_read():
    page = ('<html><head>\n<title>Karriere</title>\n<script type="application/ld+json">\n<!--\n'
            '{"@type": "Room",\n "name": "A"\n "x": 1}\n-->\n</script>\n'
            '<script type="application/ld+json">{&quot;@type&quot;: &quot;Room&quot;, '
            '&quot;name&quot;: &quot;Zimmer &amp;amp; Bad&quot;}</script></head></html>').encode()
    document = jsonld.load(page)
    assert [node["name"] for node in document.nodes] == ["Zimmer &amp; Bad"]
    assert document.problems == [
        "JSON-LD block 1 of 2: invalid JSON at line 7 column 2 of the page: Expecting ',' delimiter"]


@pytest.mark.parametrize("page", [
    '<html><head><title>Koch</title></head><body><div itemscope itemtype="http://schema.org/JobPosting">'
    '<h1 itemprop="title">Koch</h1><div itemprop="hiringOrganization" itemscope '
    'itemtype="https://schema.org/Organization"></div></div></body></html>',
    '<html><head><title>Koch</title></head><body vocab="https://schema.org/"><div typeof="JobPosting">'
    '<h1 property="title">Koch</h1><div property="hiringOrganization" typeof="schema:Organization">'
    "</div></div></body></html>",
])
def test_a_page_with_microdata_or_rdfa_is_told_to_add_json_ld(page):
    with pytest.raises(FormatError) as refused:
        jsonld.load(page.encode())
    assert str(refused.value) == (
        "HTML page without JSON-LD (title 'Koch'): it marks up schema.org JobPosting, Organization "
        "as Microdata or RDFa (itemtype, typeof), which the hub does not read; add the offers as "
        'JSON-LD, a <script type="application/ld+json"> block')


def test_empty_block_beside_a_usable_one_is_no_problem():
    document = jsonld.load(_page("", '{"@type": "Room"}', "<!-- -->"))
    assert (_types(document), document.problems) == ([["Room"]], [])


def test_no_usable_block_is_refused():
    with pytest.raises(FormatError, match=r"no usable JSON-LD block: JSON-LD block 1 of 2: inv"):
        jsonld.load(_page("{kaputt", "  "))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the input is empty"),
        (b"  \n\t", "the input is empty"),
        (b"Stellenangebote: keine", "invalid JSON at line 1 column 1"),
        (b'{"@type": "JobPosting"', "invalid JSON at line 1 column"),
        (b'"JobPosting"', "not JSON-LD: the top level is a string"),
        (b"42", "not JSON-LD: the top level is a number"),
        (b"\xff\xfe{\x00}\x00", "UTF-16 text, where JSON is read as UTF-8"),
        (b"<html><body><h1>Karriere</h1></body></html>", "HTML page without JSON-LD"),
        (b"<?xml version='1.0'?><openimmo/>", "HTML page without JSON-LD"),
        (b"[" * 100_000, "invalid JSON"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        jsonld.load(data)
    assert "\n" not in str(error.value)


def test_deeply_nested_block_is_fast_and_refused():
    started = time.perf_counter()
    with pytest.raises(FormatError, match="nested too deeply"):
        jsonld.load(_page("[" * 50_000 + "]" * 50_000))
    assert time.perf_counter() - started < 2


def test_deep_but_valid_nesting_does_not_exhaust_the_stack():
    value: object = {"@type": "JobPosting", "title": "tief"}
    for _ in range(900):
        value = [value]
    document = jsonld.load(json.dumps(value).encode())
    assert [found.node["title"] for found in document.find({"JobPosting"})] == ["tief"]


# --------------------------------------------------------------------------- types, find


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("JobPosting", ["JobPosting"]),
        ("https://schema.org/JobPosting", ["JobPosting"]),
        ("http://schema.org/JobPosting", ["JobPosting"]),
        ("schema:JobPosting", ["JobPosting"]),
        (["Apartment", "Product"], ["Apartment", "Product"]),
        ("jobposting", ["jobposting"]),  # case-sensitive: not a JobPosting
        (None, []),
        (7, []),
    ],
)
def test_types_of(raw, expected):
    assert jsonld.types_of({"@type": raw}) == expected


def test_find_descends_but_not_into_a_found_node():
    document = jsonld.load(
        json.dumps(
            {
                "@type": "ItemList",
                "itemListElement": [
                    {"@type": "ListItem", "item": {"@type": "Course", "name": "A",
                                                    "hasPart": {"@type": "Course", "name": "B"}}},
                    {"@type": "ListItem", "item": {"@type": "Course", "name": "C"}},
                ],
            }
        ).encode()
    )
    found = document.find({"Course"})
    assert [item.node["name"] for item in found] == ["A", "C"]
    assert [key for _, key in found[0].path] == ["itemListElement", "item"]


def test_jobposting_is_case_sensitive():
    document = jsonld.load(b'{"@type": "jobPosting"}')
    assert document.find({"JobPosting"}) == []
    assert str(document.missing("JobPosting")) == (
        "no schema.org JobPosting found (the input has: jobPosting)"
    )


def test_references_are_resolved_once_and_cycles_are_harmless():
    document = jsonld.load(
        json.dumps(
            {
                "@graph": [
                    {"@type": "WebPage", "mainEntity": {"@id": "#job"}},
                    {"@type": "JobPosting", "@id": "#job", "hiringOrganization": {"@id": "#org"},
                     "sameAs": {"@id": "#job"}},
                    {"@type": "Organization", "@id": "#org", "name": "Bäckerei Schmidt"},
                    {"@type": "Thing", "about": {"@id": "#unknown"}},
                ]
            }
        ).encode()
    )
    (found,) = document.find({"JobPosting"})  # reached twice, found once
    assert found.node["hiringOrganization"]["name"] == "Bäckerei Schmidt"
    assert found.node["sameAs"] is found.node
    assert document.nodes[3]["about"] == {"@id": "#unknown"}
    assert [key for _, key in document.referrers(found.node)] == ["mainEntity", "sameAs"]


# --------------------------------------------------------------------------- values


def test_text_and_line():
    assert jsonld.text("  Köchin  ") == "Köchin"
    assert jsonld.text(["", "B"]) == "B"
    assert jsonld.text([{"@value": "cook", "@language": "en"},
                        {"@value": "Koch", "@language": "de"}]) == "Koch"
    assert jsonld.text({"@type": "DefinedTerm", "name": "Pflege"}) == "Pflege"
    assert jsonld.text(12) == "12"
    assert jsonld.text(True) is None
    assert jsonld.text({"a": {"b": 1}}) is None
    assert jsonld.line("Maler &amp;  Lackierer\n(m/w/d)") == "Maler & Lackierer (m/w/d)"


def test_plain_text_strips_html_also_when_escaped_once_more():
    assert jsonld.plain_text("<p>Wir bieten:</p><ul><li>Urlaub</li><li>Rad</li></ul>") == (
        "Wir bieten:\n- Urlaub\n- Rad"
    )
    assert jsonld.plain_text("&lt;p&gt;Schichtarbeit &amp;amp; Wochenende&lt;/p&gt;") == (
        "Schichtarbeit & Wochenende"
    )
    assert jsonld.plain_text("Preis < 10 € & mehr") == "Preis < 10 € & mehr"


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"identifier": "A-1", "@id": "#x", "url": "https://a.example/1"}, "A-1"),
        ({"identifier": {"@type": "PropertyValue", "name": "Kennziffer", "value": 4711}}, "4711"),
        ({"identifier": [{"@type": "PropertyValue", "value": " "}, "B-2"]}, "B-2"),
        ({"@id": "https://a.example/job#1", "url": "https://a.example/job"},
         "https://a.example/job#1"),
        ({"@id": "_:b0", "url": "https://a.example/job"}, "https://a.example/job"),
        ({"name": "ohne Kennung"}, None),
    ],
)
def test_source_id_rule(node, expected):
    assert jsonld.source_id(node) == expected


def test_postal_address():
    assert jsonld.address(
        {
            "@type": "PostalAddress",
            "streetAddress": "Wilhelm-Heinrich-Straße  12a",
            "postalCode": "66564",
            "addressLocality": "Ottweiler",
            "addressRegion": "DE-SL",
            "addressCountry": {"@type": "Country", "name": "Deutschland"},
        }
    ) == {
        "street": "Wilhelm-Heinrich-Straße",
        "house_number": "12a",
        "postal_code": "66564",
        "city": "Ottweiler",
        "state": "Saarland",
        "country": "DE",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"postalCode": 6108, "addressLocality": "Halle"},
         {"postal_code": "06108", "city": "Halle"}),
        ({"postalCode": "D-66538", "addressCountry": "Germany"},
         {"postal_code": "66538", "country": "DE"}),
        ({"addressRegion": "SAARLAND", "addressCountry": "deu"},
         {"state": "Saarland", "country": "DE"}),
        ({"addressRegion": "WA", "addressCountry": "US"}, {"state": "WA", "country": "US"}),
        ({"addressRegion": "SL"}, {"state": "Saarland"}),  # ISO 3166-2 without 'DE-'
        ({"addressRegion": "nw"}, {"state": "Nordrhein-Westfalen"}),
        ({"addressCountry": "Absurdistan"}, {"country": "Absurdistan"}),
        (
            "Bahnhofstraße 21-23, 66538 Neunkirchen",
            {"street": "Bahnhofstraße", "house_number": "21-23", "postal_code": "66538",
             "city": "Neunkirchen"},
        ),
        ("66583 Spiesen-Elversberg", {"postal_code": "66583", "city": "Spiesen-Elversberg"}),
        # as careers pages write an address in one text: no comma, two lines, a name before the
        # street, the Land and the country after the town (each was refused as no postal code,
        # the Land as an invalid country)
        ("Brunnenstraße 20 66538 Neunkirchen",
         {"street": "Brunnenstraße", "house_number": "20", "postal_code": "66538",
          "city": "Neunkirchen"}),
        ("Brunnenstraße 20\n66538 Neunkirchen<br>",
         {"street": "Brunnenstraße", "house_number": "20", "postal_code": "66538",
          "city": "Neunkirchen"}),
        ("Klinikum Neunkirchen, Brunnenstraße 20, 66538 Neunkirchen, Saarland, Deutschland",
         {"street": "Brunnenstraße", "house_number": "20", "postal_code": "66538",
          "city": "Neunkirchen", "state": "Saarland", "country": "DE"}),
        ("66538 Neunkirchen, Atlantis", {"postal_code": "66538", "city": "Neunkirchen",
                                         "country": "Atlantis"}),
        # a form with one address field puts all of it into streetAddress
        ({"@type": "PostalAddress", "streetAddress": "Brunnenstraße 20, 66538 Neunkirchen",
          "addressCountry": "DE"},
         {"street": "Brunnenstraße", "house_number": "20", "postal_code": "66538",
          "city": "Neunkirchen", "country": "DE"}),
        ("irgendwo im Saarland", {}),
        ({"@type": "Place", "address": {"postalCode": "66557"}}, {"postal_code": "66557"}),
        (None, {}),
        (["a", "b"], {}),
    ],
)
def test_address_shapes(value, expected):
    assert jsonld.address(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"@type": "GeoCoordinates", "latitude": 49.35, "longitude": "7,18"},
         {"lat": 49.35, "lon": 7.18}),
        ({"latitude": 0, "longitude": 0}, None),
        ({"latitude": "nördlich", "longitude": 7.1}, None),
        ({"latitude": 49.3}, None),
        ("49.3,7.1", None),
    ],
)
def test_geo(value, expected):
    assert jsonld.geo(value) == expected


def test_place_with_address_and_geo_and_the_first_of_a_list():
    address, geo = jsonld.place(
        [
            {"@type": "Place", "address": {"postalCode": "66538", "addressLocality": "Neunkirchen"},
             "geo": {"latitude": 49.34, "longitude": 7.18}},
            {"@type": "Place", "address": {"postalCode": "66564"}},
        ]
    )
    assert address == {"postal_code": "66538", "city": "Neunkirchen"}
    assert geo == {"lat": 49.34, "lon": 7.18}
    # a Place with latitude/longitude on itself
    assert jsonld.place({"@type": "Place", "latitude": 49.1, "longitude": 7.2})[1] == {
        "lat": 49.1, "lon": 7.2
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"@type": "Organization", "name": "Stadtwerke"}, "Stadtwerke"),
        ({"@type": "Organization", "legalName": "Stadtwerke GmbH"}, "Stadtwerke GmbH"),
        ("  Bäckerei  Schmidt ", "Bäckerei Schmidt"),
        ([{"name": "Erste"}, {"name": "Zweite"}], "Erste"),
        ({"@type": "Organization"}, None),
    ],
)
def test_organisation(value, expected):
    assert jsonld.organisation(value) == expected


def test_quantity_shapes():
    salary = jsonld.quantity(
        {"@type": "MonetaryAmount", "currency": "EUR",
         "value": {"@type": "QuantitativeValue", "minValue": 3000, "maxValue": "3.500,50",
                   "unitText": "MONTH"}}
    )
    assert (salary.min, salary.max, salary.unit, salary.currency) == (
        3000, "3.500,50", "MONTH", "EUR"
    )
    size = jsonld.quantity({"@type": "QuantitativeValue", "value": 81, "unitCode": "MTK"})
    assert (size.value, size.unit) == (81, "MTK")
    assert jsonld.quantity("100000").value == "100000"
    assert jsonld.quantity({"@value": "5"}).value == "5"
    looped: dict = {"@type": "QuantitativeValue"}
    looped["value"] = looped  # a reference cycle
    assert jsonld.quantity(looped).value is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-30", dt.date(2026, 3, 30)),
        ("2026-03-30T10:00:00", dt.date(2026, 3, 30)),
        ("2026-03-31T22:30:00Z", dt.date(2026, 4, 1)),  # midnight has passed in Berlin
        ("2026-06-30T23:59:59+02:00", dt.date(2026, 6, 30)),
        ("30.03.2026", dt.date(2026, 3, 30)),
        ({"@value": "2026-03-30", "@type": "Date"}, dt.date(2026, 3, 30)),
        ("P3M", "P3M"),  # a duration is not a date
        ("PT40H", "PT40H"),
        ("2026-02-30", "2026-02-30"),
        ("ab sofort", "ab sofort"),
        ("9999-12-31T23:00:00-05:00", "9999-12-31T23:00:00-05:00"),
        (None, None),
    ],
)
def test_date(value, expected):
    assert jsonld.date(value) == expected


def test_timestamp_without_zone_is_berlin_time():
    assert jsonld.timestamp("2026-03-02T09:30:00") == dt.datetime(2026, 3, 2, 9, 30, tzinfo=BERLIN)
    assert jsonld.timestamp("2026-07-01") == dt.datetime(2026, 7, 1, tzinfo=BERLIN)
    assert jsonld.timestamp("2026-03-02T09:30:00Z").utcoffset() == dt.timedelta(0)


# --------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_format_error(data):
    try:
        jsonld.load(data)
    except FormatError as error:
        assert "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), html=st.booleans())
def test_arbitrary_text_only_raises_format_error(text, html):
    data = _page(text) if html else text.encode("utf-8", "surrogatepass")
    try:
        document = jsonld.load(data)
    except FormatError as error:
        assert "\n" not in str(error)
        return
    document.find({"JobPosting"})
    document.types()


_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_keys = st.sampled_from(
    ["@type", "@id", "@graph", "@value", "name", "address", "postalCode", "streetAddress",
     "addressCountry", "geo", "latitude", "longitude", "identifier", "value", "minValue",
     "maxValue", "unitText", "url"]
) | st.text(max_size=5)
_values = st.recursive(
    _scalars | st.sampled_from(["#a", "#b", "JobPosting", "PostalAddress", "Place"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=6),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=_values)
def test_value_helpers_never_crash(value):
    document = jsonld.load(json.dumps({"@graph": [value, {"@id": "#a", "x": value}]}).encode())
    for node in document.nodes:
        jsonld.place(node)
        jsonld.address(node)
        jsonld.organisation(node)
        jsonld.quantity(node)
        jsonld.date(node)
        jsonld.source_id(node)
        jsonld.plain_text(node)
        document.referrers(node)


def test_a_contact_point_links_its_address_and_number():
    """Pages link e-mail and phone as 'mailto:' and 'tel:': the contact holds the address and
    the number; a bare 'mailto:' is no address."""
    found = jsonld.contact({"@type": "ContactPoint", "email": "mailto:jobs@kunz.example",
                            "telephone": "tel:+49-6821-24680"})
    assert found == {"name": None, "email": "jobs@kunz.example", "phone": "+49-6821-24680",
                     "public": False}
    assert jsonld.contact({"@type": "ContactPoint", "email": "mailto:"}) is None
