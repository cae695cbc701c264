"""The shared readers of the format adapters: single values (hub.formats.values), the CSV
template reader (hub.formats.csvtemplate), JSON loading (hub.formats.jsondoc) and
build_record in hub.formats.base."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hub.formats import values as v
from hub.formats.base import FormatError, Invalid, ParseResult, build_record
from hub.formats.csvtemplate import CsvTemplate, common_fields, decode, normalise_header, rows
from hub.formats.jsondoc import each_object, kind, load_json
from hub.models import CourseOffer

BERLIN = ZoneInfo("Europe/Berlin")

# --------------------------------------------------------------------------- text


def test_compact_drops_none_at_every_depth():
    assert v.compact({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}, None], "g": 0}) == {
        "b": {"d": 1}, "e": [{}, None], "g": 0,
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("  x ", "x"), ("   ", None), ("", None), (12, "12"), (1.5, "1.5"),
     (True, True), ([1], [1])],
)
def test_text(value, expected):
    assert v.text(value) == expected


def test_as_dict_and_enum_key():
    assert v.as_dict({"a": 1}) == {"a": 1}
    assert v.as_dict([1]) == {} and v.as_dict(None) == {}
    assert v.enum_key(" Baden-Württemberg ") == "BADEN_WUERTTEMBERG"
    assert v.enum_key("Thüringen") == "THUERINGEN"
    assert v.enum_key("") is None and v.enum_key(3) is None


def test_plain_text_from_ba_html():
    html = (
        "<h4> Der Lehrgang </h4><br/><br/><p>Zeile&nbsp;eins<br/>Zeile &amp; zwei</p>"
        "<ul><li>Punkt A</li><li> Punkt B </li></ul><p></p>"
    )
    assert v.plain_text(html) == "Der Lehrgang\nZeile eins\nZeile & zwei\n- Punkt A\n- Punkt B"
    assert v.plain_text("<p> </p>") is None
    assert v.plain_text(None) is None


def test_escaped_tags_in_real_html_stay_text():
    """Markup escaped once more is read as markup, but only where the text has none of its
    own: in a real HTML text an escaped tag is what the text says."""
    assert v.plain_text("<p>Sie kennen HTML (&lt;div&gt;, &lt;table&gt;) und CSS.</p>") == \
        "Sie kennen HTML (<div>, <table>) und CSS."
    assert v.plain_text("&lt;p&gt;Erste Zeile&lt;/p&gt;&lt;ul&gt;&lt;li&gt;eins&lt;/li&gt;&lt;/ul&gt;") == \
        "Erste Zeile\n- eins"
    assert v.plain_text("ohne Tags") == "ohne Tags"


def test_plain_text_from_html_escaped_once_more():
    """Some content systems write a description's HTML escaped into JSON-LD: the reader
    sees the text, not '<p>' and '<li>'; angle brackets that are no markup stay."""
    escaped = "&lt;p&gt;Wir suchen &lt;b&gt;Sie&lt;/b&gt; &amp;amp; Ihr Team.&lt;/p&gt;&lt;ul&gt;&lt;li&gt;TVöD&lt;/li&gt;&lt;/ul&gt;"
    assert v.plain_text(escaped) == "Wir suchen Sie & Ihr Team.\n- TVöD"
    assert v.plain_text("Gehalt &lt; 3.000 €, Team &gt; 10") == "Gehalt < 3.000 €, Team > 10"


def test_phone_joins_area_code_and_number():
    assert v.phone("0800", "7330733") == "0800 7330733"
    assert v.phone(" 06821 ", "91234-12") == "06821 91234-12"
    assert v.phone(None, "7330733") == "7330733"
    assert v.phone("06821", None) == "06821"
    assert v.phone(None, "") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("www.vhs.example/kurs", "https://www.vhs.example/kurs"),
     ("WWW.vhs.example", "https://WWW.vhs.example"),
     ("https://vhs.example", "https://vhs.example"),
     ("Bewerbung per Post", "Bewerbung per Post"),
     (" ", None), ("ottweiler.de/wohnen", "https://ottweiler.de/wohnen"),
     ("ottweiler.de", "https://ottweiler.de"), ("Link: https://ottweiler.de/x", "https://ottweiler.de/x"),
     ("1.5", "1.5"), ("siehe ottweiler.de", "siehe ottweiler.de")],
)
def test_web_url(value, expected):
    assert v.web_url(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("wohnen@ottweiler.de", "wohnen@ottweiler.de"), ("wohnen @ottweiler.de", "wohnen@ottweiler.de"),
     ("mailto:wohnen@ottweiler.de", "wohnen@ottweiler.de"), ("wohnen(at)ottweiler.de", "wohnen@ottweiler.de"),
     ("a@x.de; b@x.de", "a@x.de"), ("wohnen@ottweiler.de.", "wohnen@ottweiler.de"),
     ("kaputt", "kaputt"), ("a@@x", "a@@x"), (None, None), ("mailto:", None),
     # as a mail program copies it, with the name before
     ("Anna Weber <a.weber@vhs-nk.de>", "a.weber@vhs-nk.de"),
     ('"Weber, Anna" <a.weber@vhs-nk.de>', "a.weber@vhs-nk.de"),
     ("E-Mail: a.weber@vhs-nk.de", "a.weber@vhs-nk.de"), ("Mail: info(at)vhs-nk.de", "info@vhs-nk.de"),
     # no address: nothing to check, nothing to publish
     ("keine", None), ("nicht vorhanden", None), ("-", None), ("k.A.", None),
     # brackets without an address in them: as written, for the check that names it
     ("Anna <a.weber>", "Anna <a.weber>")],
)
def test_email_address(value, expected):
    assert v.email_address(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Tel. 06824 3090", "06824 3090"), ("06824 3090 (Mo-Fr 8-12 Uhr)", "06824 3090"),
     ("06824 3090 / 0170 1234567", "06824 3090"), ("06824.3090", "06824 3090"),
     ("(06824) 3090", "(06824) 3090"), ("06824/3090", "06824/3090"), ("Telefon: 06824-3090", "06824-3090"),
     ("+49 6824 3090", "+49 6824 3090"), (None, None), ("tel:+49-6821-123456", "+49-6821-123456"),
     ("keine", None), ("Keine", None), ("nicht vorhanden", None), ("-", None), ("k.A.", None),
     # a spaced slash after the area code alone is the number's own, not a second number
     ("06821 / 12345", "06821 / 12345"), ("0 68 21 / 12 34-5", "0 68 21 / 12 34-5"),
     ("+49 6821 / 12345", "+49 6821 / 12345"), ("Tel.: 06821 / 123 45", "06821 / 123 45"),
     ("06821 / 12345 / 0170 1234567", "06821 / 12345"), ("(06821) / 12345", "(06821) / 12345")],
)
def test_phone_number(value, expected):
    assert v.phone_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("66538", "66538"), ("D-66538", "66538"), ("DE-66538", "66538"), ("D-6653", "D-6653"), (1067, "01067")],
)
def test_postal_code(value, expected):
    assert v.postal_code(value) == expected


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("value", "expected"),
    [("ja", True), ("JA", True), ("x", True), ("1", True), ("yes", True), ("nein", False),
     ("N", False), ("0", False), (None, None), ("", None), ("vielleicht", "vielleicht"),
     (True, True), (False, False), ("ja, kostenlos", True), ("Ja (BAMF)", True),
     ("nein - leider nicht", False), ("jahrelang", "jahrelang"), ("ja-nein", "ja-nein"),
     ("WAHR", True), ("FALSCH", False),
     # ticks and crosses from a form or a spreadsheet's symbols (were refused as invalid)
     ("✓", True), ("✔", True), ("☑", True), ("☒", True), ("✗", False), ("☐", False)],
)
def test_yes_no(value, expected):
    assert v.yes_no(value) == expected


def test_yes_no_with_own_words():
    strict = (frozenset({"true", "1"}), frozenset({"false", "0"}))
    assert v.yes_no("true", *strict) is True
    assert v.yes_no("ja", *strict) == "ja"


TABLE = {"vollzeit": "full_time", "abends": "evening", "mini-job": "mini"}


def test_choice():
    assert v.choice("Vollzeit", TABLE) == "full_time"
    assert v.choice("FULL_TIME", TABLE) == "full_time"  # canonical values pass
    assert v.choice("Vormittags", TABLE) == "Vormittags"
    assert v.choice(" ", TABLE) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Vollzeit, abends", ["full_time", "evening"]),
     ("Vollzeit / Abends + vollzeit", ["full_time", "evening"]),
     ("Vollzeit und Abends", ["full_time", "evening"]),
     ("Mini-Job", ["mini"]),
     ("Vollzeit; Vormittags", ["full_time", "Vormittags"]),
     (None, None)],
)
def test_choices(value, expected):
    assert v.choices(value, TABLE) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("DEUTSCHLAND", "DE"), ("Deutschland", "DE"), ("de", "DE"), ("DEU", "DE"), ("D", "DE"),
     ("OESTERREICH", "AT"), ("Österreich", "AT"), ("AUT", "AT"), ("A", "AT"), ("CHE", "CH"),
     ("Atlantis", "Atlantis"), (None, None)],
)
def test_country_code(value, expected):
    assert v.country_code(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("SAARLAND", "Saarland"), ("SAA", "Saarland"), ("THÜ", "Thüringen"),
     ("NORDRHEIN_WESTFALEN", "Nordrhein-Westfalen"), ("NDS", "Niedersachsen"),
     ("Rheinland-Pfalz", "Rheinland-Pfalz"), ("UEBERREGIONAL", "Ueberregional"), (None, None)],
)
def test_state_name(value, expected):
    assert v.state_name(value) == expected


def test_postal_code_and_geo_point():
    assert v.postal_code(6108) == "06108"
    assert v.postal_code(" 66538 ") == "66538"
    assert v.postal_code(True) is True
    assert v.geo_point(49.3, 7.1) == {"lat": 49.3, "lon": 7.1}
    assert v.geo_point(0, 0) is None  # exporters' 'unknown'
    assert v.geo_point(None, 7.1) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Hüttenbergstraße 42", ("Hüttenbergstraße", "42")),
     ("Am Zoo 5a", ("Am Zoo", "5a")),
     ("Zum Hirtenberg 3 b", ("Zum Hirtenberg", "3b")),
     ("Lindenallee 8-10", ("Lindenallee", "8-10")),
     ("Neumärkter Straße 1a-3", ("Neumärkter Straße", "1a-3")),
     ("Schachtweg 1", ("Schachtweg", "1")),
     ("Wilhelm-Heinrich-Straße", ("Wilhelm-Heinrich-Straße", None)),
     ("Straße des 13. Januar 7", ("Straße des 13. Januar", "7")),
     ("Bahnhofstr.12", ("Bahnhofstr.", "12")), ("Bahnhofstraße 12, 2. OG", ("Bahnhofstraße", "12")),
     ("Hauptstraße, 12", ("Hauptstraße", "12")), ("Am Markt, Eingang B", ("Am Markt, Eingang B", None)),
     (None, (None, None))],
)
def test_split_street(value, expected):
    assert v.split_street(value) == expected


# --------------------------------------------------------------------------- levels


@pytest.mark.parametrize(
    ("value", "expected"),
    [("A1-B1", ["A1", "A2", "B1"]), ("A2, B1", ["A2", "B1"]), ("b1/a2", ["A2", "B1"]),
     ("A1.1-A1.2", ["A1"]), ("A2 bis B1", ["A2", "B1"]), ("B3", ["B3"]), ("B1-A1", ["B1-A1"]),
     (None, None), ("A1\r\nA2", ["A1", "A2"]),
     ("A1 - A2 - B1", ["A1", "A2", "B1"]), ("von A2 bis B1", ["A2", "B1"]), ("ab A2", ["A2"]),
     ("bis B1", ["B1"]), ("Niveau: ab B1", ["B1"]), ("B1 - A2 - A1", ["B1 - A2 - A1"]),
     ("A1 - A2 - X9", ["A1 - A2 - X9"]), ("Abitur", ["Abitur"])],
)
def test_cefr_levels(value, expected):
    assert v.cefr_levels(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("B1", "B1"), ("b2", "B2"), ("B1.2", "B1"), ("keine", None), ("Keine Angabe", None),
     ("gut", "gut"), ("A2-B1", "A2"), ("B1/A2", "A2"), ("B1-A1", "B1-A1"), (None, None),
     ("ab B1", "B1")],
)
def test_cefr_level(value, expected):
    assert v.cefr_level(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Integrationskurs mit Kinderbetreuung (A1-B1)", ["A1", "A2", "B1"]),
     ("Berufsbezogene Deutschsprachförderung DeuFöV - B2 - allgemein", ["B2"]),
     ("Deutsch A2/B1 Teil 2", ["A2", "B1"]),
     ("Deutsch A1.1 bis A2.2", ["A1", "A2"]),
     ("C++ und Scrum Master", []),
     ("MB1 Modul, b1 klein", []),
     (None, [])],
)
def test_levels_in_text(value, expected):
    assert v.levels_in_text(value) == expected


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [("02.03.2026", dt.date(2026, 3, 2)), ("2.3.2026", dt.date(2026, 3, 2)),
     ("2026-03-02", dt.date(2026, 3, 2)), ("2026-03-02T10:15:00", dt.date(2026, 3, 2)),
     ("31.02.2026", "31.02.2026"), ("2026-13-01", "2026-13-01"), ("20260302", "20260302"),
     ("demnächst", "demnächst"), (None, None),
     # as spreadsheets write a date cell in their other formats
     ("02.03.26", dt.date(2026, 3, 2)), ("2. März 2026", dt.date(2026, 3, 2)),
     ("Montag, 2. März 2026", dt.date(2026, 3, 2)), ("02. Okt. 2026", dt.date(2026, 10, 2)),
     ("02.03.2026 08:30", dt.date(2026, 3, 2)), ("02.03.2026, 8:30 Uhr", dt.date(2026, 3, 2)),
     ("31.02.26", "31.02.26"), ("März 2026", "März 2026"), ("2. Foo 2026", "2. Foo 2026"),
     ("Sa., 2. Mai 2026", dt.date(2026, 5, 2)),
     # only a weekday may come before the day: 'vor 2. März' is no date
     ("vor 2. März 2026", "vor 2. März 2026"), ("bis 2. März 2026", "bis 2. März 2026"),
     # a weekday around a numeric date, other separators (day first), a short year with a time
     ("Mo, 02.03.2026", dt.date(2026, 3, 2)), ("Montag, 02.03.2026", dt.date(2026, 3, 2)),
     ("02.03.2026 (Mo)", dt.date(2026, 3, 2)), ("02-03-2026", dt.date(2026, 3, 2)),
     ("02/03/2026", dt.date(2026, 3, 2)), ("02. 03. 2026", dt.date(2026, 3, 2)),
     ("02.03.26 14:05", dt.date(2026, 3, 2)), ("02/13/2026", "02/13/2026"), ("Mo", "Mo"),
     ("2026-02-30", "2026-02-30"),
     # a date column formatted as a number: the spreadsheet's day number (days since 1899-12-30)
     ("46082", dt.date(2026, 3, 1)), ("46082,5", dt.date(2026, 3, 1)), (46082, dt.date(2026, 3, 1)),
     ("36526", dt.date(2000, 1, 1)), ("36525", "36525"), ("73051", "73051"), ("12345", "12345"),
     # the month's short name without spaces, and a spreadsheet's 'd-mmm-yy' (German or English)
     ("1.Mrz.2027", dt.date(2027, 3, 1)), ("01-Mar-2027", dt.date(2027, 3, 1)),
     ("1-Mrz-27", dt.date(2027, 3, 1)), ("15-Dec-2026", dt.date(2026, 12, 15)),
     ("3 Zimmer 2027", "3 Zimmer 2027"), ("31-Feb-2027", "31-Feb-2027"),
     # English: the month named first, an ordinal day, an English weekday
     ("March 1, 2027", dt.date(2027, 3, 1)), ("Mar. 1 2027", dt.date(2027, 3, 1)),
     ("September 30th, 2027", dt.date(2027, 9, 30)), ("1st March 2027", dt.date(2027, 3, 1)),
     ("Monday, March 1, 2027", dt.date(2027, 3, 1)), ("Mon, 1 March 2027", dt.date(2027, 3, 1)),
     ("Mai 3, 2027", dt.date(2027, 5, 3)), ("February 30, 2027", "February 30, 2027"),
     ("March 1, 27", "March 1, 27"), ("Zimmer 3, 2027", "Zimmer 3, 2027"),
     ("vor März 2, 2026", "vor März 2, 2026"),
     # an instant with its zone is its day in Berlin (a form's UTC export of a course starting
     # on 7 June was read as 6 June, and the course as another than the BA's); without a zone
     # the day as written
     ("2027-06-06T22:00:00Z", dt.date(2027, 6, 7)), ("2027-06-06T22:00:00+00:00", dt.date(2027, 6, 7)),
     ("2027-06-06T22:00:00+02:00", dt.date(2027, 6, 6)), ("2027-06-06T22:00:00", dt.date(2027, 6, 6)),
     ("2027-01-10T23:30:00.000Z", dt.date(2027, 1, 11))],
)
def test_date_value(value, expected):
    assert v.date_value(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-02-01", dt.datetime(2026, 2, 1, tzinfo=BERLIN)),
     ("01.02.2026", dt.datetime(2026, 2, 1, tzinfo=BERLIN)),
     ("03.02.2026 14:30", dt.datetime(2026, 2, 3, 14, 30, tzinfo=BERLIN)),
     ("2026-09-14T07:57:38.033", dt.datetime(2026, 9, 14, 7, 57, 38, 33000, tzinfo=BERLIN)),
     ("2026-09-14T05:57:38+00:00", dt.datetime(2026, 9, 14, 5, 57, 38, tzinfo=dt.timezone.utc)),
     ("2026-02-30 10:00", "2026-02-30 10:00"), ("gestern", "gestern"), (None, None),
     ("03.02.26 14:30", dt.datetime(2026, 2, 3, 14, 30, tzinfo=BERLIN)),
     ("03.02.2026 14:30 Uhr", dt.datetime(2026, 2, 3, 14, 30, tzinfo=BERLIN)),
     ("46082", dt.datetime(2026, 3, 1, tzinfo=BERLIN)),
     ("46082,75", dt.datetime(2026, 3, 1, 18, 0, tzinfo=BERLIN))],
)
def test_timestamp(value, expected):
    assert v.timestamp(value) == expected


def test_timestamp_local_time_follows_summer_time():
    assert v.timestamp("2026-01-15 12:00").utcoffset() == dt.timedelta(hours=1)
    assert v.timestamp("2026-07-15 12:00").utcoffset() == dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("ab 01.05.2026", dt.date(2026, 5, 1)), ("frühestens 2026-04-15", dt.date(2026, 4, 15)),
     ("31.02.2026 oder 01.03.2026", dt.date(2026, 3, 1)), ("sofort", None), (None, None),
     ("frei ab 1. Mai 2026", dt.date(2026, 5, 1)), ("ab dem 15. Juni 2027 nach Absprache",
                                                    dt.date(2027, 6, 15)),
     ("Baujahr 1998, saniert", None), ("frei ab März 2028", dt.date(2028, 3, 1)),
     ("renoviert im März 2025, frei ab sofort", None),
     ("frei ab 1. Mai 2026 (Besichtigung 20.04.2026)", dt.date(2026, 5, 1)),
     ("ab 01.05.27", dt.date(2027, 5, 1)), ("frei ab 1.5.27.", dt.date(2027, 5, 1)),
     ("Tel. 0681.12.345", None), ("Version 1.2.3.4", None),
     ("available from March 1, 2027", dt.date(2027, 3, 1)),
     ("frei ab 1st April 2027, Besichtigung nach Absprache", dt.date(2027, 4, 1)),
     ("Haus 3, 2027 renoviert", None)],
)
def test_date_in_text(value, expected):
    assert v.date_in_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("März 2028", dt.date(2028, 3, 1)), ("ab Mai 2027", dt.date(2027, 5, 1)),
     ("Anfang Okt. 2027", dt.date(2027, 10, 1)), ("03/2028", dt.date(2028, 3, 1)),
     ("2028-03", dt.date(2028, 3, 1)), ("13/2028", None), ("2028-00", None),
     ("Mitte März 2028", None), ("März", None), ("1. März 2028", None), ("Montag 2028", None),
     ("01.03.2028", None), (None, None)],
)
def test_month_start(value, expected):
    """A month named without its day is read as its first day; what is more or less than a
    month and its year is not."""
    assert v.month_start(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("März 2028", dt.date(2028, 3, 31)), ("Ende Februar 2028", dt.date(2028, 2, 29)),
     ("bis Ende Dez. 2027", dt.date(2027, 12, 31)), ("spätestens 04/2028", dt.date(2028, 4, 30)),
     ("ab März 2028", None), ("Anfang März 2028", None), ("Mitte März 2028", None),
     ("31.03.2028", None), (None, None)],
)
def test_month_end(value, expected):
    assert v.month_end(value) == expected


def test_epoch_millis_in_berlin_time():
    # 2023-07-16T22:00:00Z is local midnight of 17 July (CEST)
    assert v.epoch_millis(1689544800000) == dt.datetime(2023, 7, 17, tzinfo=BERLIN)
    assert v.epoch_millis_date(1689544800000) == dt.date(2023, 7, 17)
    # 2024-03-16T23:00:00Z is local midnight of 17 March (CET)
    assert v.epoch_millis_date(1710630000000) == dt.date(2024, 3, 17)
    assert v.epoch_millis_date("1647990000000") == dt.date(2022, 3, 23)  # strings of digits
    assert v.epoch_millis_date(1689544800000.0) == dt.date(2023, 7, 17)
    assert v.epoch_millis_date(None) is None
    assert v.epoch_millis_date("demnächst") == "demnächst"
    assert v.epoch_millis_date(True) is True
    assert v.epoch_millis(10**17) == 10**17  # beyond the calendar: passed on, not raised


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "expected"),
    [("650", 650), ("650.50", 650.5), ("650,50", 650.5), ("1.234,56", 1234.56),
     ("1.234", 1234), ("1 234", 1234), ("-1.500", -1500), (12, 12.0), (2.5, 2.5),
     # both separators: the last one is the decimal separator, whichever it is
     ("2,450.00", 2450), ("1,234,567.5", 1234567.5),
     ("auf Anfrage", "auf Anfrage"), ("inf", "inf"), ("nan", "nan"), (None, None)],
)
def test_number(value, expected):
    assert v.number(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("B1+", ["B1"]), ("GER B2", ["B2"]), ("Niveau B1", ["B1"]), ("Stufe b2", ["B2"]),
    ("Fortgeschrittene (B2)", ["B2"]), ("Niveau A2 - B1", ["A2", "B1"]),
    ("Sprachniveau", ["Sprachniveau"]), ("B3", ["B3"]), ("B2-A1", ["B2-A1"]),
])
def test_levels_as_people_write_them_in_a_level_field(value, expected):
    assert v.cefr_levels(value) == expected


def test_a_level_with_a_plus_in_a_title_counts():
    assert v.levels_in_text("Deutschkurs GER B1+") == ["B1"]
    assert v.levels_in_text("C++ für Einsteiger") == []


def test_number_keeps_what_it_cannot_hold():
    assert v.number(10**400) == 10**400
    assert v.number(True) is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0", 0), ("kostenlos", 0), ("Gratis", 0), ("120,50", 120.5), ("1.250,00 €", 1250),
     ("150,- EUR", 150), ("99.90", 99.9), ("13,90 Euro", 13.9),
     ("nach Vereinbarung", "nach Vereinbarung"), (None, None), ("3.000 € brutto", 3000),
     ("450 € zzgl. NK", 450), ("2.800 € brutto pro Monat", 2800), ("450,- € mtl.", 450),
     ("14,50 €/Std.", "14,50 €/Std."), ("450 kalt", "450 kalt"), ("450 € + NK", 450),
     ("450.-", 450), ("450 €/Mon.", 450), ("450 € p.M.", 450), ("450 € brutto mtl.", 450),
     ("450 nkx", "450 nkx"),
     # a comma before three digits: English thousands (a euro amount has no third decimal)
     ("1,200", 1200), ("1,200 €", 1200), ("1,200,000", 1_200_000), ("0,500", 0.5), ("2,29", 2.29)],
)
def test_money(value, expected):
    assert v.money(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("68,5", 68.5), ("68,5 m²", 68.5), ("70 qm", 70), ("70m2", 70), ("groß", "groß"),
     ("65 qm Wfl.", 65), ("58 m² Wohnfläche", 58), ("Wfl. 58 m²", 58), ("~58 m²", 58),
     ("58 m ²", 58), ("Wohnfläche: 70 qm", 70), ("Wfl.", "Wfl."),
     ("65 m² + Balkon", 65), ("65 m², zzgl. Terrasse", 65), ("Balkon", "Balkon")],
)
def test_area(value, expected):
    assert v.area(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2", 2), ("2,5", 2.5), ("2½", 2.5), ("2 Zi.", 2), ("2 Zimmer", 2), ("1,5 Zi.", 1.5),
     ("2 ZKB", 2), ("2-Zimmer", 2), ("ca. 2", 2), ("2 1/2 Zimmer", 2.5), ("Zimmer", "Zimmer"),
     ("viele", "viele"), ("4 Zi., Kü., Bad", 4), ("2 + Küche", 2), ("2 Zimmer und Küche", 2)],
)
def test_rooms(value, expected):
    assert v.rooms(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("ab 02.03.2027", dt.date(2027, 3, 2)), ("am 02.03.2027", dt.date(2027, 3, 2)),
     ("zum 02.03.2027", dt.date(2027, 3, 2)), ("ab dem 02.03.2027", dt.date(2027, 3, 2)),
     ("bis zum 30.04.2027", dt.date(2027, 4, 30)), ("spätestens am 30.04.2027", dt.date(2027, 4, 30)),
     ("Stichtag: 30.04.2027", dt.date(2027, 4, 30)), ("02.03.2027", dt.date(2027, 3, 2)),
     ("bis irgendwann", "bis irgendwann"), ("ab", "ab"), (None, None)],
)
def test_date_after_word(value, expected):
    """The word a form puts before a date; a text that gives no date is kept whole, for the
    rejection."""
    assert v.date_after_word(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), ("1.000", 1000), ("3,0", 3), ("1,5", "1,5"), ("zwölf", "zwölf"), (4, 4),
     (None, None)],
)
def test_integer(value, expected):
    result = v.integer(value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("EG", 0), ("Erdgeschoss", 0), ("eg", 0), ("UG", -1), ("Souterrain", -1), ("2", 2),
     ("2. OG", 2), ("3.Stock", 3), ("1. Etage", 1), ("-1", -1), ("DG", "DG"), (None, None),
     ("EG links", 0), ("1. OG rechts", 1), ("2. OG Mitte", 2), ("3. Stock li.", 3),
     ("1.OG/re", 1), ("1. OG (links)", 1), ("links", "links"), ("oben", "oben"),
     ("1. OG hinten links", 1), ("3. OG (DG)", 3), ("DG (3. OG)", 3), ("4. Stock (Aufzug)", 4),
     ("EG (Hochparterre)", 0), ("Dach (oben)", "Dach (oben)"), ("1. Geschoss", 1), ("3. OG/DG", 3),
     ("HP", 0), ("\u22121", -1)],
)
def test_floor(value, expected):
    assert v.floor(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("DG", True), ("Dachgeschoss", True), ("dachgeschoss rechts", True), ("EG", False),
     ("3. OG", False), ("Dach", False), (None, False), (3, False), ("DG (Aufzug)", True),
     ("DG (3. OG)", False)],
)
def test_top_floor(value, expected):
    assert v.top_floor(value) is expected


# --------------------------------------------------------------------------- build_record


def _course(**extra) -> dict:
    return {
        "partner_id": "p", "source_id": "K1", "title": "Kurs", "course_type": "language_course",
        "address": {"postal_code": "66538", "city": "Neunkirchen", "street": None}, **extra,
    }


def test_build_record_drops_none_values_itself():
    result = ParseResult()
    record = build_record(CourseOffer, _course(description=None, price_eur=None), result)
    assert record is not None and result.records == [record]
    assert record.address.street is None


def test_build_record_reports_invalid_markers_with_validation_errors():
    result = ParseResult()
    fields = _course(address={"postal_code": "6653", "city": "Neunkirchen"})
    fields["description"] = Invalid("so nicht")
    fields["address"]["street"] = Invalid("??")
    assert build_record(CourseOffer, fields, result) is None
    assert result.items == 1 and result.records == []
    found = {(r.rule, r.field, r.value) for r in result.rejections}
    assert found == {
        ("RECORD_FIELD_INVALID", "description", "so nicht"),
        ("RECORD_FIELD_INVALID", "address.street", "??"),
        ("ADDRESS_POSTAL_CODE_INVALID", "address.postal_code", "6653"),
    }
    assert {r.source_id for r in result.rejections} == {"K1"}


def test_parse_result_reject_item_counts_the_item():
    result = ParseResult()
    result.reject_item(
        "RECORD_UNREADABLE", partner_id="p", domain="jobs", value="kaputt", source_id="X"
    )
    assert result.items == 1
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.source_id, rejection.value) == (
        "RECORD_UNREADABLE", "X", "kaputt",
    )


# --------------------------------------------------------------------------- JSON


def test_load_json_refusals_are_one_line():
    assert load_json(b'\xef\xbb\xbf{"a": 1}', "a test document") == {"a": 1}
    for data, message in [
        (b"", "not a test document: the input is empty"),
        (b"\xff\xfe{}", "not a test document: UTF-16 text, where JSON is read as UTF-8"),
        (b'{"a": ', "invalid JSON at line 1 column"),
        (b"[" * 100_000, "invalid JSON"),
        (b"1" * 5000, "invalid JSON"),
    ]:
        with pytest.raises(FormatError, match=message) as error:
            load_json(data, "a test document")
        assert "\n" not in str(error.value)


def test_each_object_rejects_other_values():
    result = ParseResult()
    items = [{"a": 1}, "text", None, [1], {"b": 2}]
    assert list(each_object(items, "liste", result, "p", "jobs")) == [{"a": 1}, {"b": 2}]
    assert [r.value for r in result.rejections] == [
        "liste[2] is a string, not an object",
        "liste[3] is null, not an object",
        "liste[4] is a list, not an object",
    ]
    assert result.items == 3
    assert kind({}) == "an object" and kind(1.5) == "a number" and kind(True) == "a boolean"


# --------------------------------------------------------------------------- CSV templates


@pytest.mark.parametrize(
    ("name", "key"),
    [("Kurs-ID", "kursid"), ("Max. Personen", "maxpersonen"), ("max_personen", "maxpersonen"),
     ("Wohnfläche", "wohnflaeche"), ("Gea\u0308ndert am", "geaendertam"),
     ("BA-Referenznummer", "bareferenznummer"), ("WBS erforderlich", "wbserforderlich"),
     # a form's marks: a required column starred, a colon after the name
     ("Kurs-ID*", "kursid"), ("PLZ *", "plz"), ("Ort:", "ort")],
)
def test_normalise_header(name, key):
    assert normalise_header(name) == key


def test_decode():
    assert decode("Straße".encode("utf-8"), "test CSV") == "Straße"
    assert decode(b"\xef\xbb\xbfStra\xc3\x9fe", "test CSV") == "Straße"
    assert decode("Straße".encode("cp1252"), "test CSV") == "Straße"
    assert decode(b"\xef\xbb\xbf" + "Straße".encode("cp1252"), "test CSV") == "Straße"
    # UTF-16 as Excel saves 'Unicode-Text': with its BOM, or without one
    assert decode("Straße\tOrt".encode("utf-16"), "test CSV") == "Straße\tOrt"
    assert decode("Straße\tOrt".encode("utf-16-le"), "test CSV") == "Straße\tOrt"
    assert decode("Straße\tOrt".encode("utf-16-be"), "test CSV") == "Straße\tOrt"
    with pytest.raises(FormatError, match="not a test CSV: UTF-16 text that breaks off"):
        decode("a;b".encode("utf-16")[:-1], "test CSV")


def test_rows_detect_the_delimiter():
    assert list(rows("a;b\n1;2,5\n")) == [(1, ["a", "b"]), (2, ["1", "2,5"])]
    assert list(rows("a,b\n1,2;5\n")) == [(1, ["a", "b"]), (2, ["1", "2;5"])]
    assert list(rows('"sep=,"\na;b,c\n')) == [(2, ["a;b", "c"])]


def _fields(cells, partner_id):
    return {
        **common_fields(cells, partner_id, id_column="nr", organisation_column="firma"),
        "course_type": "other",
    }


TEST_TEMPLATE = CsvTemplate(
    what="test CSV",
    model=CourseOffer,
    columns={"nr": "Nr", "titel": "Titel", "firma": "Firma", "plz": "PLZ", "ort": "Ort",
             "strasse": "Strasse", "link": "Link", "email": "E-Mail",
             "kontaktoeffentlich": "Kontakt oeffentlich", "geaendertam": "Geaendert am"},
    required=("nr", "titel", "plz", "ort"),
    id_column="nr",
    fields=_fields,
)


def test_template_reads_rows_and_shared_columns():
    data = (
        "Nr;Titel;PLZ;Ort;Strasse;Link;E-Mail;Kontakt öffentlich;Geändert am;Firma;Firma\n"
        "1;Kurs;66538;Neunkirchen;Am Markt 3;www.x.example;a@x.example;ja;2026-01-02;A;B\n"
        ";;;;;;;;;\n"
    ).encode()
    result = TEST_TEMPLATE.parse(data, "p")
    # the first of repeated columns counts, and the file gets a note saying so
    assert [(r.rule, r.value, r.field) for r in result.rejections] == [
        ("CSV_COLUMN_REPEATED", "K 'Firma'", "J 'Firma'")] and result.items == 1
    (record,) = result.records
    assert record.organisation == "A"
    assert (record.address.street, record.address.house_number) == ("Am Markt", "3")
    assert str(record.url) == "https://www.x.example/"
    assert record.contact.model_dump() == {
        "name": None, "email": "a@x.example", "phone": None, "public": True,
    }
    assert record.updated_at == dt.datetime(2026, 1, 2, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "not a test CSV: the input is empty"),
     (b"sep=;\n", "not a test CSV: no header row"),
     (b"Nr;Titel;Ort\n", "not a test CSV: required column\\(s\\) missing: PLZ$"),
     (b'Nr;Titel;PLZ;Ort\n"' + b"a" * 200_000,
      "^line 2: a quote \\(\"\\) opens a cell of more than 131,072 characters; close the quote in "
      "line 2 or remove it$")],
)
def test_template_refusals(data, message):
    with pytest.raises(FormatError, match=message):
        TEST_TEMPLATE.parse(data, "p")


def test_template_rejects_shifted_rows_alone():
    data = b"Nr;Titel;PLZ;Ort\n1;Kurs;66538;Neunkirchen\n2;Kurs; mit;66538;Neunkirchen\n"
    result = TEST_TEMPLATE.parse(data, "p")
    assert [r.source_id for r in result.records] == ["1"]
    (rejection,) = result.rejections
    assert (rejection.rule, rejection.source_id, rejection.title) == (
        "RECORD_UNREADABLE", "2", "Kurs",
    )
    assert rejection.value.startswith("Zeile 3: 5 Zellen, die Kopfzeile hat 4 Spalten")
    assert result.items == 2


# --------------------------------------------------------------------------- properties


_texts = st.text(max_size=20)


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(_texts, st.none(), st.integers(), st.floats(), st.booleans()))
@example(value="0\x1f")  # re's \s takes the control character, int() did not (epoch_millis)
def test_readers_never_raise(value):
    for reader in (
        v.text, v.plain_text, v.web_url, v.yes_no, v.country_code, v.state_name, v.postal_code,
        v.cefr_levels, v.cefr_level, v.levels_in_text, v.date_value, v.timestamp,
        v.date_in_text, v.epoch_millis, v.epoch_millis_date, v.number, v.money, v.area,
        v.integer, v.floor, v.rooms, v.date_after_word, v.email_address, v.phone_number,
    ):
        reader(value)
    v.split_street(value)
    v.choices(value, TABLE)


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)),
)
def test_dates_round_trip(day):
    assert v.date_value(f"{day:%d.%m.%Y}") == day
    assert v.date_value(day.isoformat()) == day
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=BERLIN)
    assert v.epoch_millis_date(int(midnight.timestamp() * 1000)) == day


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(min_value=0, max_value=10**9))
def test_money_round_trips_german_amounts(cents):
    euros, rest = divmod(cents, 100)
    grouped = f"{euros:,}".replace(",", ".")
    assert v.money(f"{grouped},{rest:02d} €") == pytest.approx(cents / 100)


@settings(max_examples=200, deadline=None)
@given(low=st.sampled_from(v.LEVELS), high=st.sampled_from(v.LEVELS))
def test_level_ranges(low, high):
    expected = list(v.LEVELS[v.LEVELS.index(low) : v.LEVELS.index(high) + 1])
    if expected:
        assert v.cefr_levels(f"{low}-{high}") == expected
        assert v.levels_in_text(f"Deutsch {low} bis {high}") == expected
    else:
        assert v.cefr_levels(f"{low}-{high}") == [f"{low}-{high}"]


def test_machine_decimals_are_never_read_as_thousands():
    from hub.formats import values

    assert values.number("49.374") == 49374.0  # German text: a thousands separator
    assert values.number("49.374", machine=True) == 49.374  # XML/JSON-LD: the decimal point
    assert values.number("560,50", machine=True) == 560.5
    assert values.geo_point("49.374", "7.048") == {"lat": 49.374, "lon": 7.048}
    assert values.money("1.200", machine=True) == 1.2


def test_openimmo_coordinates_with_three_decimals():
    from bench.feedgen import openimmo
    from hub.formats import get_format

    result = get_format("openimmo").parse(openimmo(12), "wbg")
    assert len(result.records) == 12 and not result.rejections
    assert result.records[2].geo.lat == 49.374


@settings(max_examples=300)
@given(written=st.from_regex(r"-?[0-9]{1,400}(\.[0-9]{1,12})?", fullmatch=True), machine=st.booleans())
def test_plainly_written_numbers_read_as_the_general_rules_read_them(written, machine):
    """number, money and area read a plain number ('650', '-3', '49.374') at once; padded
    with spaces it takes the general way, which must come to the same value."""
    for read in (v.number, v.money, v.area):
        assert read(written, machine=machine) == read(f" {written}\u00a0", machine=machine)


# -- hostile cells: long runs that made a regex quadratic (a 100 KB cell of blanks took minutes)

HOSTILE = 20_000  # characters; 2 to 5 s each before the fix, milliseconds now


def _timed(call, *args):
    import time

    started = time.perf_counter()
    result = call(*args)
    return result, time.perf_counter() - started


@pytest.mark.parametrize("cell", [" " * HOSTILE + "x", "\t" * HOSTILE + "x", "ja" + " " * HOSTILE + "- x"])
def test_a_long_run_of_blanks_costs_linear_time(cell):
    from hub.formats.values import cefr_levels, choices, date_value, yes_no
    from hub.resolve.normalize import place_key

    for call, args in [(yes_no, (cell,)), (date_value, ("1" + cell,)), (choices, (cell, {"vollzeit": "full_time"})),
                       (cefr_levels, (cell,)), (cefr_levels, ("A1" + cell + " B1",)),
                       (cefr_levels, ("A1 (test" + cell + ")",)), (place_key, (cell,)),
                       (v.money, ("1" + cell,)), (v.area, ("1" + cell + "m²",)),
                       (v.rooms, ("2" + cell + "zimmer",)), (v.salary_amount, ("2.450 €" + cell,)),
                       (v.salary_amount, ("3.000 €" + cell + "nach Tarif",))]:
        _, seconds = _timed(call, *args)
        assert seconds < 0.5, (call.__name__, seconds)


def test_a_city_of_open_brackets_costs_linear_time():
    from hub.resolve.normalize import place_key

    key, seconds = _timed(place_key, "(" * 100_000)
    assert seconds < 0.5
    assert place_key("Neunkirchen (Saar)") == place_key("neunkirchen")  # still as before


def test_the_faster_patterns_find_what_they_found():
    from hub.formats.values import cefr_levels, yes_no

    assert yes_no("ja  - leider nicht") is True
    assert yes_no("nein ,  leider") is False
    assert cefr_levels("A1  -  A2 - B1") == ["A1", "A2", "B1"]
    assert cefr_levels("A2 und\n B1") == ["A2", "B1"]
    assert cefr_levels("B1 (telc  Prüfung)  ") == ["B1"]
    assert v.salary_amount("14,50 €  /  Std.") == 14.5 and v.salary_amount("45.000 €   p.a.") == 45000
    assert v.salary_amount("3.000 € , nach Tarif") == 3000 and v.salary_amount("2.500 €,  VB") == 2500


def test_a_date_cell_of_blanks_is_not_cubic():
    """' ' * 400 in a date cell took 14 s (the weekday pattern split the run every way)."""
    from hub.formats.values import date_value

    cell = "01.03.2027" + " " * 600 + "x"  # 47 s before
    result, seconds = _timed(date_value, cell)
    assert seconds < 0.5
    assert date_value("01.03.2027  ( Mo )") == dt.date(2027, 3, 1)
    assert date_value("Mo, 01.03.2027") == dt.date(2027, 3, 1)


def test_an_amount_longer_than_any_number_is_returned_as_written():
    cell = "2" + " " * 2000 + "Zimmer"  # 23 s in rooms() before
    assert v.rooms(cell) == cell
    assert v.money("1" + " " * 300 + "€") == "1" + " " * 300 + "€"
    assert v.rooms("2 Zi.") == 2 and v.area("68,5 m²") == 68.5 and v.money("150,- EUR") == 150.0
