"""Deterministic, realistic partner feeds for Landkreis Neunkirchen (Saarland).

``generate(today, seed)`` returns the feeds the district's partners would deliver, written in
the formats real partners send:

- the Jobcenter: a BA Jobsuche v6 search response with about 80 postings;
- two employers: one BA v6, one BA v4 export; a few of their postings are also in the
  Jobcenter feed (same reference number and content);
- three language schools: the hub's CSV course template, each saved differently
  (``;`` UTF-8 with BOM, ``;`` Windows-1252, ``,`` UTF-8); one joint course is listed by two;
- the seven municipalities and one housing company: OpenImmo 1.2.7 ``VOLL`` deliveries; three
  of the company's flats are also offered by a municipality.

A few records carry defects real partners make; ``DemoData.broken`` lists them with the rule
code the hub should report. Everything is a pure function of ``(today, seed)``: no wall clock,
no global random state. Source ids depend on the seed only, so generating the demo on another
day gives the same ids with shifted dates, as a real partner's next delivery would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import string
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import yaml
from lxml import etree

DISTRICT_AGS = "10043"
DISTRICT_NAME = "Landkreis Neunkirchen"


# =========================================================================== geography


@dataclass(frozen=True)
class Quarter:
    """A part of a town with its own postal code and centre (the town itself if it has one)."""

    name: str
    postal_code: str
    lat: float
    lon: float
    streets: tuple[str, ...]


@dataclass(frozen=True)
class Town:
    name: str
    ags: str
    phone_prefix: str
    quarters: tuple[Quarter, ...]

    @property
    def postal_codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(quarter.postal_code for quarter in self.quarters))


TOWNS: tuple[Town, ...] = (
    Town("Eppelborn", "10043111", "06881", (
        Quarter("Eppelborn", "66571", 49.4027, 6.9693, (
            "Rathausstraße", "Bahnhofstraße", "Kirchstraße", "Dirminger Straße",
            "Humeser Straße", "Schulstraße", "Illstraße", "Am Sportplatz",
        )),
    )),
    Town("Illingen", "10043112", "06825", (
        Quarter("Illingen", "66557", 49.3740, 7.0478, (
            "Hauptstraße", "Burgstraße", "Gymnasialstraße", "Ottweiler Straße",
            "Merchweiler Straße", "Poststraße", "Schulstraße", "Lindenstraße",
        )),
    )),
    Town("Merchweiler", "10043113", "06825", (
        Quarter("Merchweiler", "66589", 49.3570, 7.0566, (
            "Hauptstraße", "Allenfeldstraße", "Pestalozzistraße", "Illinger Straße",
            "Bahnhofstraße", "Wemmetsweilerstraße", "Kirchstraße", "Am Bergwerk",
        )),
    )),
    Town("Neunkirchen", "10043114", "06821", (
        Quarter("Neunkirchen", "66538", 49.3452, 7.1800, (
            "Hüttenbergstraße", "Lindenallee", "Bahnhofstraße", "Stummstraße", "Hohlstraße",
            "Marienstraße", "Irrgartenstraße", "Lessingstraße", "Zweibrücker Straße",
            "Saarbrücker Straße",
        )),
        Quarter("Wellesweiler", "66539", 49.3357, 7.2058, (
            "Wellesweilerstraße", "Kohlhofstraße", "Limbacher Straße", "Eisenbahnstraße",
            "Bürgermeister-Regitz-Straße",
        )),
        Quarter("Wiebelskirchen", "66540", 49.3683, 7.1721, (
            "Kuchenbergstraße", "Seitersstraße", "Wiebelskircher Straße", "Hangarder Straße",
            "Ottweiler Straße",
        )),
    )),
    Town("Ottweiler", "10043115", "06824", (
        Quarter("Ottweiler", "66564", 49.4012, 7.1638, (
            "Wilhelm-Heinrich-Straße", "Goethestraße", "Schloßstraße", "Reiherswaldweg",
            "Neunkircher Straße", "Illinger Straße", "Lindenstraße", "Marktstraße",
        )),
    )),
    Town("Schiffweiler", "10043116", "06821", (
        Quarter("Schiffweiler", "66578", 49.3662, 7.1288, (
            "Rathausstraße", "Klosterstraße", "Ottweiler Straße", "Hauptstraße",
            "Landsweiler Straße", "Schulstraße", "Bergstraße", "Grubenstraße",
        )),
    )),
    Town("Spiesen-Elversberg", "10043117", "06821", (
        Quarter("Spiesen-Elversberg", "66583", 49.3172, 7.1253, (
            "Hauptstraße", "Kirchstraße", "Bahnhofstraße", "Rohrbacher Straße",
            "Eisenbahnstraße", "Friedhofstraße", "Gartenstraße", "Saarbrücker Straße",
        )),
    )),
)

TOWN_BY_NAME: dict[str, Town] = {town.name: town for town in TOWNS}
DISTRICT_POSTAL_CODES: frozenset[str] = frozenset(
    code for town in TOWNS for code in town.postal_codes
)


@dataclass(frozen=True)
class Place:
    """One address with coordinates inside its town."""

    street: str
    house_number: str
    town: Town
    quarter: Quarter
    lat: float
    lon: float

    @property
    def postal_code(self) -> str:
        return self.quarter.postal_code

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.street, self.house_number, self.postal_code)


def _place(rng: random.Random, town: Town, quarter: Quarter | None = None,
           street: str | None = None, house_number: str | None = None) -> Place:
    quarter = quarter or rng.choice(town.quarters)
    street = street or rng.choice(quarter.streets)
    if house_number is None:
        house_number = str(rng.randint(1, 96))
        if rng.random() < 0.12:
            house_number += rng.choice("ab")
    # within about 400 m of the quarter's centre: well inside every town
    lat = round(quarter.lat + rng.uniform(-0.0035, 0.0035), 6)
    lon = round(quarter.lon + rng.uniform(-0.0055, 0.0055), 6)
    return Place(street, house_number, town, quarter, lat, lon)


def _phone(rng: random.Random, town: Town) -> str:
    return f"{town.phone_prefix} {rng.randint(2, 9)}{rng.randint(0, 9999):04d}"


def _slug(text: str) -> str:
    text = text.lower()
    for old, new in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("&", "und")):
        text = text.replace(old, new)
    out = "".join(ch if ch.isalnum() else "-" for ch in text)
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")


# =========================================================================== result types


@dataclass(frozen=True)
class DemoFeed:
    partner_id: str
    domain: str  # "jobs", "courses", "housing"
    format: str  # registry format name
    path: str  # URL path on the demo feed server
    body: bytes
    content_type: str


class BrokenRecord(NamedTuple):
    """A record planted with a defect, and what the hub should say about it."""

    partner_id: str
    source_id: str | None
    rule: str
    field: str


@dataclass
class DemoData:
    feeds: list[DemoFeed]
    partners: list[dict]  # registry entries without the feed source
    broken: list[BrokenRecord]
    duplicates: dict[str, int]  # domain -> cross-partner duplicate pairs planted
    counts: dict[str, int] = field(default_factory=dict)  # partner id -> items in its feed

    def feed(self, partner_id: str, domain: str | None = None) -> DemoFeed:
        for feed in self.feeds:
            if feed.partner_id == partner_id and (domain is None or feed.domain == domain):
                return feed
        raise KeyError(partner_id)


# =========================================================================== jobs


@dataclass(frozen=True)
class Occupation:
    key: str
    titles: tuple[str, ...]
    beruf: str
    period: str | None  # MONATSGEHALT, STUNDENLOHN or None (no salary stated)
    low: float
    high: float
    shift: bool = False
    part_time_ok: bool = False
    lateral_entry: bool = False  # quereinstiegGeeignet
    remote: bool = False
    training: bool = False  # Ausbildung


OCCUPATIONS: dict[str, Occupation] = {o.key: o for o in (
    Occupation("pflege", (
        "Pflegefachkraft (m/w/d)", "Pflegefachkraft (m/w/d) für den Nachtdienst",
        "Examinierte Pflegefachkraft (m/w/d) in Voll- oder Teilzeit",
        "Pflegefachkraft (m/w/d) in der ambulanten Pflege",
    ), "Pflegefachmann/-frau", "MONATSGEHALT", 3500, 4300, shift=True, part_time_ok=True),
    Occupation("pflegehilfe", (
        "Pflegehelfer (m/w/d)", "Pflegeassistent (m/w/d) in Teilzeit",
        "Betreuungskraft (m/w/d) nach § 43b SGB XI",
    ), "Helfer/in - Altenpflege", "STUNDENLOHN", 14.50, 16.90, shift=True, part_time_ok=True,
        lateral_entry=True),
    Occupation("lager", (
        "Fachkraft für Lagerlogistik (m/w/d)", "Fachlagerist (m/w/d)",
    ), "Fachkraft - Lagerlogistik", "MONATSGEHALT", 2750, 3300, shift=True),
    Occupation("lagerhilfe", (
        "Lagerhelfer (m/w/d)", "Kommissionierer (m/w/d) im Zweischichtbetrieb",
        "Staplerfahrer (m/w/d)",
    ), "Helfer/in - Lagerwirtschaft", "STUNDENLOHN", 14.00, 16.20, shift=True,
        lateral_entry=True),
    Occupation("bus", (
        "Busfahrer (m/w/d) im Linienverkehr", "Berufskraftfahrer (m/w/d) Personenverkehr",
        "Schulbusfahrer (m/w/d) in Teilzeit",
    ), "Berufskraftfahrer/in (Personenverkehr/Bus)", "MONATSGEHALT", 2900, 3450, shift=True),
    Occupation("lkw", (
        "Berufskraftfahrer (m/w/d) CE im Nahverkehr", "LKW-Fahrer (m/w/d) Klasse C/CE",
    ), "Berufskraftfahrer/in (Güterverkehr/LKW)", "MONATSGEHALT", 2800, 3400),
    Occupation("erzieher", (
        "Erzieher (m/w/d)", "Erzieher (m/w/d) für unsere Krippengruppe",
        "Sozialassistent (m/w/d) in der Kita",
    ), "Erzieher/in", "MONATSGEHALT", 3300, 4200, part_time_ok=True),
    Occupation("elektro", (
        "Elektroniker für Energie- und Gebäudetechnik (m/w/d)",
        "Elektriker (m/w/d) im Kundendienst", "Elektroniker für Betriebstechnik (m/w/d)",
    ), "Elektroniker/in - Energie- und Gebäudetechnik", "MONATSGEHALT", 3100, 3900),
    Occupation("koch", (
        "Koch (m/w/d)", "Jungkoch (m/w/d)", "Beikoch (m/w/d)",
    ), "Koch/Köchin", "MONATSGEHALT", 2600, 3200, shift=True),
    Occupation("kuechenhilfe", (
        "Küchenhilfe (m/w/d)", "Spülkraft (m/w/d) auf Minijob-Basis",
    ), "Küchenhelfer/in", "STUNDENLOHN", 13.90, 14.80, lateral_entry=True, part_time_ok=True),
    Occupation("reinigung", (
        "Reinigungskraft (m/w/d) in Teilzeit", "Unterhaltsreinigungskraft (m/w/d)",
        "Reinigungskraft (m/w/d) auf Minijob-Basis",
    ), "Reinigungskraft", "STUNDENLOHN", 14.25, 15.20, lateral_entry=True, part_time_ok=True),
    Occupation("verkauf", (
        "Verkäufer (m/w/d)", "Verkäufer (m/w/d) in Teilzeit",
        "Kassierer (m/w/d) auf Minijob-Basis", "Verkaufshilfe (m/w/d) für Samstage",
    ), "Verkäufer/in", "MONATSGEHALT", 2400, 2900, part_time_ok=True),
    Occupation("buero", (
        "Kaufmann/-frau für Büromanagement (m/w/d)", "Sachbearbeiter (m/w/d) Buchhaltung",
        "Bürokraft (m/w/d) in Teilzeit",
    ), "Kaufmann/-frau - Büromanagement", "MONATSGEHALT", 2900, 3600, remote=True),
    Occupation("produktion", (
        "Maschinen- und Anlagenführer (m/w/d)", "Produktionshelfer (m/w/d) im Dreischichtbetrieb",
    ), "Maschinen- und Anlagenführer/in", "MONATSGEHALT", 2900, 3500, shift=True),
    Occupation("mfa", (
        "Medizinische Fachangestellte (m/w/d)", "Zahnmedizinische Fachangestellte (m/w/d)",
    ), "Medizinische/r Fachangestellte/r", "MONATSGEHALT", 2500, 3100, part_time_ok=True),
    Occupation("shk", (
        "Anlagenmechaniker SHK (m/w/d)", "Heizungsbauer (m/w/d)",
    ), "Anlagenmechaniker/in - Sanitär-, Heizungs- und Klimatechnik", "MONATSGEHALT", 3000,
        3800),
    Occupation("kfz", (
        "Kfz-Mechatroniker (m/w/d)", "Kfz-Mechaniker (m/w/d) für Nutzfahrzeuge",
    ), "Kraftfahrzeugmechatroniker/in", "MONATSGEHALT", 2900, 3600),
    Occupation("sozial", (
        "Sozialpädagoge (m/w/d) Migrationsberatung", "Sozialarbeiter (m/w/d) Jugendhilfe",
    ), "Sozialarbeiter/in / Sozialpädagoge/-pädagogin", "MONATSGEHALT", 3900, 4700,
        part_time_ok=True, remote=True),
    Occupation("hausmeister", (
        "Hausmeister (m/w/d)", "Haustechniker (m/w/d)",
    ), "Hausmeister/in", "MONATSGEHALT", 2600, 3100),
    Occupation("service", (
        "Servicekraft (m/w/d) Gastronomie", "Housekeeping-Mitarbeiter (m/w/d)",
    ), "Fachkraft - Gastronomie", "STUNDENLOHN", 13.90, 15.50, shift=True, part_time_ok=True,
        lateral_entry=True),
    Occupation("azubi-pflege", ("Ausbildung Pflegefachmann/-frau (m/w/d) {year}",),
               "Pflegefachmann/-frau", "MONATSGEHALT", 1340, 1500, training=True),
    Occupation("azubi-lager", ("Ausbildung Fachkraft für Lagerlogistik (m/w/d) {year}",),
               "Fachkraft - Lagerlogistik", "MONATSGEHALT", 1000, 1200, training=True),
    Occupation("azubi-elektro", (
        "Ausbildung Elektroniker für Energie- und Gebäudetechnik (m/w/d) {year}",
    ), "Elektroniker/in - Energie- und Gebäudetechnik", "MONATSGEHALT", 950, 1150,
        training=True),
    Occupation("azubi-handel", (
        "Ausbildung Kaufmann/-frau im Einzelhandel (m/w/d) {year}",
        "Ausbildung Verkäufer (m/w/d) {year}",
    ), "Kaufmann/-frau - Einzelhandel", "MONATSGEHALT", 1000, 1250, training=True),
    Occupation("azubi-koch", ("Ausbildung Koch/Köchin (m/w/d) {year}",),
               "Koch/Köchin", None, 0, 0, training=True),
    Occupation("azubi-kfz", ("Ausbildung Kfz-Mechatroniker (m/w/d) {year}",),
               "Kraftfahrzeugmechatroniker/in", "MONATSGEHALT", 950, 1150, training=True),
    Occupation("azubi-mfa", ("Ausbildung Medizinische Fachangestellte (m/w/d) {year}",),
               "Medizinische/r Fachangestellte/r", None, 0, 0, training=True),
)}


@dataclass(frozen=True)
class Employer:
    name: str
    sectors: tuple[str, ...]
    sites: tuple[tuple[str, int], ...]  # (town, quarter index)
    website: bool = True


# Fictional employers; the two partner employers come first.
EMPLOYER_A = Employer(
    "Kohlbach Logistik GmbH & Co. KG",
    ("lager", "lagerhilfe", "lkw", "buero", "azubi-lager", "kfz", "hausmeister"),
    (("Neunkirchen", 1), ("Spiesen-Elversberg", 0)),
)
EMPLOYER_B = Employer(
    "Seniorenhilfe Ottweiler e.V.",
    ("pflege", "pflegehilfe", "kuechenhilfe", "hausmeister", "azubi-pflege", "sozial",
     "reinigung"),
    (("Ottweiler", 0), ("Schiffweiler", 0), ("Neunkirchen", 2)),
)
EMPLOYERS: tuple[Employer, ...] = (
    Employer("Kita-Zentrum Wiebelskirchen e.V.", ("erzieher",), (("Neunkirchen", 2),)),
    Employer("Seniorenzentrum Am Hüttenberg GmbH",
             ("pflege", "pflegehilfe", "kuechenhilfe", "azubi-pflege"), (("Neunkirchen", 0),)),
    Employer("Bliestal-Bus GmbH", ("bus", "kfz", "buero"), (("Neunkirchen", 1),)),
    Employer("Elektro Jung GmbH", ("elektro", "azubi-elektro"), (("Neunkirchen", 0),)),
    Employer("MVZ Neunkirchen-Mitte GmbH", ("mfa", "buero", "azubi-mfa"), (("Neunkirchen", 0),)),
    Employer("Hotel am Stummplatz GmbH", ("koch", "service", "kuechenhilfe", "azubi-koch"),
             (("Neunkirchen", 0),)),
    Employer("Frischemarkt Weber e.K.", ("verkauf", "azubi-handel", "lagerhilfe"),
             (("Neunkirchen", 2),), website=False),
    Employer("Saar-Glanz Gebäudereinigung GmbH", ("reinigung", "hausmeister"),
             (("Neunkirchen", 0),)),
    Employer("Migrationsdienst Blies e.V.", ("sozial", "buero"), (("Neunkirchen", 0),)),
    Employer("Autohaus Reinert GmbH & Co. KG", ("kfz", "azubi-kfz", "buero"),
             (("Ottweiler", 0),)),
    Employer("Bäckerei Hoffmann GmbH", ("verkauf", "azubi-handel"), (("Ottweiler", 0),)),
    Employer("Gasthaus Zum Schlossberg GmbH", ("koch", "service"), (("Ottweiler", 0),),
             website=False),
    Employer("Landsweiler Kunststofftechnik GmbH & Co. KG", ("produktion", "lagerhilfe"),
             (("Schiffweiler", 0),)),
    Employer("Haustechnik Klein GmbH", ("shk", "buero"), (("Schiffweiler", 0),)),
    Employer("Pflegedienst Hand in Hand GmbH", ("pflege", "pflegehilfe"),
             (("Schiffweiler", 0),)),
    Employer("Wenzel Maschinenbau GmbH", ("produktion", "elektro", "buero"),
             (("Spiesen-Elversberg", 0),)),
    Employer("Spedition Saar-Blies GmbH", ("lkw", "lager", "lagerhilfe"),
             (("Spiesen-Elversberg", 0),)),
    Employer("Kinderhaus Regenbogen e.V.", ("erzieher",), (("Spiesen-Elversberg", 0),),
             website=False),
    Employer("Illtal Metallbau GmbH", ("produktion", "buero"), (("Illingen", 0),)),
    Employer("Hausarztpraxis Illtal GbR", ("mfa", "azubi-mfa"), (("Illingen", 0),),
             website=False),
    Employer("Illtal Reinigungsservice GmbH & Co. KG", ("reinigung",), (("Illingen", 0),)),
    Employer("Elektrotechnik Schuler GmbH", ("elektro", "azubi-elektro"),
             (("Merchweiler", 0),)),
    Employer("Tagespflege Merchtal gGmbH", ("pflege", "pflegehilfe"), (("Merchweiler", 0),)),
    Employer("Getränkemarkt Müller e.K.", ("lagerhilfe", "verkauf"), (("Merchweiler", 0),),
             website=False),
    Employer("Eppelborner Fleischwaren GmbH", ("verkauf", "produktion", "lagerhilfe"),
             (("Eppelborn", 0),)),
    Employer("Kindergarten Sonnenblume e.V.", ("erzieher",), (("Eppelborn", 0),),
             website=False),
    Employer("Landgasthof Zur Linde GmbH", ("koch", "service", "kuechenhilfe", "azubi-koch"),
             (("Eppelborn", 0),)),
    Employer("Heizung & Sanitär Schneider GmbH", ("shk",), (("Eppelborn", 0),)),
)

_LEGAL_FORMS = (" GmbH & Co. KG", " gGmbH", " GmbH", " e.V.", " e.K.", " GbR")


def _domain_of(employer_name: str) -> str:
    name = employer_name
    for form in _LEGAL_FORMS:
        name = name.removesuffix(form)
    return _slug(name) + ".example"


@dataclass
class Posting:
    refnr: str
    title: str
    occupation: str | None
    employer: str
    place: Place
    training: bool
    full_time: bool
    part_time: tuple[str, ...]  # Vormittag, Nachmittag, Abend, Flexibel
    shift: bool
    mini_job: bool
    lateral_entry: bool
    contract: str
    salary_period: str | None
    salary_min: float | None
    salary_max: float | None
    start: dt.date
    published: dt.date
    published_until: dt.date | None
    first_published: dt.date
    changed: dt.datetime
    remote: bool
    url: str | None
    customer_hash: str
    postal_code: str  # as written in the feed (a broken record may differ from the place)


def _refnr(rng: random.Random, used: set[str]) -> str:
    while True:
        office = rng.choice(("10000", "10001", "10001", "11304", "12265", "14225"))
        ref = f"{office}-100{rng.randrange(10**7):07d}-S"
        if ref not in used:
            used.add(ref)
            return ref


def _money(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


def _training_start(today: dt.date) -> dt.date:
    year = today.year if today < dt.date(today.year, 6, 1) else today.year + 1
    return dt.date(year, 8, 1)


def _posting(rng: random.Random, today: dt.date, employer: Employer, place: Place,
             occupation: Occupation, title_template: str, refnrs: set[str]) -> Posting:
    training = occupation.training
    start_training = _training_start(today)
    title = title_template.format(year=start_training.year)
    lowered = title.lower()
    mini_job = "minijob" in lowered
    part_only = "teilzeit" in lowered and "voll" not in lowered or mini_job
    full_time = not part_only
    part_time: tuple[str, ...] = ()
    if part_only or "voll- oder teilzeit" in lowered or (
        occupation.part_time_ok and not training and rng.random() < 0.35
    ):
        part_time = tuple(sorted(rng.sample(("Vormittag", "Nachmittag", "Abend", "Flexibel"),
                                            rng.randint(1, 2))))
    shift = occupation.shift and not training and (
        "nacht" in lowered or "schicht" in lowered or rng.random() < 0.5
    )

    if training:
        contract = "BEFRISTET"
    else:
        contract = rng.choices(("UNBEFRISTET", "BEFRISTET", "KEINE_ANGABE"), (6, 2, 2))[0]

    period: str | None = occupation.period
    salary_min = salary_max = None
    if mini_job:
        period = "STUNDENLOHN"
        salary_min = round(rng.choice((13.90, 14.00, 14.25, 14.50)), 2)
        salary_max = salary_min
    elif period is not None and (training or rng.random() < 0.75):
        if period == "STUNDENLOHN":
            salary_min = round(rng.uniform(occupation.low, occupation.low + 0.8) * 4) / 4
            salary_max = round(min(occupation.high, salary_min + rng.uniform(0.5, 2.0)) * 4) / 4
            salary_max = max(salary_max, salary_min)
        elif training:
            salary_min, salary_max = float(occupation.low), float(occupation.high)
        else:
            span = occupation.high - occupation.low
            salary_min = round(rng.uniform(occupation.low, occupation.low + span * 0.45) / 50) * 50
            salary_max = round(min(occupation.high, salary_min + rng.uniform(200, 700)) / 50) * 50
            salary_max = max(salary_max, salary_min)
    else:
        period = None

    age = rng.randint(1, 34)
    published = today - dt.timedelta(days=age)
    first_published = published - dt.timedelta(days=rng.choice((0, 0, 0, rng.randint(7, 60))))
    published_until = (
        today + dt.timedelta(days=rng.randint(21, 90)) if rng.random() < 0.6 else None
    )
    changed_day = published + dt.timedelta(days=rng.randint(0, age - 1) if age > 1 else 0)
    changed = dt.datetime.combine(changed_day, dt.time(
        rng.randint(6, 18), rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999) * 1000
    ))
    start = start_training if training else today + dt.timedelta(days=rng.choice(
        (0, 0, rng.randint(7, 45))
    ))

    refnr = _refnr(rng, refnrs)
    url = None
    if employer.website and rng.random() < 0.7:
        url = f"https://karriere.{_domain_of(employer.name)}/stellen/{refnr.split('-')[1]}"
    customer_hash = "".join(rng.choice(string.ascii_letters + string.digits + "-_")
                            for _ in range(43)) + "="
    return Posting(
        refnr=refnr, title=title, occupation=occupation.beruf, employer=employer.name,
        place=place, training=training, full_time=full_time, part_time=part_time, shift=shift,
        mini_job=mini_job, lateral_entry=occupation.lateral_entry and not training,
        contract=contract, salary_period=period, salary_min=salary_min, salary_max=salary_max,
        start=start, published=published, published_until=published_until,
        first_published=first_published, changed=changed,
        remote=occupation.remote and rng.random() < 0.5, url=url,
        customer_hash=customer_hash, postal_code=place.postal_code,
    )


class _JobPlanner:
    """Draws postings so that no employer lists the same title at the same site twice."""

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self.rng = rng
        self.today = today
        self.refnrs: set[str] = set()
        self.used: set[tuple[str, str, str]] = set()
        self.sites: dict[tuple[str, int], Place] = {}

    def site(self, employer: Employer, index: int) -> Place:
        key = (employer.name, index)
        if key not in self.sites:
            town_name, quarter = employer.sites[index]
            town = TOWN_BY_NAME[town_name]
            self.sites[key] = _place(self.rng, town, town.quarters[quarter])
        return self.sites[key]

    def candidates(self, employer: Employer) -> list[tuple[int, str, str]]:
        return [
            (site, sector, title)
            for site in range(len(employer.sites))
            for sector in employer.sectors
            for title in OCCUPATIONS[sector].titles
            if (employer.name, title, str(site)) not in self.used
        ]

    def draw(self, employer: Employer) -> Posting | None:
        options = self.candidates(employer)
        if not options:
            return None
        site, sector, title = self.rng.choice(options)
        self.used.add((employer.name, title, str(site)))
        place = self.site(employer, site)
        return _posting(self.rng, self.today, employer, place, OCCUPATIONS[sector], title,
                        self.refnrs)


def _v6_item(p: Posting) -> dict:
    item: dict = {
        "stellenangebotsart": "AUSBILDUNG" if p.training else "ARBEIT",
        "stellenangebotsTitel": p.title,
        "quereinstiegGeeignet": p.lateral_entry,
        "arbeitszeitSchichtNachtWochenende": p.shift,
        "arbeitszeitTeilzeitAbend": "Abend" in p.part_time,
        "arbeitszeitTeilzeitNachmittag": "Nachmittag" in p.part_time,
        "arbeitszeitTeilzeitVormittag": "Vormittag" in p.part_time,
        "arbeitszeitTeilzeitFlexibel": "Flexibel" in p.part_time,
        "arbeitszeitVollzeit": p.full_time,
        "eintrittszeitraum": {"von": p.start.isoformat()},
    }
    if p.salary_period is not None:
        item["verguetungsangabe"] = p.salary_period
        item["artDerVerguetung"] = (
            "FESTBETRAG" if p.salary_min == p.salary_max else "GEHALTSSPANNE"
        )
        item["gehaltsspanneVon"] = _money(p.salary_min)
        item["gehaltsspanneBis"] = _money(p.salary_max)
    item["vertragsdauer"] = p.contract
    item["istGeringfuegigeBeschaeftigung"] = p.mini_job
    item["stellenlokationen"] = [{
        "adresse": {
            "strasse": p.place.street,
            "hausnummer": p.place.house_number,
            "plz": p.postal_code,
            "ort": p.place.town.name,
            "region": "SAARLAND",
            "land": "DEUTSCHLAND",
        },
        "breite": p.place.lat,
        "laenge": p.place.lon,
    }]
    item["homeofficemoeglich"] = p.remote
    if p.remote:
        item["homeofficetyp"] = "NACH_VEREINBARUNG"
    period = {"von": p.published.isoformat()}
    if p.published_until is not None:
        period["bis"] = p.published_until.isoformat()
    item["veroeffentlichungszeitraum"] = period
    item["datumErsteVeroeffentlichung"] = p.first_published.isoformat()
    item["aenderungsdatum"] = p.changed.isoformat(timespec="milliseconds")
    if p.url:
        item["externeURL"] = p.url
    if p.occupation:
        item["hauptberuf"] = p.occupation
    item["firma"] = p.employer
    item["referenznummer"] = p.refnr
    if p.occupation:
        item["alleBerufe"] = [p.occupation]
    return item


def _v4_item(p: Posting) -> dict:
    item: dict = {}
    if p.occupation:
        item["beruf"] = p.occupation
    item["titel"] = p.title
    item["refnr"] = p.refnr
    item["arbeitsort"] = {
        "plz": p.postal_code,
        "ort": p.place.town.name,
        "strasse": f"{p.place.street} {p.place.house_number}",
        "region": "Saarland",
        "land": "Deutschland",
        "koordinaten": {"lat": p.place.lat, "lon": p.place.lon},
    }
    item["arbeitgeber"] = p.employer
    item["aktuelleVeroeffentlichungsdatum"] = p.published.isoformat()
    item["modifikationsTimestamp"] = p.changed.isoformat(timespec="milliseconds")
    item["eintrittsdatum"] = p.start.isoformat()
    item["kundennummerHash"] = p.customer_hash
    if p.url:
        item["externeUrl"] = p.url
    return item


def _sorted_postings(postings: list[Posting]) -> list[Posting]:
    return sorted(postings, key=lambda p: (p.published, p.changed, p.refnr), reverse=True)


def _v6_body(postings: list[Posting]) -> bytes:
    items = [_v6_item(p) for p in _sorted_postings(postings)]
    body = {"ergebnisliste": items, "maxErgebnisse": len(items), "page": 1, "size": len(items)}
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _v4_body(postings: list[Posting]) -> bytes:
    items = [_v4_item(p) for p in _sorted_postings(postings)]
    body = {
        "stellenangebote": items, "maxErgebnisse": len(items), "page": 1, "size": len(items),
        "facetten": {},
    }
    return (json.dumps(body, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# =========================================================================== courses


@dataclass(frozen=True)
class CourseTemplate:
    kursart: str
    title: str
    levels: str
    schedule: tuple[str, ...]
    weeks: tuple[int, int]
    cost: str  # "0", "kostenlos" or a price in euro
    funded: bool
    childcare: float  # probability
    description: str


COURSE_TEMPLATES: tuple[CourseTemplate, ...] = (
    CourseTemplate("Integrationskurs", "Integrationskurs (allgemein)", "A1-B1", ("Vollzeit",),
                   (26, 30), "0", True, 0.0,
                   "700 Unterrichtseinheiten, Abschluss mit dem Deutsch-Test für Zuwanderer (DTZ) "
                   "und dem Test Leben in Deutschland."),
    CourseTemplate("Integrationskurs", "Integrationskurs mit Kinderbetreuung", "A1-B1",
                   ("Teilzeit",), (40, 44), "0", True, 1.0,
                   "Vormittags von 8:30 bis 12:45 Uhr; Kinderbetreuung im Haus."),
    CourseTemplate("Integrationskurs", "Elternintegrationskurs", "A1-B1", ("Teilzeit",),
                   (40, 46), "0", True, 1.0,
                   "Für Mütter und Väter; Themen rund um Kita, Schule und Ausbildung."),
    CourseTemplate("Integrationskurs", "Frauenintegrationskurs", "A1-B1", ("Teilzeit",),
                   (40, 46), "0", True, 1.0, "Kurs nur für Frauen, mit Kinderbetreuung."),
    CourseTemplate("Integrationskurs", "Jugendintegrationskurs", "A1-B1", ("Vollzeit",),
                   (34, 40), "0", True, 0.0, "Für junge Erwachsene bis 27 Jahre."),
    CourseTemplate("Integrationskurs", "Integrationskurs am Abend", "A1-B1",
                   ("Teilzeit", "Abendkurs"), (48, 54), "0", True, 0.0,
                   "Montag bis Donnerstag 18:00 bis 21:15 Uhr, für Berufstätige."),
    CourseTemplate("Alphabetisierungskurs", "Integrationskurs mit Alphabetisierung", "A1-B1",
                   ("Teilzeit",), (50, 56), "0", True, 0.5,
                   "Lesen und Schreiben lernen in lateinischer Schrift, kleine Gruppe."),
    CourseTemplate("Alphabetisierungskurs", "Zweitschriftlernerkurs", "A1-A2", ("Teilzeit",),
                   (24, 30), "0", True, 0.0,
                   "Für Teilnehmende, die eine andere Schrift sicher lesen und schreiben."),
    CourseTemplate("Berufssprachkurs", "Berufssprachkurs B1", "B1", ("Teilzeit",), (16, 20), "0",
                   True, 0.0, "Deutsch für den Beruf (DeuFöV), 400 Unterrichtseinheiten."),
    CourseTemplate("Berufssprachkurs", "Berufssprachkurs B2", "B2", ("Vollzeit",), (12, 16), "0",
                   True, 0.0, "Deutsch für den Beruf (DeuFöV), Abschluss mit telc Deutsch B2."),
    CourseTemplate("Berufssprachkurs", "Berufssprachkurs B2 am Abend", "B2",
                   ("Teilzeit", "Abendkurs"), (24, 28), "0", True, 0.0,
                   "Berufsbegleitend, zwei Abende pro Woche und Selbstlernphasen."),
    CourseTemplate("Berufssprachkurs", "Berufssprachkurs C1", "C1", ("Teilzeit", "Online"),
                   (20, 24), "0", True, 0.0, "Online-Unterricht im virtuellen Klassenzimmer."),
    CourseTemplate("Berufssprachkurs", "Berufssprachkurs Gesundheitsfachberufe B2", "B2",
                   ("Teilzeit",), (18, 22), "0", True, 0.0,
                   "Für Pflegekräfte in der Anerkennung; Fachsprache Pflege."),
    CourseTemplate("Sprachkurs", "Deutsch A1 für Anfänger", "A1", ("Abendkurs",), (10, 12),
                   "149", False, 0.0, "Zweimal wöchentlich abends, Lehrbuch nicht im Preis."),
    CourseTemplate("Sprachkurs", "Deutsch A2 kompakt", "A2", ("Teilzeit",), (8, 10), "189",
                   False, 0.0, "Intensivkurs an vier Vormittagen pro Woche."),
    CourseTemplate("Sprachkurs", "Deutsch B1 Prüfungsvorbereitung DTZ", "B1", ("Abendkurs",),
                   (6, 8), "119", False, 0.0, "Prüfungstraining mit Modelltests."),
    CourseTemplate("Sprachkurs", "Deutsch am Samstag", "A2", ("Wochenende",), (12, 14), "165",
                   False, 0.0, "Samstags 9:00 bis 12:15 Uhr."),
    CourseTemplate("Sprachkurs", "Konversationskurs Deutsch", "B1, B2", ("Abendkurs", "Online"),
                   (8, 10), "95", False, 0.0, "Sprechen üben in kleiner Runde."),
    CourseTemplate("Sprachkurs", "Deutsch online für Berufstätige", "B1-B2", ("Online",),
                   (10, 12), "240", False, 0.0, "Live-Unterricht per Videokonferenz."),
    CourseTemplate("Orientierung", "Erstorientierungskurs", "", ("Teilzeit",), (8, 10),
                   "kostenlos", True, 0.5,
                   "Erste Orientierung und Deutsch im Alltag für Asylsuchende."),
    CourseTemplate("Weiterbildung", "Bewerbungstraining für Zugewanderte", "B1", ("Teilzeit",),
                   (2, 3), "0", True, 0.0, "Lebenslauf, Anschreiben, Vorstellungsgespräch."),
)
_TEMPLATE = {t.title: t for t in COURSE_TEMPLATES}
_KURSART_ABBR = {
    "Integrationskurs": "IK", "Alphabetisierungskurs": "AK", "Berufssprachkurs": "BSK",
    "Sprachkurs": "DK", "Orientierung": "EOK", "Weiterbildung": "WB",
}


@dataclass(frozen=True)
class School:
    partner_id: str
    name: str
    web: str
    email: str
    sites: tuple[tuple[str, int, str, str], ...]  # (town, quarter, street, house number)
    templates: tuple[str, ...]
    contacts: tuple[str, ...]


SCHOOLS: tuple[School, ...] = (
    School("vhs-neunkirchen", "VHS Neunkirchen", "vhs-neunkirchen.example",
           "kurse@vhs-neunkirchen.example",
           (("Neunkirchen", 0, "Lindenallee", "13"), ("Neunkirchen", 2, "Kuchenbergstraße", "4"),
            ("Eppelborn", 0, "Rathausstraße", "27")),
           ("Integrationskurs (allgemein)", "Integrationskurs mit Kinderbetreuung",
            "Integrationskurs am Abend", "Integrationskurs mit Alphabetisierung",
            "Berufssprachkurs B2", "Berufssprachkurs C1", "Deutsch A1 für Anfänger",
            "Deutsch am Samstag", "Erstorientierungskurs", "Jugendintegrationskurs"),
           ("Frau Schmitt", "Herr Becker")),
    School("sprachschule-ottweiler", "Sprachschule am Schlossplatz GmbH",
           "sprachschule-ottweiler.example", "info@sprachschule-ottweiler.example",
           (("Ottweiler", 0, "Schloßstraße", "8"), ("Schiffweiler", 0, "Rathausstraße", "11")),
           ("Integrationskurs mit Kinderbetreuung", "Frauenintegrationskurs",
            "Berufssprachkurs B1", "Berufssprachkurs Gesundheitsfachberufe B2",
            "Deutsch A2 kompakt", "Deutsch B1 Prüfungsvorbereitung DTZ",
            "Konversationskurs Deutsch", "Zweitschriftlernerkurs"),
           ("Frau Kaya", "Frau Wagner")),
    School("bildungswerk-illtal", "Bildungswerk Illtal e.V.", "bildungswerk-illtal.example",
           "sprachen@bildungswerk-illtal.example",
           (("Illingen", 0, "Gymnasialstraße", "5"), ("Merchweiler", 0, "Allenfeldstraße", "2"),
            ("Spiesen-Elversberg", 0, "Kirchstraße", "21")),
           ("Integrationskurs (allgemein)", "Elternintegrationskurs",
            "Berufssprachkurs B2 am Abend", "Deutsch online für Berufstätige",
            "Bewerbungstraining für Zugewanderte", "Deutsch A1 für Anfänger",
            "Erstorientierungskurs", "Integrationskurs mit Alphabetisierung"),
           ("Herr Yilmaz", "Frau Hoffmann")),
)


@dataclass
class CourseRow:
    course_id: str
    title: str
    provider: str
    kursart: str
    levels: str
    start: dt.date
    end: dt.date
    schedule: tuple[str, ...]
    childcare: bool
    cost: str
    funded: bool
    seats: int
    street: str
    postal_code: str
    town: str
    ags: str
    link: str
    description: str
    contact: str
    email: str
    phone: str
    contact_public: bool
    changed: dt.datetime


def _next_monday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7 or 7)


def _course(rng: random.Random, today: dt.date, school: School, template: CourseTemplate,
            weeks_ahead: int, site: int, course_id: str) -> CourseRow:
    town_name, quarter, street, number = school.sites[site]
    town = TOWN_BY_NAME[town_name]
    start = _next_monday(today) + dt.timedelta(weeks=weeks_ahead)
    end = start + dt.timedelta(weeks=rng.randint(*template.weeks), days=-3)  # a Friday
    if "Wochenende" in template.schedule:  # Saturday to Saturday ('Samstags 9:00 bis ...')
        start, end = start + dt.timedelta(days=5), end + dt.timedelta(days=1)
    changed = dt.datetime.combine(
        today - dt.timedelta(days=rng.randint(1, 40)),
        dt.time(rng.randint(8, 16), rng.choice((0, 15, 30, 45))),
    )
    return CourseRow(
        course_id=course_id, title=template.title, provider=school.name,
        kursart=template.kursart, levels=template.levels, start=start, end=end,
        schedule=template.schedule, childcare=rng.random() < template.childcare,
        cost=template.cost, funded=template.funded, seats=rng.randint(2, 16),
        street=f"{street} {number}", postal_code=town.quarters[quarter].postal_code,
        town=town.name, ags=town.ags,
        link=f"https://www.{school.web}/kurse/{_slug(course_id)}",
        description=template.description, contact=rng.choice(school.contacts),
        email=school.email, phone=_phone(rng, town), contact_public=rng.random() < 0.7,
        changed=changed,
    )


def _course_id(rng: random.Random, school: School, template: CourseTemplate,
               used: set[str]) -> str:
    while True:
        if school.partner_id == "vhs-neunkirchen":
            cid = f"VHS-{_KURSART_ABBR[template.kursart]}-{rng.randint(100, 999)}"
        elif school.partner_id == "sprachschule-ottweiler":
            cid = f"SSO-{rng.randint(1000, 9999)}"
        else:
            cid = f"BWI-{rng.randint(10000, 99999)}"
        if cid not in used:
            used.add(cid)
            return cid


def _site_key(school: School, site: int) -> str:
    town, _quarter, street, number = school.sites[site]
    return f"{street} {number}, {town}"


def _yes(value: bool) -> str:
    return "ja" if value else "nein"


def _csv_vhs(rows: list[CourseRow]) -> bytes:
    """Excel 'CSV UTF-8 (Trennzeichen-getrennt)': ';', UTF-8 with BOM, CRLF, all columns."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([
        "Kurs-ID", "Titel", "Anbieter", "Kursart", "Sprachniveau", "Beginn", "Ende",
        "Zeitmodell", "Kinderbetreuung", "Kosten", "Gefoerdert", "Plaetze", "Strasse", "PLZ",
        "Ort", "AGS", "Link", "Beschreibung", "Ansprechperson", "E-Mail", "Telefon",
        "Kontakt oeffentlich", "Geaendert am",
    ])
    for r in rows:
        writer.writerow([
            r.course_id, r.title, r.provider, r.kursart, r.levels, f"{r.start:%d.%m.%Y}",
            f"{r.end:%d.%m.%Y}", ", ".join(r.schedule), _yes(r.childcare), r.cost,
            _yes(r.funded), r.seats, r.street, r.postal_code, r.town, r.ags, r.link,
            r.description, r.contact, r.email, r.phone, _yes(r.contact_public),
            r.changed.date().isoformat(),
        ])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _euro(cost: str) -> str:
    return cost if not cost.isdigit() or cost == "0" else f"{int(cost)},00 €"


def _csv_sso(rows: list[CourseRow]) -> bytes:
    """Excel 'CSV (Trennzeichen-getrennt)': ';', Windows-1252, CRLF, the school's own layout."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([
        "Kurs-ID", "Kursart", "Titel", "Sprachniveau", "Beginn", "Ende", "Zeitmodell",
        "Kinderbetreuung", "Kosten", "Gefördert", "Plätze", "Straße", "PLZ", "Ort", "Link",
        "Ansprechperson", "Telefon", "E-Mail", "Kontakt öffentlich", "Geändert am", "Anbieter",
        "Beschreibung",
    ])
    for r in rows:
        writer.writerow([
            r.course_id, r.kursart, r.title, r.levels, f"{r.start:%d.%m.%Y}",
            f"{r.end:%d.%m.%Y}", " / ".join(r.schedule), "x" if r.childcare else "",
            _euro(r.cost), _yes(r.funded), r.seats, r.street, r.postal_code, r.town, r.link,
            r.contact, r.phone, r.email, _yes(r.contact_public), f"{r.changed:%d.%m.%Y}",
            r.provider, r.description,
        ])
    return out.getvalue().encode("cp1252")


def _csv_bwi(rows: list[CourseRow]) -> bytes:
    """LibreOffice export: ',', UTF-8 without BOM, LF, ISO dates."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=",", lineterminator="\n")
    writer.writerow([
        "Kurs-ID", "Titel", "Kursart", "Sprachniveau", "Beginn", "Ende", "Zeitmodell",
        "Kinderbetreuung", "Kosten", "Gefoerdert", "Plaetze", "Strasse", "PLZ", "Ort", "AGS",
        "Link", "Beschreibung", "E-Mail", "Telefon", "Geaendert am",
    ])
    for r in rows:
        writer.writerow([
            r.course_id, r.title, r.kursart, r.levels, r.start.isoformat(), r.end.isoformat(),
            ", ".join(r.schedule), _yes(r.childcare), r.cost, _yes(r.funded), r.seats, r.street,
            r.postal_code, r.town, r.ags, r.link, r.description, r.email, r.phone,
            f"{r.changed:%Y-%m-%d %H:%M}",
        ])
    return out.getvalue().encode("utf-8")


# =========================================================================== housing


@dataclass(frozen=True)
class Municipality:
    partner_id: str
    name: str
    town: str
    abbr: str
    flats: int
    office: str  # who lets the flats
    contact: tuple[str, str, str]  # (Anrede, Vorname, Name)


MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality("gemeinde-eppelborn", "Gemeinde Eppelborn", "Eppelborn", "EPB", 3,
                 "Ordnungs- und Sozialamt", ("Frau", "Sabine", "Klein")),
    Municipality("gemeinde-illingen", "Gemeinde Illingen", "Illingen", "ILL", 3,
                 "Liegenschaftsverwaltung", ("Herr", "Thomas", "Recktenwald")),
    Municipality("gemeinde-merchweiler", "Gemeinde Merchweiler", "Merchweiler", "MEW", 2,
                 "Bürgerbüro", ("Frau", "Andrea", "Jost")),
    Municipality("kreisstadt-neunkirchen", "Kreisstadt Neunkirchen", "Neunkirchen", "NK", 6,
                 "Wohnungsvermittlung im Sozialamt", ("Frau", "Petra", "Schneider")),
    Municipality("stadt-ottweiler", "Stadt Ottweiler", "Ottweiler", "OTW", 4,
                 "Amt für Soziales und Wohnen", ("Herr", "Markus", "Dörr")),
    Municipality("gemeinde-schiffweiler", "Gemeinde Schiffweiler", "Schiffweiler", "SCW", 3,
                 "Sozialamt", ("Frau", "Claudia", "Altmeyer")),
    Municipality("gemeinde-spiesen-elversberg", "Gemeinde Spiesen-Elversberg",
                 "Spiesen-Elversberg", "SPE", 2, "Liegenschaften", ("Herr", "Jens", "Meiser")),
)

HOUSING_COMPANY = ("bliestal-wohnen", "Bliestal Wohnen GmbH")
# housing company flats per town; the company's stock is mostly in Neunkirchen
COMPANY_FLATS = (("Neunkirchen", 12), ("Ottweiler", 4), ("Schiffweiler", 4),
                 ("Spiesen-Elversberg", 3), ("Illingen", 2))
# (town, how many of the company's flats there the municipality also offers)
SHARED_FLATS = (("Neunkirchen", 2), ("Schiffweiler", 1))

_AREA = {1: (29.0, 42.0), 2: (45.0, 64.0), 3: (62.0, 82.0), 4: (78.0, 98.0)}
_PERSONS = {1: 2, 2: 3, 3: 4, 4: 6}


@dataclass
class Flat:
    objektnr_extern: str
    objektnr_intern: str
    obid: str
    title: str
    description: str
    place: Place
    postal_code: str  # as written in the feed
    floor: int
    floors: int
    rooms: int
    area: float
    cold: float
    service: float
    heating: float
    deposit: float
    available: str
    wbs: bool
    barrier_free: bool
    wheelchair: bool
    elevator: bool
    balcony: bool
    bath: str  # DUSCHE or WANNE
    built: int
    max_persons: int
    changed: dt.date

    @property
    def warm(self) -> float:
        return round(self.cold + self.service + self.heating, 2)


def _floor_text(floor: int, floors: int) -> str:
    if floor == 0:
        return "Erdgeschoss"
    if floor == floors - 1 and floors >= 4:
        return "Dachgeschoss"
    return f"{floor}. Obergeschoss"


def _available(rng: random.Random, today: dt.date) -> str:
    choice = rng.random()
    if choice < 0.4:
        return "sofort"
    if choice < 0.5:
        return "nach Vereinbarung"
    month = today.month + rng.randint(1, 3)
    year = today.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return f"01.{month:02d}.{year}"


def _flat(rng: random.Random, today: dt.date, place: Place, floor: int, floors: int,
          social: bool, barrier_free: bool) -> Flat:
    rooms = rng.choice((1, 2, 2, 3, 3, 3, 4)) if not barrier_free else rng.choice((1, 2, 2, 3))
    area = round(rng.uniform(*_AREA[rooms]), 2)
    rate = rng.uniform(5.10, 5.75) if social else rng.uniform(5.90, 7.40)
    cold = round(area * rate * 2) / 2
    service = float(round(area * rng.uniform(2.0, 2.6)))
    heating = float(round(area * rng.uniform(1.05, 1.50)))
    elevator = barrier_free and floor > 0 or floors >= 5 or rng.random() < 0.15
    return Flat(
        objektnr_extern="", objektnr_intern="", obid="", title="", description="",
        place=place, postal_code=place.postal_code, floor=floor, floors=floors, rooms=rooms,
        area=area, cold=cold, service=service, heating=heating, deposit=round(3 * cold, 2),
        available=_available(rng, today), wbs=social, barrier_free=barrier_free,
        wheelchair=barrier_free and rng.random() < 0.4, elevator=elevator,
        balcony=floor > 0 and rng.random() < 0.6, bath="DUSCHE" if barrier_free else
        rng.choice(("DUSCHE", "WANNE")), built=rng.choice((1958, 1964, 1971, 1978, 1994, 2012)),
        max_persons=_PERSONS[rooms], changed=today - dt.timedelta(days=rng.randint(0, 20)),
    )


def _company_text(rng: random.Random, flat: Flat) -> tuple[str, str]:
    where = flat.place.quarter.name
    floor = _floor_text(flat.floor, flat.floors)
    rooms = f"{flat.rooms}-Zimmer-Wohnung"
    if flat.barrier_free:
        title = (f"Barrierefreie {rooms} im Erdgeschoss" if flat.floor == 0
                 else f"Barrierearme {rooms} mit Aufzug in {where}")
    else:
        extra = " mit Balkon" if flat.balcony else ""
        title = rng.choice((
            f"Helle {rooms}{extra} in {where}",
            f"Gemütliche {rooms} im {floor}{extra and ', mit Balkon'}",
            f"Frisch renovierte {rooms}{extra} nahe Zentrum",
            f"{rooms}{extra or ' mit Kellerabteil'} in {where}",
        ))
    text = [
        f"Die Wohnung liegt im {floor} eines gepflegten Mehrfamilienhauses (Baujahr {flat.built}).",
        "Bad mit " + ("bodengleicher Dusche" if flat.bath == "DUSCHE" else "Wanne") + ".",
    ]
    if flat.balcony:
        text.append("Balkon zur ruhigen Hofseite.")
    if flat.elevator:
        text.append("Aufzug im Haus.")
    if flat.wbs:
        text.append("Öffentlich gefördert: Wohnberechtigungsschein erforderlich.")
    text.append("Kellerabteil und Waschküche gehören dazu. Haustiere nach Absprache.")
    return title, " ".join(text)


def _municipal_text(flat: Flat, office: str) -> tuple[str, str]:
    floor = _floor_text(flat.floor, flat.floors)
    if flat.barrier_free:
        title = f"Barrierefreie {flat.rooms}-Zimmer-Wohnung, {floor}"
    elif flat.wbs:
        title = f"Sozialwohnung: {flat.rooms} Zimmer, Küche, Bad in {flat.place.quarter.name}"
    else:
        title = f"{flat.rooms}-Zimmer-Wohnung im {floor}"
    text = [
        f"{flat.rooms} Zimmer, Küche, Bad, {flat.area:.0f} m², {floor}.",
    ]
    if flat.wbs:
        text.append("Die Vergabe erfolgt nur mit gültigem Wohnberechtigungsschein (WBS).")
    if flat.barrier_free:
        text.append("Stufenloser Zugang, bodengleiche Dusche, breite Türen.")
    text.append(f"Besichtigung nach Terminvereinbarung mit der {office}.")
    return title, " ".join(text)


def _b(value: bool) -> str:
    return "true" if value else "false"


def _num(value: float) -> str:
    return f"{value:.2f}"


def _sub(parent: etree._Element, tag: str, text: str | None = None,
         attrib: dict[str, str] | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib or {})
    if text is not None:
        element.text = text
    return element


def _immobilie(anbieter: etree._Element, flat: Flat, contact: dict) -> None:
    imm = _sub(anbieter, "immobilie")
    kategorie = _sub(imm, "objektkategorie")
    _sub(kategorie, "nutzungsart", attrib={"WOHNEN": "true", "GEWERBE": "false",
                                           "ANLAGE": "false", "WAZ": "false"})
    _sub(kategorie, "vermarktungsart", attrib={"KAUF": "false", "MIETE_PACHT": "true"})
    objektart = _sub(kategorie, "objektart")
    if flat.floor == 0:
        wohnungtyp = "ERDGESCHOSS"
    elif flat.floor == flat.floors - 1 and flat.floors >= 4:
        wohnungtyp = "DACHGESCHOSS"
    else:
        wohnungtyp = "ETAGE"
    _sub(objektart, "wohnung", attrib={"wohnungtyp": wohnungtyp})

    geo = _sub(imm, "geo")
    _sub(geo, "plz", flat.postal_code)
    _sub(geo, "ort", flat.place.town.name)
    _sub(geo, "geokoordinaten", attrib={"breitengrad": f"{flat.place.lat:.6f}",
                                        "laengengrad": f"{flat.place.lon:.6f}"})
    _sub(geo, "strasse", flat.place.street)
    _sub(geo, "hausnummer", flat.place.house_number)
    _sub(geo, "bundesland", "Saarland")
    _sub(geo, "land", attrib={"iso_land": "DEU"})
    _sub(geo, "gemeindecode", flat.place.town.ags)
    _sub(geo, "etage", str(flat.floor))
    _sub(geo, "anzahl_etagen", str(flat.floors))
    if flat.place.quarter.name != flat.place.town.name:
        _sub(geo, "regionaler_zusatz", flat.place.quarter.name)

    person = _sub(imm, "kontaktperson")
    _sub(person, "email_zentrale", contact["email_zentrale"])
    _sub(person, "email_direkt", contact["email"])
    _sub(person, "tel_zentrale", contact["tel_zentrale"])
    _sub(person, "tel_durchw", contact["phone"])
    _sub(person, "name", contact["name"])
    _sub(person, "vorname", contact["vorname"])
    _sub(person, "anrede", contact["anrede"])
    _sub(person, "firma", contact["firma"])
    _sub(person, "land", attrib={"iso_land": "DEU"})
    _sub(person, "adressfreigabe", _b(contact["public"]))

    preise = _sub(imm, "preise")
    _sub(preise, "kaltmiete", _num(flat.cold))
    _sub(preise, "warmmiete", _num(flat.warm))
    _sub(preise, "nebenkosten", _num(flat.service))
    _sub(preise, "heizkosten_enthalten", "false")
    _sub(preise, "heizkosten", _num(flat.heating))
    _sub(preise, "waehrung", attrib={"iso_waehrung": "EUR"})
    _sub(preise, "kaution", _num(flat.deposit))

    flaechen = _sub(imm, "flaechen")
    _sub(flaechen, "wohnflaeche", _num(flat.area))
    _sub(flaechen, "anzahl_zimmer", str(flat.rooms))
    _sub(flaechen, "anzahl_badezimmer", "1")
    if flat.balcony:
        _sub(flaechen, "anzahl_balkone", "1")

    ausstattung = _sub(imm, "ausstattung")
    _sub(ausstattung, "bad", attrib={flat.bath: "true"})
    _sub(ausstattung, "heizungsart", attrib={"ZENTRAL": "true"})
    _sub(ausstattung, "befeuerung", attrib={"GAS": "true"})
    if flat.elevator:
        _sub(ausstattung, "fahrstuhl", attrib={"PERSONEN": "true"})
    _sub(ausstattung, "rollstuhlgerecht", _b(flat.wheelchair))
    _sub(ausstattung, "barrierefrei", _b(flat.barrier_free))
    _sub(ausstattung, "unterkellert", attrib={"keller": "JA"})

    zustand = _sub(imm, "zustand_angaben")
    _sub(zustand, "baujahr", str(flat.built))

    freitexte = _sub(imm, "freitexte")
    _sub(freitexte, "objekttitel", flat.title)
    _sub(freitexte, "objektbeschreibung", flat.description)

    verwaltung = _sub(imm, "verwaltung_objekt")
    _sub(verwaltung, "objektadresse_freigeben", "true")
    _sub(verwaltung, "verfuegbar_ab", flat.available)
    _sub(verwaltung, "wbs_sozialwohnung", _b(flat.wbs))
    _sub(verwaltung, "max_personen", str(flat.max_persons))
    _sub(verwaltung, "nichtraucher", "false")

    techn = _sub(imm, "verwaltung_techn")
    _sub(techn, "objektnr_intern", flat.objektnr_intern or None)
    _sub(techn, "objektnr_extern", flat.objektnr_extern or None)
    _sub(techn, "aktion", attrib={"aktionart": "CHANGE"})
    _sub(techn, "openimmo_obid", flat.obid)
    _sub(techn, "stand_vom", flat.changed.isoformat())
    _sub(techn, "weitergabe_generell", "true")


def _openimmo(today: dt.date, provider: str, anbieternr: str, anid: str, software: str,
              techn_email: str, flats: list[Flat], contact: dict) -> bytes:
    root = etree.Element("openimmo")
    _sub(root, "uebertragung", attrib={
        "art": "ONLINE", "umfang": "VOLL", "modus": "CHANGE", "version": "1.2.7",
        "sendersoftware": software, "senderversion": "4.2", "techn_email": techn_email,
        "timestamp": f"{today.isoformat()}T05:30:00",
    })
    anbieter = _sub(root, "anbieter")
    _sub(anbieter, "anbieternr", anbieternr)
    _sub(anbieter, "firma", provider)
    _sub(anbieter, "openimmo_anid", anid)
    for flat in flats:
        _immobilie(anbieter, flat, contact)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(
        root, encoding="UTF-8", xml_declaration=False, pretty_print=True
    )


# =========================================================================== partners


def _partner(partner_id: str, name: str, kind: str, mailbox: str, fmt: str,
             schedule: str) -> dict:
    return {
        "id": partner_id,
        "name": name,
        "kind": kind,
        "contact_email": f"{mailbox}@{partner_id}.example",
        "region": DISTRICT_AGS,
        "allow_private_network": True,
        "feeds": [{"format": fmt, "mode": "snapshot", "schedule": schedule}],
    }


def _json_feed(partner_id: str, body: bytes) -> DemoFeed:
    return DemoFeed(partner_id, "jobs", "ba-jobsuche", f"/feeds/jobs/{partner_id}.json", body,
                    "application/json")


# =========================================================================== generate


def generate(today: dt.date, seed: int = 2026) -> DemoData:
    """All demo feeds for ``today``; the same ``(today, seed)`` gives the same bytes."""
    if isinstance(today, dt.datetime):
        today = today.date()
    feeds: list[DemoFeed] = []
    partners: list[dict] = []
    broken: list[BrokenRecord] = []
    counts: dict[str, int] = {}

    def rng_for(name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")

    # ---------------------------------------------------------------- jobs
    planner = _JobPlanner(rng_for("jobs"), today)
    rng = planner.rng

    postings_a = [planner.draw(EMPLOYER_A) for _ in range(15)]
    postings_b = [planner.draw(EMPLOYER_B) for _ in range(15)]
    shared_a = rng.sample(range(len(postings_a)), 4)
    rest_b = list(range(len(postings_b)))
    shared_b = rng.sample(rest_b, 3)
    untitled = rng.choice([i for i in rest_b if i not in shared_b])

    jobcenter: list[Posting] = []
    # the posting whose PLZ lost its last digit: a Kita in Wiebelskirchen (66540 -> 6654)
    plz_typo_job = planner.draw(EMPLOYERS[0])
    plz_typo_job.postal_code = plz_typo_job.place.postal_code[:4]
    jobcenter.append(plz_typo_job)
    while len(jobcenter) < 73:
        posting = planner.draw(rng.choice(EMPLOYERS))
        if posting is not None:
            jobcenter.append(posting)

    # an employer exports a posting whose title was never filled in
    b_untitled = postings_b[untitled]
    b_untitled.title = ""
    b_untitled.occupation = None

    jobcenter += [postings_a[i] for i in sorted(shared_a)]
    jobcenter += [postings_b[i] for i in sorted(shared_b)]

    job_partners = (
        ("jobcenter-nk", "Jobcenter Landkreis Neunkirchen", "jobcenter", "stellen",
         "15 5,11,17 * * *", _v6_body(jobcenter), len(jobcenter)),
        ("kohlbach-logistik", EMPLOYER_A.name, "employer", "personal", "30 6 * * *",
         _v6_body(postings_a), len(postings_a)),
        ("seniorenhilfe-ottweiler", EMPLOYER_B.name, "employer", "bewerbung", "45 6 * * 1-5",
         _v4_body(postings_b), len(postings_b)),
    )
    for pid, name, kind, mailbox, schedule, body, count in job_partners:
        partners.append(_partner(pid, name, kind, mailbox, "ba-jobsuche", schedule))
        feeds.append(_json_feed(pid, body))
        counts[pid] = count
    broken.append(BrokenRecord("jobcenter-nk", plz_typo_job.refnr, "ADDRESS_POSTAL_CODE_INVALID",
                               "address.postal_code"))
    broken.append(BrokenRecord("seniorenhilfe-ottweiler", b_untitled.refnr,
                               "RECORD_FIELD_MISSING", "title"))

    # ---------------------------------------------------------------- courses
    rng = rng_for("courses")
    used_ids: set[str] = set()
    used_courses: set[tuple[str, int, str]] = set()
    rows: dict[str, list[CourseRow]] = {school.partner_id: [] for school in SCHOOLS}
    vhs, sso, bwi = SCHOOLS

    # the joint course: run by both schools together in Ottweiler, listed by each
    joint_template = _TEMPLATE["Integrationskurs mit Kinderbetreuung"]
    joint_weeks = 3
    joint = _course(rng, today, sso, joint_template, joint_weeks, 0,
                    _course_id(rng, sso, joint_template, used_ids))
    joint.childcare = True
    joint.link = f"https://www.{sso.web}/kurse/kooperation-integrationskurs-kinderbetreuung"
    joint.description = "Kooperationskurs mit der VHS Neunkirchen; Kinderbetreuung im Haus."
    used_courses.add((joint.title, joint_weeks, _site_key(sso, 0)))
    joint_vhs = replace(
        joint, course_id=_course_id(rng, vhs, joint_template, used_ids), provider=vhs.name,
        description="Gemeinsamer Kurs mit der Sprachschule am Schlossplatz in Ottweiler.",
        contact=vhs.contacts[0], email=vhs.email, phone=_phone(rng, TOWN_BY_NAME["Neunkirchen"]),
        changed=joint.changed - dt.timedelta(days=2),
    )
    rows[sso.partner_id].append(joint)
    rows[vhs.partner_id].append(joint_vhs)

    for school in SCHOOLS:
        # every course the school offers once, then repeats with other start dates
        order = list(school.templates)
        rng.shuffle(order)
        order += rng.sample(school.templates, len(school.templates))
        while len(rows[school.partner_id]) < 12:
            template = _TEMPLATE[order[0]]
            weeks = rng.randint(1, 20)
            site = rng.randrange(len(school.sites))
            key = (template.title, weeks, _site_key(school, site))
            if key in used_courses:
                continue
            used_courses.add(key)
            order.pop(0)
            cid = _course_id(rng, school, template, used_ids)
            rows[school.partner_id].append(_course(rng, today, school, template, weeks, site, cid))
        rows[school.partner_id].sort(key=lambda r: (r.start, r.course_id))

    def pick(school: School, kursart: str, levels: str | None = None) -> CourseRow:
        """A row of ``school`` to break: not the joint course, of ``kursart`` if it has one."""
        plain = [r for r in rows[school.partner_id] if r is not joint and r is not joint_vhs]
        fitting = [r for r in plain if r.kursart == kursart]
        return rng.choice([r for r in fitting if r.levels == levels] or fitting or plain)

    level_typo = pick(vhs, "Berufssprachkurs", "B2")  # B3 for B2: the key next to it
    level_typo.levels = "B3"
    own_word = pick(sso, "Sprachkurs")  # the school's own word for its German course
    own_word.kursart = "Deutsch lernen"
    no_plz = pick(bwi, "Integrationskurs")
    no_plz.postal_code = ""
    broken += [
        BrokenRecord(vhs.partner_id, level_typo.course_id, "COURSE_LEVEL_INVALID", "cefr_levels"),
        BrokenRecord(sso.partner_id, own_word.course_id, "COURSE_TYPE_UNKNOWN", "course_type"),
        BrokenRecord(bwi.partner_id, no_plz.course_id, "RECORD_FIELD_MISSING",
                     "address.postal_code"),
    ]
    school_feeds = (
        (vhs, "kurse", "0 7 * * 1", _csv_vhs, "text/csv; charset=utf-8"),
        (sso, "info", "30 7 * * 1,4", _csv_sso, "text/csv; charset=windows-1252"),
        (bwi, "sprachen", "0 8 * * *", _csv_bwi, "text/csv; charset=utf-8"),
    )
    for school, mailbox, schedule, render, content_type in school_feeds:
        pid = school.partner_id
        partners.append(_partner(pid, school.name, "language_school", mailbox, "csv-courses",
                                 schedule))
        feeds.append(DemoFeed(pid, "courses", "csv-courses", f"/feeds/courses/{pid}.csv",
                              render(rows[pid]), content_type))
        counts[pid] = len(rows[pid])

    # ---------------------------------------------------------------- housing
    rng = rng_for("housing")
    used_addresses: set[tuple[str, str, str]] = set()

    def new_place(town: Town, quarter: Quarter | None = None) -> Place:
        while True:
            place = _place(rng, town, quarter)
            if place.key not in used_addresses:
                used_addresses.add(place.key)
                return place

    company_id, company_name = HOUSING_COMPANY
    company: list[Flat] = []
    shared_wanted = dict(SHARED_FLATS)
    shared_flats: dict[str, list[Flat]] = {town: [] for town in shared_wanted}
    building_no = 100
    for town_name, count in COMPANY_FLATS:
        town = TOWN_BY_NAME[town_name]
        made = 0
        while made < count:
            building_no += rng.randint(1, 9)
            place = new_place(town)
            floors = rng.randint(3, 5)
            slots = [(floor, side) for floor in range(floors) for side in range(2)]
            for floor, side in rng.sample(slots, min(len(slots), rng.randint(2, 4))):
                if made >= count:
                    break
                offer_shared = len(shared_flats.get(town_name, ())) < shared_wanted.get(
                    town_name, 0)
                social = offer_shared or rng.random() < 0.3
                barrier_free = not offer_shared and (floor == 0 or floors >= 5) and (
                    rng.random() < 0.35)
                flat = _flat(rng, today, place, floor, floors, social, barrier_free)
                unit = floor * 2 + side + 1
                flat.objektnr_extern = f"BW-{building_no:03d}-{unit:02d}"
                flat.objektnr_intern = f"{building_no}0/{unit:02d}"
                flat.obid = f"OBW{building_no:03d}{unit:02d}{rng.randint(1000, 9999)}"
                flat.title, flat.description = _company_text(rng, flat)
                company.append(flat)
                if offer_shared:
                    shared_flats[town_name].append(flat)
                made += 1

    # the export of one flat lost its external object number
    shared_ids = {id(f) for flats in shared_flats.values() for f in flats}
    no_id = rng.choice([f for f in company if id(f) not in shared_ids])
    no_id.objektnr_extern = ""

    municipal: dict[str, list[Flat]] = {}
    typo_flat: Flat | None = None
    for index, muni in enumerate(MUNICIPALITIES):
        town = TOWN_BY_NAME[muni.town]
        flats: list[Flat] = []
        # every other municipality has at least one barrier-free ground-floor flat on offer
        needs_barrier_free = index % 2 == 0
        number = rng.randint(3, 40)
        for shared in shared_flats.get(muni.town, []):
            number += rng.randint(1, 6)
            copy = replace(shared)
            copy.objektnr_extern = f"{muni.abbr}-WHG-{number:03d}"
            copy.objektnr_intern = f"LG-{town.ags[-3:]}-{number:04d}"
            copy.obid = f"O{town.ags}{number:04d}"
            copy.title, copy.description = _municipal_text(copy, muni.office)
            copy.changed = today - dt.timedelta(days=rng.randint(0, 20))
            flats.append(copy)
        while len(flats) < muni.flats:
            number += rng.randint(1, 6)
            floors = rng.randint(2, 4)
            floor = 0 if needs_barrier_free else rng.randrange(floors)
            barrier_free = needs_barrier_free or (floor == 0 and rng.random() < 0.6)
            needs_barrier_free = False
            social = rng.random() < 0.8
            last = len(flats) == muni.flats - 1
            plz_typo = last and muni.partner_id == "kreisstadt-neunkirchen"
            # the flat with the PLZ typo lies in the town centre (66538 -> 665380)
            place = new_place(town, town.quarters[0] if plz_typo else None)
            flat = _flat(rng, today, place, floor, floors, social, barrier_free)
            if plz_typo:
                flat.postal_code = place.postal_code + "0"  # a clerk typed one digit too many
                typo_flat = flat
            flat.objektnr_extern = f"{muni.abbr}-WHG-{number:03d}"
            flat.objektnr_intern = f"LG-{town.ags[-3:]}-{number:04d}"
            flat.obid = f"O{town.ags}{number:04d}"
            flat.title, flat.description = _municipal_text(flat, muni.office)
            flats.append(flat)
        municipal[muni.partner_id] = flats

    for muni in MUNICIPALITIES:
        town = TOWN_BY_NAME[muni.town]
        anrede, vorname, name = muni.contact
        mailbox = "wohnen"
        contact = {
            "email_zentrale": f"rathaus@{muni.partner_id}.example",
            "email": f"{mailbox}@{muni.partner_id}.example",
            "tel_zentrale": f"{town.phone_prefix} 9{town.ags[-2:]}-0",
            "phone": f"{town.phone_prefix} 9{town.ags[-2:]}-{rng.randint(100, 399)}",
            "name": name, "vorname": vorname, "anrede": anrede,
            "firma": f"{muni.name}, {muni.office}", "public": False,
        }
        body = _openimmo(today, muni.name, f"GEM{town.ags}", f"GEM{town.ags}", "KommunalWohnen",
                         f"it@{muni.partner_id}.example", municipal[muni.partner_id], contact)
        partners.append(_partner(muni.partner_id, muni.name, "municipality", mailbox, "openimmo",
                                 "0 6 * * 1"))
        feeds.append(DemoFeed(muni.partner_id, "housing", "openimmo",
                              f"/feeds/housing/{muni.partner_id}.xml", body, "application/xml"))
        counts[muni.partner_id] = len(municipal[muni.partner_id])

    company_contact = {
        "email_zentrale": f"info@{company_id}.example",
        "email": f"vermietung@{company_id}.example",
        "tel_zentrale": "06821 91870-0",
        "phone": "06821 91870-22",
        "name": "Fuchs", "vorname": "Daniel", "anrede": "Herr",
        "firma": f"{company_name}, Vermietung", "public": True,
    }
    body = _openimmo(today, company_name, "BW-0001", "OBW0001", "WoWi Portal Export",
                     f"edv@{company_id}.example", company, company_contact)
    partners.append(_partner(company_id, company_name, "housing_company", "vermietung",
                             "openimmo", "45 6 * * *"))
    feeds.append(DemoFeed(company_id, "housing", "openimmo", f"/feeds/housing/{company_id}.xml",
                          body, "application/xml"))
    counts[company_id] = len(company)

    assert typo_flat is not None
    broken.append(BrokenRecord("kreisstadt-neunkirchen", typo_flat.objektnr_extern,
                               "ADDRESS_POSTAL_CODE_INVALID", "address.postal_code"))
    broken.append(BrokenRecord(company_id, None, "RECORD_FIELD_MISSING", "source_id"))

    duplicates = {
        "jobs": len(shared_a) + len(shared_b),
        "courses": 1,
        "housing": sum(len(flats) for flats in shared_flats.values()),
    }
    return DemoData(feeds=feeds, partners=partners, broken=broken, duplicates=duplicates,
                    counts=counts)


def registry_yaml(data: DemoData, base_url: str) -> str:
    """The partner registry for ``data`` served at ``base_url`` (e.g. http://127.0.0.1:8123)."""
    base = base_url.rstrip("/")
    entries = []
    for partner in data.partners:
        entry = {key: value for key, value in partner.items() if key != "feeds"}
        entry["feeds"] = []
        for feed_spec in partner["feeds"]:
            feed = next(f for f in data.feeds
                        if f.partner_id == partner["id"] and f.format == feed_spec["format"])
            spec = {"format": feed_spec["format"], "source": base + feed.path}
            spec.update({k: v for k, v in feed_spec.items() if k != "format"})
            entry["feeds"].append(spec)
        entries.append(entry)
    header = (
        f"# Demo partner registry for the {DISTRICT_NAME} (AGS {DISTRICT_AGS}).\n"
        f"# Generated by hub.demo; the feeds are served by the demo feed server at {base}.\n"
        "# allow_private_network is true because that server listens on 127.0.0.1 only.\n"
    )
    return header + yaml.safe_dump({"partners": entries}, sort_keys=False, allow_unicode=True,
                                   width=100)
