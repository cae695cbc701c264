"""The partner registry: valid files load; every bad entry gets one line naming the file,
the partner, the field and the problem."""

from __future__ import annotations

import re

import pytest

from hub.registry import RegistryError, load_registry, parse_registry, partition_changes

GOOD = """
partners:
  - id: jobcenter-nk
    name: Jobcenter Landkreis Neunkirchen
    kind: jobcenter
    contact_email: stellen@jobcenter-nk.example
    region: "10043"
    feeds:
      - format: ba-jobsuche
        source: https://jobs.jobcenter-nk.example/pc/v6/jobs
        auth_env: JOBCENTER_API_KEY
        auth_header: X-API-Key
  - id: vhs-neunkirchen
    name: VHS Neunkirchen
    kind: language_school
    feeds:
      - format: csv-courses
        source: file:///srv/inbox/vhs/kurse.csv
        mode: snapshot
"""


def test_valid_registry_loads_and_lists_partitions():
    registry = parse_registry(GOOD)
    assert [p.id for p in registry.partners] == ["jobcenter-nk", "vhs-neunkirchen"]
    assert registry.partitions() == {"jobs": ["jobcenter-nk"], "courses": ["vhs-neunkirchen"], "housing": []}
    assert registry.get("jobcenter-nk").feed_for("jobs").auth_env == "JOBCENTER_API_KEY"


@pytest.mark.parametrize(
    "change, expected",
    [
        ("format: ba-jobsuche", "partner 'jobcenter-nk': feeds[0].format: unknown format 'xml-jobs'"),
        ("source: https://jobs.jobcenter-nk.example/pc/v6/jobs", "partner 'jobcenter-nk': feeds[0].source: must start with"),
        ("auth_env: JOBCENTER_API_KEY", "partner 'jobcenter-nk': feeds[0].auth_env: must be the NAME"),
        ("contact_email: stellen@jobcenter-nk.example", "partner 'jobcenter-nk': contact_email:"),
        ("kind: jobcenter", "partner 'jobcenter-nk': kind:"),
        ('region: "10043"', "partner 'jobcenter-nk': colour: unknown field (known here: id, name, "),
        ("mode: snapshot", "partner 'vhs-neunkirchen': feeds[0].schedule: 'every day' is not a cron expression"),
        ("format: csv-courses",
         "partner 'vhs-neunkirchen': feeds[0].fromat: unknown field (did you mean 'format'?)"),
    ],
)
def test_bad_entries_name_file_partner_field_and_problem(tmp_path, change, expected):
    replacement = {
        "format: ba-jobsuche": "format: xml-jobs",
        "source: https://jobs.jobcenter-nk.example/pc/v6/jobs": "source: ftp://jobs.example/x",
        "auth_env: JOBCENTER_API_KEY": "auth_env: geheim-123",
        "contact_email: stellen@jobcenter-nk.example": "contact_email: not-an-address",
        "kind: jobcenter": "kind: spaceport",
        'region: "10043"': 'region: "10043"\n    colour: blue',
        "mode: snapshot": "mode: snapshot\n        schedule: every day",
        "format: csv-courses": "fromat: csv-courses",  # a mistyped key, not a missing format
    }[change]
    path = tmp_path / "registry.yaml"
    path.write_text(GOOD.replace(change, replacement))
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    message = str(info.value)
    assert message.startswith(str(path) + ": ")
    assert expected in message
    assert "\n" not in message


def test_every_problem_of_a_registry_is_told_at_once():
    """A steward fixing a registry sees all its problems, not the first of five; a mistyped
    key is one problem (not also its right name missing)."""
    text = GOOD.replace("format: csv-courses", "fromat: csv-courses").replace(
        "id: jobcenter-nk", "id: Jobcenter NK")
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "r.yaml")
    lines = str(info.value).splitlines()
    assert lines[0] == "r.yaml: 2 problems:"
    assert lines[1:] == [
        "  line 3: partner 'Jobcenter NK': id: 'Jobcenter NK' is not a partner id: 2 to 63 "
        "lower-case letters, digits and '-', write id: jobcenter-nk",
        "  line 17: partner 'vhs-neunkirchen': feeds[0].fromat: unknown field (did you mean 'format'?)",
    ]


def test_a_mistyped_key_does_not_hide_another_missing_field():
    good = GOOD
    feed = good.split("format: csv-courses", 1)[1].split("\n", 2)[1]  # the source line after it
    assert feed.strip().startswith("source:"), feed
    text = good.replace("format: csv-courses", "fromat: csv-courses").replace(feed + "\n", "", 1)
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "r.yaml")
    lines = str(info.value).splitlines()
    assert lines[0] == "r.yaml: 2 problems:", lines
    assert "  line 17: partner 'vhs-neunkirchen': feeds[0].fromat: unknown field (did you mean 'format'?)" in lines
    assert ("  line 17: partner 'vhs-neunkirchen': feeds[0].source: missing: write 'source: ...' "
            "in this entry (https://, http://, file:// or inbox:FOLDER)") in lines


@pytest.mark.parametrize("source, expected", [
    ("http://exa mple.org/x", "'http://exa mple.org/x' holds a space"),
    ("https://jobs.example:80a/x", "'https://jobs.example:80a/x' is not a web address"),
])
def test_a_source_that_is_no_web_address_is_refused_when_the_registry_is_read(source, expected):
    """Not at the first fetch, as an internal InvalidURL error."""
    with pytest.raises(RegistryError) as info:
        parse_registry(GOOD.replace("https://jobs.jobcenter-nk.example/pc/v6/jobs", source), "r.yaml")
    assert str(info.value).startswith("r.yaml: line 10: partner 'jobcenter-nk': feeds[0].source: " + expected)


# (a registry, the line an editor shows for its mistake, what the message says there)
MISTAKES = [
    ("partners:\n  - id: vhs-a\n    name: \"VHS A\n    feeds: []\n", 3,
     "is not valid YAML (found unexpected end of stream while scanning a quoted scalar)"),
    ("partners:\n  - id: vhs-a\n    name VHS A\n    feeds: []\n", 3,
     "is not valid YAML (could not find expected ':'"),
    ("partners:\n  - id: vhs-a\n    name: [VHS A\n    feeds: []\n", 3,
     "is not valid YAML (did not find expected ',' or ']'"),
    ("partners:\n  - id: vhs-a\n    name: VHS A\n\tfeeds: []\n", 4, "is not valid YAML (found a tab"),
    ("partners:\n  - id: vhs-a\n   name: VHS A\n", 3, "is not valid YAML"),
    ("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n      - format: csv-courses\n"
     "        source: file:///k.csv\n        max_rejection_share: 2\n", 7,
     ": partner 'vhs-a': feeds[0].max_rejection_share: 2 is not a share: write a fraction between "
     "0 and 1, e.g. max_rejection_share: 0.02 for 2 %"),
    ("partners:\n  - id: vhs-a\n    name: VHS A\n    colour: red\n    feeds:\n      - format: csv-courses\n"
     "        source: file:///k.csv\n", 4, ": partner 'vhs-a': colour: unknown field"),
    ("partners:\n  - id: vhs-a\n    name: VHS A\n", 2,
     ": partner 'vhs-a': feeds: lists no feed: a partner needs at least one, '- format: ...'"),
    # pydantic's words ('Input should be a valid list', '... a valid dictionary or instance of
    # Partner', 'String should have at least 1 character') said what, not what to write
    ("partners:\n  id: vhs-a\n  name: VHS A\n", 1,
     ": partners: is not a list: write each entry below 'partners:' beginning with '- ', e.g. "
     "'- id: ...'"),
    ("partners:\n  - vhs-a\n", 2,
     ": partner #1: 'vhs-a' is not an entry: write its fields after the '- ', one 'key: value' a "
     "line, e.g. '- id: ...'"),
    ("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n      format: csv-courses\n", 4,
     ": partner 'vhs-a': feeds: is not a list: write each entry below 'feeds:' beginning with "
     "'- ', e.g. '- format: ...'"),
    ("partners:\n  - id: vhs-a\n    name: ''\n    feeds:\n      - format: csv-courses\n"
     "        source: file:///k.csv\n", 3, ": partner 'vhs-a': name: is empty: write 'name: ...' with its value"),
    ("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n      - format: csv-courses\n"
     "        source: file:///k.csv\n  - id: vhs-a\n    name: VHS B\n    feeds:\n"
     "      - format: csv-courses\n        source: file:///k.csv\n", 7,
     ": partner 'vhs-a': id: used more than once"),
    # a key written twice: YAML keeps the last silently (a new source: above the old one)
    ("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n      - format: csv-courses\n"
     "        source: file:///neu.csv\n        source: file:///alt.csv\n", 7,
     ": 'source' is given twice in this entry (first on line 6)"),
]


@pytest.mark.parametrize("text, line, said", MISTAKES)
def test_a_registry_error_names_the_line_an_editor_shows(tmp_path, monkeypatch, capsys, text, line, said):
    """The steward goes to the line the message names (counted from 1, as editors do): where
    an unclosed quote or bracket began, not where the parser noticed it, and for a wrong
    value, an unknown or missing field, a repeated id the line of its key or its entry."""
    from hub.cli import main

    path = tmp_path / "broken.yaml"
    path.write_text(text)
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    # hub sync --registry sets HUB_REGISTRY for what it runs: undone after the test
    monkeypatch.setenv("HUB_REGISTRY", str(path))
    assert main(["sync", "--registry", str(path)]) == 2
    assert capsys.readouterr().err.strip().startswith(f"hub sync: error: {path}: line {line} {said}".replace(" :", ":"))


def test_duplicate_ids_and_broken_yaml_and_missing_file(tmp_path):
    with pytest.raises(RegistryError, match="partner 'jobcenter-nk': id: used more than once"):
        parse_registry(GOOD + GOOD.replace("partners:\n", "").replace("vhs-neunkirchen", "vhs-2"))
    with pytest.raises(RegistryError, match="line 3 is not valid YAML"):
        parse_registry("partners:\n  - id: x\n - name: [", "r.yaml")
    with pytest.raises(RegistryError, match="registry file not found"):
        load_registry(tmp_path / "missing.yaml")
    with pytest.raises(RegistryError, match="expected a mapping"):
        parse_registry("- just a list")


def test_a_registry_that_is_a_folder_or_not_utf8_says_what_to_do(tmp_path, monkeypatch, capsys):
    """HUB_REGISTRY naming the folder said 'cannot read the registry ([Errno 21] Is a
    directory: ...)'; a registry saved as UTF-16 or Windows-1252 "('utf-8' codec can't decode
    byte 0xff in position 0: invalid start byte)"."""
    from hub.cli import main

    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_REGISTRY", str(tmp_path))
    assert main(["status"]) == 2
    assert capsys.readouterr().err == (
        f"hub status: error: {tmp_path} is a folder, not the registry file: HUB_REGISTRY (or "
        f"--registry) names the file itself, e.g. {tmp_path / 'registry.yaml'}\n")
    utf16, cp1252 = tmp_path / "utf16.yaml", tmp_path / "cp1252.yaml"
    utf16.write_text(GOOD, encoding="utf-16")
    cp1252.write_text(GOOD.replace("Jobcenter", "Jobcenter Höchen"), encoding="cp1252")
    for path, said in ((utf16, "the registry is UTF-16 text; save it as UTF-8"),
                       (cp1252, "line 4 is not UTF-8 text (byte 0xf6); save the registry as UTF-8")):
        with pytest.raises(RegistryError) as error:
            load_registry(path)
        assert str(error.value) == f"{path}: {said}"


def test_second_feed_for_the_same_domain_is_refused():
    text = GOOD.replace(
        "        auth_header: X-API-Key\n",
        "        auth_header: X-API-Key\n      - format: ba-jobsuche\n        source: https://b.example/\n",
    )
    with pytest.raises(RegistryError, match="more than one feed for domain 'jobs'"):
        parse_registry(text)


def test_partition_changes_add_and_remove():
    registry = parse_registry(GOOD)
    changes = partition_changes(registry, {"jobs": ["jobcenter-nk", "old-employer"], "courses": []})
    assert changes["jobs"] == ([], ["old-employer"])
    assert changes["courses"] == (["vhs-neunkirchen"], [])
    assert changes["housing"] == ([], [])


def test_an_edited_registry_file_is_read_again_and_a_loaded_one_cannot_be_changed(tmp_path):
    path = tmp_path / "partners.yaml"
    path.write_text(GOOD)
    first = load_registry(path)
    assert load_registry(path).get("vhs-neunkirchen").name == "VHS Neunkirchen"
    # same size, same second: only the content differs
    path.write_text(GOOD.replace("VHS Neunkirchen", "VHS Neunkirchex"))
    assert load_registry(path).get("vhs-neunkirchen").name == "VHS Neunkirchex"
    path.write_text(GOOD.replace("kind: jobcenter", "kind: jobcentre"))
    with pytest.raises(RegistryError, match="partner 'jobcenter-nk': kind"):
        load_registry(path)
    with pytest.raises(RegistryError, match="partner 'jobcenter-nk': kind"):
        load_registry(path)  # still refused: a bad file is not remembered as good
    path.write_text(GOOD)
    again = load_registry(path)
    assert [p.id for p in again.partners] == [p.id for p in first.partners]
    with pytest.raises(ValueError, match="frozen"):
        again.get("jobcenter-nk").region = "05"
    assert load_registry(path).get("jobcenter-nk").region == "10043"


@pytest.mark.parametrize(("source", "said"), [
    ("file://files/x.csv", "names the host 'files': a file is file:///absolute/path"),
    ("inbox:inbox/baeckerei", "is a relative folder"),
])
def test_a_source_that_would_not_read_what_the_steward_meant_is_refused(source, said):
    with pytest.raises(RegistryError, match=re.escape(said)):
        parse_registry(f"partners:\n  - id: p-1\n    name: P\n    feeds:\n"
                       f"      - format: csv-jobs\n        source: {source}\n")


def test_a_number_where_text_belongs_asks_for_quotes():
    """YAML reads an unquoted region key as a number: the message says to quote it."""
    with pytest.raises(RegistryError, match=r"partner 'p-1': region: .*write it in quotes, e\.g\. region: '\.\.\.'"):
        parse_registry("partners:\n  - id: p-1\n    name: P\n    region: 10043\n    feeds:\n"
                       "      - format: csv-jobs\n        source: file:///srv/x.csv\n")


def test_a_partner_id_not_in_the_registry_names_the_near_one():
    """'VHS-Neunkirchen' or a letter missing: the id the steward probably meant is named."""
    registry = parse_registry("partners:\n  - id: vhs-neunkirchen\n    name: VHS\n    feeds:\n"
                              "      - format: csv-courses\n        source: file:///k.csv\n")
    for asked in ("VHS-Neunkirchen", "vhs-neunkirchn"):
        with pytest.raises(RegistryError, match=r"no partner .* \(did you mean 'vhs-neunkirchen'\?\)"):
            registry.get(asked)
    with pytest.raises(RegistryError) as info:
        registry.get("jobcenter-nk")
    assert str(info.value) == "no partner 'jobcenter-nk' in the registry"


ENTRY = ("partners:\n  - id: vhs-a\n    name: VHS A\n    contact_email: kurse@vhs-a.example\n"
         "    allow_private_network: false\n    feeds:\n      - format: csv-courses\n"
         "        source: file:///k.csv\n        max_withdrawal_share: 0.1\n")


@pytest.mark.parametrize(("was", "written", "line", "said"), [
    ("contact_email: kurse@vhs-a.example", "contact_email: not-an-email", 4,
     "contact_email: 'not-an-email' is not an e-mail address (the partner's feedback is mailed "
     "there): write one address, e.g. contact_email: stellen@partner.example"),
    ("max_withdrawal_share: 0.1", "max_withdrawal_share: 30", 9,
     "feeds[0].max_withdrawal_share: 30 is not a share: write a fraction between 0 and 1, e.g. "
     "max_withdrawal_share: 0.3 for 30 %"),
    ("max_withdrawal_share: 0.1", "max_withdrawal_share: 25 %", 9,
     "feeds[0].max_withdrawal_share: '25 %' is not a share: write a fraction between 0 and 1, "
     "e.g. max_withdrawal_share: 0.25 for 25 %"),
    ("feeds:\n      - format: csv-courses\n        source: file:///k.csv\n"
     "        max_withdrawal_share: 0.1\n", "feeds: []\n", 6,
     "feeds: lists no feed: a partner needs at least one, '- format: ...' (see hub formats) "
     "with its 'source: ...' below"),
    ("allow_private_network: false", "allow_private_network: ja", 5,
     "allow_private_network: 'ja' is not a yes/no value: write true or false"),
    ("contact_email: kurse@vhs-a.example", "contact_email: kurse@vhs-a.example\n    region: 1004a", 5,
     "region: '1004a' is not an AGS prefix: 2, 3, 5 or 8 digits in quotes (2 a Land, 3 a "
     "Regierungsbezirk, 5 a district, 8 a municipality), e.g. region: '10043'"),
])
def test_a_wrong_value_is_told_in_words_the_steward_can_act_on(tmp_path, monkeypatch, capsys,
                                                               was, written, line, said):
    """Not pydantic's regular expression, 'less than or equal to 1' for a share meant as
    per cent, 'at least 1 item', 'unable to interpret input': what to write instead."""
    from hub.cli import main

    path = tmp_path / "registry.yaml"
    assert was in ENTRY
    path.write_text(ENTRY.replace(was, written))
    monkeypatch.setenv("HUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HUB_REGISTRY", str(path))
    assert main(["sync", "--registry", str(path)]) == 2
    assert capsys.readouterr().err == f"hub sync: error: {path}: line {line}: partner 'vhs-a': {said}\n"


def test_a_format_name_in_capitals_is_the_format_of_that_name():
    """'OpenImmo' as the standard spells it: the feed is the hub's openimmo, not refused."""
    registry = parse_registry(ENTRY.replace("csv-courses", "CSV-Courses").replace(
        "id: vhs-a", "id: wbg-a").replace("format: CSV-Courses", "format: OpenImmo"))
    feed = registry.get("wbg-a").feeds[0]
    assert (feed.format, feed.domain) == ("openimmo", "housing")
    assert registry.partitions()["housing"] == ["wbg-a"]


@pytest.mark.parametrize(("region", "said"), [
    ("10034", "'10034' lies in no district of Saarland (10); did you mean 10043 (Landkreis "
              "Neunkirchen) or 10044 (Landkreis Saarlouis)?"),
    ("10043111", None), ("10034111", "'10034111' lies in no district of Saarland (10); did you "
                                     "mean 10043 (Landkreis Neunkirchen) or 10044 (Landkreis Saarlouis)?"),
    ("20043", "'20043' lies in no Land (an AGS begins with the Land's number, 01 to 16); did you "
              "mean 10043 (Landkreis Neunkirchen)?"),
    ("17", "'17' lies in no Land (an AGS begins with the Land's number, 01 to 16)"),
    # a digit lost or one too many: a prefix of no area, which took in too much or nothing
    ("1004", "'1004' has 4 digits, which name no area: an AGS prefix has 2 (a Land), 3 (a "
             "Regierungsbezirk), 5 (a district) or 8 (a municipality)"),
    ("100431", "'100431' has 6 digits, which name no area: an AGS prefix has 2 (a Land), 3 (a "
               "Regierungsbezirk), 5 (a district) or 8 (a municipality); did you mean 10043 "
               "(Landkreis Neunkirchen)?"),
    # what the tables cannot prove wrong is taken: districts elsewhere, Saarland as a whole
    ("10", None), ("100", None), ("10043", None), ("09162", None), ("05315000", None),
])
def test_a_region_that_is_no_place_is_refused_naming_the_near_ones(region, said):
    """A typo in region: would make every record of the partner ADDRESS_OUTSIDE_REGION: the
    partner blamed for the steward's mistake. Refused when the registry is read, where the
    hub's tables prove it wrong; the district meant is named."""
    text = ("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n      - format: csv-courses\n"
            f"        source: file:///k.csv\n  - id: p-1\n    name: P\n    region: '{region}'\n"
            "    feeds:\n      - format: csv-jobs\n        source: file:///srv/x.csv\n")
    if said is None:
        assert parse_registry(text).get("p-1").region == region
        return
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "r.yaml")
    assert str(info.value) == f"r.yaml: line 9: partner 'p-1': region: {said}"


def test_a_partner_id_given_in_short_names_the_ones_it_may_mean():
    """'kohlbach' for 'kohlbach-logistik' said only 'no partner 'kohlbach' in the registry'."""
    ids = ["kohlbach-logistik", "seniorenhilfe-ottweiler", "sprachschule-ottweiler", "vhs-neunkirchen"]
    registry = parse_registry("partners:\n" + "".join(
        f"  - id: {pid}\n    name: P\n    feeds:\n      - format: csv-courses\n        source: file:///k.csv\n"
        for pid in ids))
    said = {}
    for asked in ("kohlbach", "ottweiler", "xy"):
        with pytest.raises(RegistryError) as info:
            registry.get(asked)
        said[asked] = str(info.value)
    assert said == {
        "kohlbach": "no partner 'kohlbach' in the registry (did you mean 'kohlbach-logistik'?)",
        "ottweiler": "no partner 'ottweiler' in the registry (did you mean one of "
                     "'seniorenhilfe-ottweiler', 'sprachschule-ottweiler'?)",
        "xy": "no partner 'xy' in the registry",
    }


def test_a_field_written_at_the_other_level_says_where_it_belongs():
    """allow_private_network indented as a feed's field (or source: beside the partner's id)
    was 'unknown field (known here: format, source, ...)': the steward looked for a typo in a
    name that is right. Now the message says which entry takes it."""
    text = ("partners:\n  - id: vhs-a\n    name: VHS A\n    feeds:\n      - format: csv-courses\n"
            "        source: http://127.0.0.1:8000/k.csv\n        allow_private_network: true\n"
            "  - id: vhs-b\n    name: VHS B\n    auth_env: VHS_KEY\n    feeds:\n"
            "      - format: csv-courses\n        source: file:///k.csv\n")
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "r.yaml")
    assert str(info.value).splitlines()[1:] == [
        "  line 7: partner 'vhs-a': feeds[0].allow_private_network: unknown field: it belongs to "
        "the partner, not to a feed: indent it as the partner's id: and name: are, above or "
        "below its feeds:",
        "  line 10: partner 'vhs-b': auth_env: unknown field: it belongs to a feed: indent it "
        "below feeds:, as that feed's format: and source: are",
    ]


def test_a_tab_and_a_repeated_id_say_what_to_write_instead():
    """'found a tab character that violates indentation' and 'id: used more than once' said
    what was wrong, not what to do, nor where the id was first used."""
    with pytest.raises(RegistryError) as info:
        parse_registry("partners:\n  - id: vhs-a\n    name: VHS A\n\tfeeds: []\n", "r.yaml")
    assert str(info.value) == ("r.yaml: line 4 is not valid YAML (found a tab character that "
                               "violates indentation): indent with spaces, not tabs (an editor "
                               "can insert spaces for the Tab key)")
    entry = "  - id: vhs-a\n    name: VHS {}\n    feeds:\n      - format: csv-{}\n        source: file:///k.csv\n"
    with pytest.raises(RegistryError) as info:
        parse_registry("partners:\n" + entry.format("A", "courses") + entry.format("A Jobs", "jobs"), "r.yaml")
    assert str(info.value) == (
        "r.yaml: line 7: partner 'vhs-a': id: used more than once (first on line 2): give each "
        "partner an id of its own (a partner with several feeds lists them under one entry's feeds:)")


def test_the_example_registry_in_schemas_is_one_a_steward_can_copy():
    """schemas/registry.example.yaml shows the three ways partners deliver (an inbox folder, a
    web page, a feed with an API key): it must load as it is, and say what README says."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "schemas" / "registry.example.yaml"
    registry = load_registry(path)
    feeds = {p.id: (p.feeds[0].format, p.feeds[0].source.split(":", 1)[0], p.feeds[0].auth_env)
             for p in registry.partners}
    assert feeds == {"sprachschule-blies": ("csv-courses", "inbox", None),
                     "saarstahlbau-merchweiler": ("schemaorg-jobposting", "https", None),
                     "bliestal-wohnen": ("openimmo", "https", "BLIESTAL_API_KEY")}
    assert "\t" not in path.read_text()
    # the commented loopback switch, uncommented where the comment says, loads too
    text = path.read_text().replace("    # allow_private_network: true ", "    allow_private_network: true ")
    assert parse_registry(text).get("bliestal-wohnen").allow_private_network is True
    readme = (path.parent.parent / "README.md").read_text()
    assert "schemas/registry.example.yaml" in readme


@pytest.mark.parametrize(("written", "said"), [
    ("OpenImmo-XML", "unknown format 'OpenImmo-XML': write format: openimmo"),
    ("csv_courses", "unknown format 'csv_courses': write format: csv-courses"),
    ("schema.org JobPosting", "unknown format 'schema.org JobPosting': write format: schemaorg-jobposting"),
    ("pdf", "unknown format 'pdf'; known: ba-courses, ba-jobsuche, csv-courses, csv-housing, "
            "csv-jobs, openimmo, schemaorg-accommodation, schemaorg-course, schemaorg-jobposting"),
])
def test_a_format_name_near_a_known_one_names_it(written, said):
    """A new steward writes the format as the partner calls it ('OpenImmo-XML') or as the
    module is named ('csv_courses'): the list of nine names left the steward to find the one
    meant; the near one is named (hub parse and hub check --format say so too)."""
    from hub.formats import FormatError, get_format

    text = ("partners:\n  - id: wbg-a\n    name: WBG A\n    feeds:\n"
            f"      - format: {written}\n        source: file:///k.xml\n")
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "r.yaml")
    assert str(info.value) == f"r.yaml: line 5: partner 'wbg-a': feeds[0].format: {said}"
    with pytest.raises(FormatError) as info:
        get_format(written)
    assert ("did you mean" in str(info.value)) == ("write format" in said)


@pytest.mark.parametrize(("written", "said"), [
    ("Sprachschule-Blies", "write id: sprachschule-blies"),
    ("'Wohnbau Süd GmbH'", "write id: wohnbau-sued-gmbh"),
    ("'!'", "e.g. 'vhs-neunkirchen'"),
])
def test_a_partner_id_with_capitals_or_spaces_is_given_written_as_an_id(written, said):
    """The partner's name, or its id in capitals, was refused with the pattern and an example
    of another partner's id; the id it makes is named."""
    text = ("partners:\n  - id: " + written + "\n    name: P\n    feeds:\n"
            "      - format: csv-jobs\n        source: file:///k.csv\n")
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "r.yaml")
    assert str(info.value).endswith("is not a partner id: 2 to 63 lower-case letters, digits and "
                                    "'-', " + said)


@pytest.mark.parametrize(("written", "said"), [
    ('"X-API-Key: "', "'X-API-Key: ' is not a header name: write the name alone, without ':', "
                      "spaces or the value (the value comes from auth_env), e.g. auth_header: X-API-Key"),
    ('"Authorization: Bearer"', "'Authorization: Bearer' is not a header name: write the name alone, "
                                "without ':', spaces or the value (the value comes from auth_env), "
                                "e.g. auth_header: Authorization"),
])
def test_a_header_written_with_its_colon_is_refused_with_the_registry(written, said):
    """auth_header: "X-API-Key: " (the header as a request shows it) was taken, and every
    fetch of the feed ended in 'internal error: InvalidHeader' (exit 70)."""
    text = ("partners:\n  - id: wbg-a\n    name: WBG A\n    feeds:\n      - format: openimmo\n"
            "        source: https://wbg.example/o.xml\n        auth_env: WBG_KEY\n"
            f"        auth_header: {written}\n")
    with pytest.raises(RegistryError) as info:
        parse_registry(text, "r.yaml")
    assert str(info.value) == f"r.yaml: line 8: partner 'wbg-a': feeds[0].auth_header: {said}"
    assert parse_registry(text.replace(written, "X-API-Key")).get("wbg-a").feeds[0].auth_header == "X-API-Key"
