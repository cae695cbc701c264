"""schemaorg-jobposting: schema.org JobPosting (JSON-LD or careers page) -> JobPosting."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.formats.base import FormatError
from hub.formats.schemaorg_jobposting import FORMAT, parse
from hub.formats.values import german_level
from hub.models import ContractDuration, EmploymentType, JobPosting, WorkingTime
from tests.format_properties import parse_or_refuse

BERLIN = ZoneInfo("Europe/Berlin")
PARTNER = "bliesaue-karriere"


def _posting(**overrides: object) -> dict:
    posting: dict = {
        "@context": "https://schema.org",
        "@type": "JobPosting",
        "identifier": "NK-1",
        "title": "Verkäufer (m/w/d)",
        "jobLocation": {
            "@type": "Place",
            "address": {"@type": "PostalAddress", "postalCode": "66538",
                        "addressLocality": "Neunkirchen"},
        },
    }
    posting.update(overrides)
    return posting


def _one(**overrides: object) -> JobPosting:
    result = parse(json.dumps(_posting(**overrides)).encode(), PARTNER)
    assert result.rejections == [], [r.message_en for r in result.rejections]
    (job,) = result.records
    return job


def test_format():
    assert (FORMAT.name, FORMAT.domain, FORMAT.parse) == ("schemaorg-jobposting", "jobs", parse)


# --------------------------------------------------------------------------- real sample


def test_real_sample_is_rejected_for_what_it_lacks(samples_dir):
    # the schema.org example is a US posting: no identifier, @id or url, no postal code
    data = (samples_dir / "schemaorg_JobPosting_eg-0028.jsonld").read_bytes()
    result = parse(data, PARTNER)

    assert result.records == []
    assert result.items == 1
    found = [(r.rule, r.field, r.value, r.title, r.source_id) for r in result.rejections]
    assert found == [
        ("RECORD_FIELD_MISSING", "source_id", None, "Software Engineer", None),
        ("RECORD_FIELD_MISSING", "address.postal_code", None, "Software Engineer", None),
    ]


def test_real_sample_fields(samples_dir):
    # what the sample maps to, shown by giving it the two fields it lacks
    posting = json.loads((samples_dir / "schemaorg_JobPosting_eg-0028.jsonld").read_text())
    posting["identifier"] = "eg-0028"
    posting["jobLocation"]["address"]["postalCode"] = "98033"
    (job,) = parse(json.dumps(posting).encode(), PARTNER).records

    assert job.title == "Software Engineer"
    assert job.organisation is None  # no hiringOrganization
    assert job.description.startswith("Description: ABC Company Inc. seeks a full-time")
    assert (job.address.city, job.address.state) == ("Kirkland", "WA")
    assert job.address.country == "DE"  # no addressCountry: the model's default
    assert job.working_time == [WorkingTime.FULL_TIME]  # "Full-time"
    assert job.employment_type == EmploymentType.EMPLOYEE
    assert job.occupation == "15-1132.00 Software Developers, Application"
    assert job.published_from == dt.date(2011, 10, 31)
    # baseSalary "100000" with salaryCurrency USD: not a euro amount, left out
    assert (job.salary_min, job.salary_max, job.salary_period) == (None, None, None)
    assert job.german_level is None
    assert job.remote_possible is None


# --------------------------------------------------------------------------- own fixtures


def test_careers_page_with_two_postings_in_two_blocks(fixtures_dir):
    data = (fixtures_dir / "formats" / "schemaorg_karriere_neunkirchen.html").read_bytes()
    result = parse(data, PARTNER)

    # the helper's second jobLocation is passed over, and said
    assert [(r.rule, r.source_id, r.value) for r in result.rejections] == [
        ("JOB_LOCATIONS_PASSED_OVER", "LZ-2026-014", "1")]
    assert result.items == 2
    nurse, helper = result.records

    assert nurse.source_id == "BA-PFK-2026-07"  # PropertyValue identifier
    assert nurse.title == "Pflegefachkraft (m/w/d) ambulante Pflege"
    assert nurse.organisation == "Seniorenzentrum Bliesaue gGmbH"  # @id reference to block 1
    assert str(nurse.url) == "https://bliesaue-pflege.example/karriere/pflegefachkraft-ambulant"
    assert nurse.address.street == "Wilhelm-Heinrich-Straße"
    assert nurse.address.house_number == "12a"
    assert nurse.address.postal_code == "66564"
    assert nurse.address.city == "Ottweiler"
    assert nurse.address.state == "Saarland"
    assert nurse.address.country == "DE"
    assert (nurse.geo.lat, nurse.geo.lon) == (49.4012, 7.1634)
    assert nurse.published_from == dt.date(2026, 3, 30)
    assert nurse.valid_through == dt.date(2026, 6, 30)
    assert nurse.start_date == dt.date(2026, 5, 1)
    assert nurse.working_time == [WorkingTime.FULL_TIME, WorkingTime.PART_TIME]
    assert nurse.employment_type == EmploymentType.EMPLOYEE
    assert nurse.occupation == "Gesundheits- und Krankenpfleger/in"
    assert (nurse.salary_min, nurse.salary_max, nurse.salary_period) == (3400, 3950.5, "month")
    assert nurse.german_level == "B2"
    assert nurse.description == (
        "Wir suchen für unseren ambulanten Dienst in Ottweiler Verstärkung.\n"
        "- Examen in der Pflege\n"
        "- Deutschkenntnisse mindestens B2\n"
        "- Führerschein Klasse B\n"
        "Wir freuen uns auf Sie & Ihre Bewerbung!"
    )
    assert nurse.contact.email == "bewerbung@bliesaue-pflege.example"
    assert nurse.contact.public is False

    assert helper.source_id == "LZ-2026-014"
    assert helper.title == "Lagerhelfer (m/w/d) – Aushilfe"  # whitespace collapsed
    assert helper.organisation == "Seniorenzentrum Bliesaue gGmbH – Zentrallager"
    # two jobLocations: the first is kept
    assert (helper.address.postal_code, helper.address.city) == ("66583", "Spiesen-Elversberg")
    assert (helper.address.street, helper.address.house_number) == ("Am Bahnhof", "3")
    assert helper.address.country == "DE"  # Country object
    assert helper.working_time == [WorkingTime.PART_TIME]
    assert helper.contract_duration == ContractDuration.FIXED_TERM  # TEMPORARY
    assert (helper.salary_min, helper.salary_max, helper.salary_period) == (13.9, 13.9, "hour")
    assert helper.published_from == dt.date(2026, 1, 12)
    assert helper.start_date is None  # "ab sofort"
    assert helper.german_level == "A2"
    assert helper.valid_through is None


def test_careers_page_as_a_cms_template_writes_it(fixtures_dir):
    # a BreadcrumbList first; a posting in CDATA with a line break and a tab inside the
    # description and a comma after the last entries; one block HTML-escaped (&quot;); a block
    # that is broken, named with the line of the page where it fails
    data = (fixtures_dir / "formats" / "schemaorg_karriere_cms_vorlage.html").read_bytes()
    result = parse(data, PARTNER)

    technician, cashier = result.records
    assert technician.source_id == "SW-2026-31"
    assert technician.description == ("Ihre Aufgaben:\nWartung der Anlagen, "
                                      "Bereitschaftsdienst.\nDeutschkenntnisse B1 erforderlich.")
    assert technician.german_level == "B1"
    assert technician.working_time == [WorkingTime.FULL_TIME]
    assert technician.contract_duration == ContractDuration.FIXED_TERM
    assert (technician.address.postal_code, technician.address.city) == ("66538", "Neunkirchen")
    assert (technician.salary_min, technician.salary_max, technician.salary_period) == (
        3300, 3900, "month")
    assert technician.valid_through == dt.date(2027, 1, 31)
    assert str(technician.url) == "https://stadtwerke-nk.example/karriere/sw-2026-31"

    assert cashier.source_id == "SW-2026-32"
    assert cashier.title == "Kassierer (m/w/d) im Bäderbetrieb"
    assert (cashier.address.street, cashier.address.house_number) == ("Zoostraße", "2")
    assert (cashier.salary_min, cashier.salary_period) == (14.25, "hour")
    assert cashier.working_time == [WorkingTime.PART_TIME]

    (broken,) = result.rejections
    assert (broken.rule, broken.value) == (
        "RECORD_UNREADABLE",
        "JSON-LD block 4 of 4: invalid JSON at line 34 column 2 of the page: Expecting ',' delimiter")
    assert result.items == 3


def test_a_page_whose_only_posting_is_broken_names_the_block():
    page = ('<html><head>\n<script type="application/ld+json">{"@type": "BreadcrumbList"}</script>\n'
            '<script type="application/ld+json">\n{"@type": "JobPosting",\n "title": "Koch"\n'
            ' "identifier": "K-1"}\n</script></head></html>').encode()
    with pytest.raises(FormatError) as refused:
        parse(page, PARTNER)
    assert str(refused.value) == (
        "no schema.org JobPosting found (the input has: BreadcrumbList); skipped: JSON-LD "
        "block 2 of 2: invalid JSON at line 6 column 2 of the page: Expecting ',' delimiter")


def test_graph_document(fixtures_dir):
    data = (fixtures_dir / "formats" / "schemaorg_stellen_graph.jsonld").read_bytes()
    result = parse(data, PARTNER)

    assert result.items == 3
    (intern,) = result.records
    assert intern.source_id == "https://stadtwerke-nk.example/jobs/praktikum-it"  # @id
    assert intern.organisation == "Stadtwerke Neunkirchen Beispiel GmbH"
    assert intern.employment_type == EmploymentType.INTERNSHIP
    assert intern.remote_possible is True
    assert (intern.salary_min, intern.salary_max, intern.salary_period) == (7200, 7200, "year")
    assert intern.address.state == "Saarland"  # DE-SL
    assert intern.address.country == "DE"  # Deutschland
    assert intern.german_level is None  # "Deutsch und Englisch auf B2-Niveau": not only German

    found = [(r.rule, r.field, r.value, r.source_id) for r in result.rejections]
    assert found == [
        ("RECORD_UNREADABLE", None, "@graph entry 5 is a string, not an object", None),
        ("RECORD_FIELD_MISSING", "address.postal_code", None,
         "https://stadtwerke-nk.example/jobs/ausbildung-elektro"),
    ]
    assert all(r.domain == "jobs" and r.partner_id == PARTNER for r in result.rejections)


def test_list_document(fixtures_dir):
    data = (fixtures_dir / "formats" / "schemaorg_stellen_liste.jsonld").read_bytes()
    result = parse(data, PARTNER)

    assert result.items == 4
    (educator,) = result.records
    assert educator.source_id == "ILL-2026-03"
    assert educator.organisation == "Gemeinde Illingen (Beispiel)"
    assert educator.working_time == [WorkingTime.PART_TIME]  # "Teilzeit"
    assert (educator.salary_min, educator.salary_max, educator.salary_period) == (
        3200, 4100, "month"
    )
    # a text address
    assert (educator.address.street, educator.address.house_number) == ("Hauptstraße", "86")
    assert (educator.address.postal_code, educator.address.city) == ("66557", "Illingen")
    assert educator.german_level == "C1"

    found = [(r.rule, r.field, r.value, r.source_id) for r in result.rejections]
    assert found == [
        ("RECORD_UNREADABLE", None, "list entry 4 is a number, not an object", None),
        ("RECORD_FIELD_INVALID", "valid_through", "bis auf Weiteres", "ILL-2026-04"),
        ("RECORD_ID_DUPLICATE", "source_id", "ILL-2026-03", "ILL-2026-03"),
    ]


# --------------------------------------------------------------------------- mapping details


@pytest.mark.parametrize(
    ("employment_type", "kind", "working", "contract"),
    [
        ("FULL_TIME", EmploymentType.EMPLOYEE, [WorkingTime.FULL_TIME], None),
        ("Part-time", EmploymentType.EMPLOYEE, [WorkingTime.PART_TIME], None),
        ("https://schema.org/PART_TIME", EmploymentType.EMPLOYEE, [WorkingTime.PART_TIME], None),
        ("TEMPORARY", EmploymentType.EMPLOYEE, [], ContractDuration.FIXED_TERM),
        ("INTERN", EmploymentType.INTERNSHIP, [], None),
        ("CONTRACTOR", EmploymentType.SELF_EMPLOYED, [], None),
        ("VOLUNTEER", EmploymentType.OTHER, [], None),
        ("PER_DIEM", EmploymentType.OTHER, [], None),
        ("OTHER", EmploymentType.OTHER, [], None),
        ("Minijob", EmploymentType.MINI_JOB, [WorkingTime.MINI], None),
        (["FULL_TIME", "APPRENTICESHIP"], EmploymentType.APPRENTICESHIP,
         [WorkingTime.FULL_TIME], None),
        (["Vollzeit", "unbefristet"], EmploymentType.EMPLOYEE, [WorkingTime.FULL_TIME],
         ContractDuration.PERMANENT),
        ("Vollzeit/Teilzeit", EmploymentType.EMPLOYEE,
         [WorkingTime.FULL_TIME, WorkingTime.PART_TIME], None),
        ("FULL_TIME, PART_TIME", EmploymentType.EMPLOYEE,
         [WorkingTime.FULL_TIME, WorkingTime.PART_TIME], None),
        ("Nach Absprache", EmploymentType.EMPLOYEE, [], None),  # free text: ignored
    ],
)
def test_employment_type(employment_type, kind, working, contract):
    job = _one(employmentType=employment_type)
    assert (job.employment_type, job.working_time, job.contract_duration) == (
        kind, working, contract
    )


def test_work_hours_when_employment_type_is_silent():
    assert _one(workHours="Teilzeit, 20 Stunden").working_time == [WorkingTime.PART_TIME]
    # an employmentType in words with a remark: read as workHours are
    assert _one(employmentType="Teilzeit (20 Std.)").working_time == [WorkingTime.PART_TIME]
    assert _one(workHours="40 hours per week").working_time == []


@pytest.mark.parametrize(
    ("salary", "extra", "expected"),
    [
        ({"@type": "MonetaryAmount", "currency": "EUR",
          "value": {"@type": "QuantitativeValue", "minValue": 3000, "maxValue": 3600,
                    "unitText": "MONTH"}}, {}, (3000, 3600, "month")),
        ({"@type": "MonetaryAmount", "currency": "EUR",
          "value": {"@type": "QuantitativeValue", "value": 15.5, "unitCode": "HUR"}}, {},
         (15.5, 15.5, "hour")),
        ({"@type": "MonetaryAmount", "minValue": "42.000", "maxValue": "48.000",
          "value": {"unitText": "YEAR"}}, {}, (42000, 48000, "year")),
        (2800, {}, (2800, 2800, None)),
        ("3.200 - 3.800 €", {}, (3200, 3800, None)),
        # the period said after an amount in text, as job plugins write baseSalary
        ("13,90 € / Stunde", {}, (13.9, 13.9, "hour")),
        # one amount with words that bound it: that end only (both were published)
        ({"@type": "MonetaryAmount", "currency": "EUR",
          "value": {"value": "ab 2.800 €", "unitText": "MONTH"}}, {}, (2800, None, "month")),
        ("bis 3.500 € mtl.", {}, (None, 3500, "month")),
        ("mind. 14 €/Std.", {}, (14, None, "hour")),
        ({"@type": "MonetaryAmount", "currency": "EUR", "value": "45.000 € p.a."}, {},
         (45000, 45000, "year")),
        ({"@type": "MonetaryAmount", "currency": "EUR",
          "value": {"minValue": "2.800 € mtl.", "maxValue": "3.100 € mtl."}}, {},
         (2800, 3100, "month")),
        ("nach Vereinbarung", {}, (None, None, None)),
        ({"@type": "MonetaryAmount", "currency": "CHF", "value": 6000}, {}, (None, None, None)),
        (5000, {"salaryCurrency": "USD"}, (None, None, None)),
        ({"@type": "MonetaryAmount", "currency": "EUR",
          "value": {"value": 900, "unitText": "WEEK"}}, {}, (None, None, None)),
    ],
)
def test_base_salary(salary, extra, expected):
    result = parse(json.dumps(_posting(baseSalary=salary, **extra)).encode(), PARTNER)
    (job,) = result.records
    assert (job.salary_min, job.salary_max, job.salary_period) == expected
    # pay in words and pay per week are said (a warning), nothing else
    assert [r.rule for r in result.rejections] == (
        ["JOB_SALARY_IN_WORDS"] if salary == "nach Vereinbarung"
        else ["JOB_SALARY_PERIOD_NOT_PUBLISHED"] if "WEEK" in json.dumps(salary) else [])


@pytest.mark.parametrize(
    ("salary", "shown"),
    [({"@type": "MonetaryAmount", "currency": "EUR",
       "value": {"@type": "QuantitativeValue", "value": 650, "unitText": "WEEK"}}, "WEEK"),
     ({"@type": "MonetaryAmount", "currency": "EUR",
       "value": {"@type": "QuantitativeValue", "minValue": 110, "maxValue": 130,
                 "unitCode": "DAY"}}, "DAY"),
     ({"@type": "MonetaryAmount", "currency": "EUR",
       "value": {"@type": "QuantitativeValue", "value": "500 €/Woche"}}, "500 €/Woche")],
)
def test_pay_per_week_or_day_publishes_the_posting_without_a_salary_and_says_so(salary, shown):
    """The directory shows pay per hour, month or year: a weekly or daily pay was left out
    without a word; now the partner learns it (as csv-jobs tells of 'Gehalt pro: Woche')."""
    result = parse(json.dumps(_posting(baseSalary=salary)).encode(), PARTNER)
    (job,) = result.records
    assert (job.salary_min, job.salary_max, job.salary_period) == (None, None, None)
    assert [(r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("JOB_SALARY_PERIOD_NOT_PUBLISHED", "warning", "salary_period", shown)]
    assert "hour, month or year" in result.rejections[0].message_en
    # a week without an amount, or in another currency, leaves nothing out to tell of
    for quiet in ({"@type": "MonetaryAmount", "currency": "EUR", "value": {"unitText": "WEEK"}},
                  {"@type": "MonetaryAmount", "currency": "CHF",
                   "value": {"value": 650, "unitText": "WEEK"}}):
        assert parse(json.dumps(_posting(baseSalary=quiet)).encode(), PARTNER).rejections == []


def test_inverted_salary_range_is_left_to_the_quality_stage():
    job = _one(baseSalary={"@type": "MonetaryAmount", "minValue": 4000, "maxValue": 3000})
    assert (job.salary_min, job.salary_max) == (4000, 3000)


def test_negative_salary_is_rejected():
    data = json.dumps(_posting(baseSalary=-5)).encode()
    (rejection, *_) = parse(data, PARTNER).rejections
    assert (rejection.rule, rejection.field, rejection.value) == (
        "RECORD_FIELD_INVALID", "salary_min", "-5"  # as sent, not "-5.0"
    )


@pytest.mark.parametrize(
    ("location_type", "expected"),
    [("TELECOMMUTE", True), (["TELECOMMUTE"], True), ("https://schema.org/TELECOMMUTE", True),
     ("ONSITE", None), (None, None)],
)
def test_telecommute(location_type, expected):
    assert _one(jobLocationType=location_type).remote_possible is expected


def test_a_remote_job_without_a_place_of_work_says_why_it_is_not_published():
    """A JSON-LD remote job often names no jobLocation: the partner learns that the
    directory needs the place of work, not only which fields are missing."""
    remote = _posting(jobLocationType="TELECOMMUTE", jobLocation=None,
                      applicantLocationRequirements={"@type": "Country", "name": "DE"})
    result = parse(json.dumps(remote).encode(), PARTNER)
    assert result.records == []
    assert [(r.rule, r.value) for r in result.rejections][0] == (
        "JOB_REMOTE_WITHOUT_WORKPLACE", "TELECOMMUTE")
    # ...and which address it needs: the employer's or office's, as the directory is regional
    remote_only = result.rejections[0]
    assert "regional" in remote_only.message_en
    assert "address of its employer or office" in remote_only.message_en
    assert "Adresse des Arbeitgebers oder des Büros" in remote_only.hint
    assert {r.field for r in result.rejections[1:]} == {"address.postal_code", "address.city"}
    # with a place of work it is a job like any other, remote possible
    assert _one(jobLocationType="TELECOMMUTE").remote_possible is True


def test_applicant_location_requirements_are_ignored():
    job = _one(applicantLocationRequirements={"@type": "Country", "name": "DE"})
    assert job.address.postal_code == "66538"


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Deutsch B2"], "B2"),
        (["Deutschkenntnisse mindestens B1, besser B2"], "B1"),
        (["Deutsch in Wort und Schrift (C1)"], "C1"),
        (["B2 Deutsch, C1 Englisch"], "B2"),
        (["Deutsch B2 und Englisch C1"], "B2"),
        (["German: B2 or higher"], "B2"),
        (["Sprachkenntnisse: Deutsch – A2.2"], "A2"),
        (["Deutsch B1-B2"], None),  # a range: not one level
        (["Deutsch B1", "Deutsch B2"], None),  # two fields disagree
        (["Englisch C1"], None),
        (["Sprachniveau B2"], None),  # which language?
        (["Führerschein Klasse C1"], None),
        ([], None),
    ],
)
def test_german_level(texts, expected):
    assert german_level(texts) == expected


@pytest.mark.parametrize(
    ("overrides", "level", "required"),
    [({"description": "Lagerarbeit im Schichtdienst. Keine Deutschkenntnisse erforderlich."}, None, False),
     ({"skills": "No German required, English is enough"}, None, False),
     ({"skills": "Deutsch B1"}, "B1", True),
     ({"description": "Lagerarbeit im Schichtdienst."}, None, None)],
)
def test_a_posting_that_needs_no_german_says_so(overrides, level, required):
    """What a newcomer without German looks for: german_required false, from the posting's
    requirement texts; a level makes it true; nothing said leaves it open."""
    job = _one(**overrides)
    assert (job.german_level, job.german_required) == (level, required)


def test_german_level_from_skills_terms():
    skills = [{"@type": "DefinedTerm", "name": "Staplerschein"},
              {"@type": "DefinedTerm", "name": "Deutsch (B1)"}]
    assert _one(skills=skills).german_level == "B1"


def test_title_falls_back_to_name_and_html_description():
    job = _one(title=None, name="Koch (m/w/d)", description="&lt;p&gt;Frühschicht&lt;/p&gt;")
    assert job.title == "Koch (m/w/d)"
    assert job.description == "Frühschicht"


@pytest.mark.parametrize(
    ("posting", "expected"),
    [
        ({"identifier": None, "@id": "https://a.example/#job-3", "url": "https://a.example/j"},
         "https://a.example/#job-3"),
        ({"identifier": None, "url": "https://a.example/j"}, "https://a.example/j"),
        ({"identifier": {"@type": "PropertyValue", "value": 99}}, "99"),
    ],
)
def test_source_id(posting, expected):
    assert _one(**posting).source_id == expected


def test_valid_through_in_utc_counts_in_berlin():
    assert _one(validThrough="2026-06-30T22:00:00Z").valid_through == dt.date(2026, 7, 1)
    assert _one(dateModified="2026-01-05T08:00:00").updated_at == dt.datetime(
        2026, 1, 5, 8, tzinfo=BERLIN
    )


def test_webpage_with_job_as_main_entity():
    page = {"@context": "https://schema.org", "@type": "WebPage",
            "mainEntity": _posting(identifier="W-1")}
    (job,) = parse(json.dumps(page).encode(), PARTNER).records
    assert job.source_id == "W-1"


def test_several_records_one_broken():
    postings = [
        _posting(identifier="A"),
        _posting(identifier="B", title="  "),
        _posting(identifier="C", datePosted="gestern"),
    ]
    result = parse(json.dumps(postings).encode(), PARTNER)
    assert [job.source_id for job in result.records] == ["A"]
    assert result.items == 3
    assert {(r.rule, r.source_id, r.field) for r in result.rejections} == {
        ("RECORD_FIELD_MISSING", "B", "title"),
        ("RECORD_FIELD_INVALID", "C", "published_from"),
    }


# --------------------------------------------------------------------------- unusable input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the input is empty"),
        (b"Wartungsarbeiten", "invalid JSON at line 1 column 1"),
        (b"<html><body>Keine Stellen</body></html>", "HTML page without JSON-LD"),
        (b'{"@type": "Course", "name": "Deutsch A1"}',
         r"no schema.org JobPosting found \(the input has: Course\)"),
        (b'{"name": "ohne Typ"}',
         r"no schema.org JobPosting found \(the input has no typed node\)"),
        (b'{"@type": "jobposting"}', "no schema.org JobPosting found"),
        (b"[1, 2]", "no schema.org JobPosting found"),
        (b"[]", "no schema.org JobPosting found"),
    ],
)
def test_unusable_input_is_refused(data, message):
    with pytest.raises(FormatError, match=message) as error:
        parse(data, PARTNER)
    assert "\n" not in str(error.value)


def test_invalid_json_in_one_of_two_blocks():
    page = (
        "<html><head>"
        f'<script type="application/ld+json">{json.dumps(_posting())}</script>'
        '<script type="application/ld+json">{"@type": "JobPosting", "title": "kaputt",</script>'
        "</head></html>"
    ).encode()
    result = parse(page, PARTNER)
    assert [job.source_id for job in result.records] == ["NK-1"]
    (rejection,) = result.rejections
    assert rejection.rule == "RECORD_UNREADABLE"
    assert rejection.value.startswith("JSON-LD block 2 of 2: invalid JSON at line 1 column")
    assert result.items == 2


def test_page_whose_only_block_is_invalid_is_refused():
    page = b'<html><script type="application/ld+json">{"@type": "JobPosting",</script></html>'
    with pytest.raises(FormatError, match="no usable JSON-LD block"):
        parse(page, PARTNER)


def test_truncated_fixture_is_refused(fixtures_dir):
    data = (fixtures_dir / "formats" / "schemaorg_stellen_graph.jsonld").read_bytes()
    with pytest.raises(FormatError, match=r"invalid JSON at line \d+ column \d+"):
        parse(data[: len(data) // 2], PARTNER)


# --------------------------------------------------------------------------- property


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_format_error(data):
    parse_or_refuse(parse, data, PARTNER)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_in_a_page_only_raises_format_error(text):
    page = f'<html><script type="application/ld+json">{text}</script></html>'
    parse_or_refuse(parse, page.encode("utf-8", "surrogatepass"), PARTNER)


_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["FULL_TIME", "TELECOMMUTE", "MONTH", "EUR", "66538", "2026-03-30",
                       "2026-03-30T10:00:00Z", "Deutsch B2", "<p>x</p>", "P1M", "-3"])
)
_keys = st.sampled_from(
    ["@type", "@id", "identifier", "title", "name", "url", "hiringOrganization", "jobLocation",
     "address", "postalCode", "addressLocality", "streetAddress", "addressCountry", "geo",
     "latitude", "longitude", "baseSalary", "value", "minValue", "maxValue", "unitText",
     "currency", "employmentType", "datePosted", "validThrough", "jobStartDate", "skills",
     "description", "jobLocationType", "occupationalCategory", "applicationContact", "email"]
) | st.text(max_size=5)
_json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=8),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=_json_values, wrap=st.sampled_from(["object", "list", "graph", "page"]))
def test_posting_shaped_input_only_raises_format_error(value, wrap):
    node = {**value, "@type": "JobPosting"} if isinstance(value, dict) else value
    if wrap == "list":
        text = json.dumps([node, value])
    elif wrap == "graph":
        text = json.dumps({"@graph": [node, {"@id": "#x", "@type": "JobPosting", "v": value}]})
    else:
        text = json.dumps(node)
    if wrap == "page":
        text = f'<html><script type="application/ld+json">{text}</script></html>'
    parse_or_refuse(parse, text.encode("utf-8", "surrogatepass"), PARTNER)


def test_coordinates_written_as_text_are_read_as_json_ld_writes_numbers():
    """'49.347' is a latitude with three decimals, not 49347 (which rejected the posting)."""
    job = _one(jobLocation={"@type": "Place",
                            "address": {"@type": "PostalAddress", "postalCode": "66538",
                                        "addressLocality": "Neunkirchen"},
                            "geo": {"@type": "GeoCoordinates", "latitude": "49.347", "longitude": "7.181"}})
    assert (job.geo.lat, job.geo.lon) == (49.347, 7.181)


@pytest.mark.parametrize("grade", ["TVöD S8a", "Entgeltgruppe 9a TVöD", "nach Tarif"])
def test_pay_named_by_its_collective_agreement_publishes_the_posting_with_a_warning(grade):
    """Public employers write the pay grade into baseSalary: the posting is published without
    a salary and the partner is told (it was rejected for an invalid salary)."""
    posting = _posting(baseSalary={"@type": "MonetaryAmount", "currency": "EUR",
                                   "value": {"@type": "QuantitativeValue", "value": grade,
                                             "unitText": "MONTH"}})
    result = parse(json.dumps(posting).encode(), PARTNER)
    (job,) = result.records
    assert (job.salary_min, job.salary_max) == (None, None)
    assert [(r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("JOB_SALARY_IN_WORDS", "warning", "salary_min", grade)]


def test_an_amount_with_words_around_it_is_the_amount():
    job = _one(baseSalary={"@type": "MonetaryAmount", "currency": "EUR",
                           "value": {"@type": "QuantitativeValue", "value": "ab 13,90 € / Std.",
                                     "unitText": "HOUR"}})
    # 'ab': from 13,90 € on, no highest pay (as csv-jobs reads 'ab 13,90 €' in Gehalt von)
    assert (job.salary_min, job.salary_max, job.salary_period) == (13.9, None, "hour")


def test_several_places_of_work_keep_the_first_and_say_how_many_were_passed_over():
    """One record per posting (its source id is the partner's own): the places after the
    first were lost without a word; now the partner learns how many (the same address twice
    counts once, the first's repeated not at all)."""
    def place(postal_code, city):
        return {"@type": "Place", "address": {"@type": "PostalAddress", "postalCode": postal_code,
                                              "addressLocality": city}}

    posting = _posting(jobLocation=[place("66538", "Neunkirchen"), place("66111", "Saarbrücken"),
                                    place("66424", "Homburg"), place("66111", "Saarbrücken"),
                                    place("66538", "Neunkirchen")])
    result = parse(json.dumps(posting).encode(), PARTNER)
    (job,) = result.records
    assert (job.source_id, job.address.postal_code) == ("NK-1", "66538")
    assert [(r.rule, r.severity, r.field, r.value) for r in result.rejections] == [
        ("JOB_LOCATIONS_PASSED_OVER", "warning", "address", "2")]
    assert "(number: 2)" in result.rejections[0].message_en
    # one place, also as a list of one: nothing to say
    assert _one(jobLocation=[place("66538", "Neunkirchen")]).address.city == "Neunkirchen"
