"""A labelled evaluation set for entity resolution: realistic German canonical records per
domain, with a ground-truth entity label per record, generated with a fixed seed.

Each domain holds every duplicate kind (exact, semantic, temporal; partial = one location of a
multi-location posting, labelled as its own offer, see docs/resolution.md) and every trap
(two flats in one building, the same course with another start/level/schedule, the same title
at two employers or two branches, re-opened after the window), with noise: typos, reordered
words, abbreviations, legal-form, umlaut and street spellings, house-number ranges, missing
fields.

    python -m bench.resolution_set [--domain jobs] [--entities 2500] > set.ndjson

Each line: the canonical record plus ``"_entity"`` (the truth) and ``"_kind"`` (how the
record was made: original, exact, semantic, temporal, partial, trap-...).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys

from hub.demo.feeds import COURSE_TEMPLATES, OCCUPATIONS, TOWNS

TODAY = dt.date(2026, 11, 26)
SEED = 2026

_SURNAMES = (
    "Müller Schmitt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch "
    "Bauer Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann "
    "Lange Schmitz Werner Krause Meier Lehmann Köhler Herrmann König Walter Mayer Huber Kaiser "
    "Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther "
    "Frank Berger Winkler Roth Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm "
    "Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel Heinrich "
    "Brandt Haas Schreiber Graf Dietrich Ziegler Kuhn Kühn Pohl Engel Horn Busch Bergmann Thomas"
).split()
_SECTOR_WORDS = {
    "pflege": ("Pflegedienst", "Seniorenzentrum", "Pflegeheim"), "pflegehilfe": ("Pflegedienst", "Seniorenresidenz"),
    "lager": ("Logistik", "Spedition"), "lagerhilfe": ("Logistik", "Versand"), "bus": ("Busreisen", "Verkehrsbetriebe"),
    "lkw": ("Transporte", "Spedition"), "erzieher": ("Kita", "Kinderhaus"), "elektro": ("Elektrotechnik", "Elektro"),
    "koch": ("Gasthaus", "Hotel", "Restaurant"), "kuechenhilfe": ("Kantine", "Catering"), "reinigung": ("Gebäudereinigung", "Reinigungsservice"),
    "verkauf": ("Bäckerei", "Frischemarkt", "Getränkemarkt"), "buero": ("Steuerberatung", "Verwaltung"),
    "produktion": ("Metallbau", "Kunststofftechnik", "Maschinenbau"), "mfa": ("Arztpraxis", "MVZ"),
    "shk": ("Haustechnik", "Heizung & Sanitär"), "kfz": ("Autohaus", "Kfz-Werkstatt"), "sozial": ("Migrationsdienst", "Jugendhilfe"),
    "hausmeister": ("Hausverwaltung", "Facility Services"), "service": ("Hotel", "Landgasthof"),
}
_LEGAL = ("GmbH", "GmbH", "GmbH & Co. KG", "e.K.", "gGmbH", "e.V.", "AG", "GbR")
_LEGAL_VARIANTS = {"GmbH": ("G.m.b.H.", "Gmbh", ""), "GmbH & Co. KG": ("GmbH & Co.KG", "GmbH u. Co. KG", ""),
                   "e.K.": ("e. K.", ""), "gGmbH": ("gemeinnützige GmbH", "GGmbH"), "e.V.": ("e. V.", "eV", ""),
                   "AG": ("", "Aktiengesellschaft"), "GbR": ("", "G.b.R.")}
_BENEFITS = (
    "Unbefristeter Arbeitsvertrag", "Vergütung nach Tarif", "30 Tage Urlaub", "Betriebliche Altersvorsorge",
    "Zuschuss zum Deutschlandticket", "Fort- und Weiterbildungen", "Ein freundliches Team", "Flexible Arbeitszeiten",
    "Jobrad", "Kostenlose Getränke und Obst", "Einarbeitung durch Paten", "Moderne Arbeitsmittel",
    "Betriebliches Gesundheitsmanagement", "Weihnachts- und Urlaubsgeld", "Mitarbeiterrabatte",
)
_REQUIRE = (
    "abgeschlossene Ausbildung", "Berufserfahrung wünschenswert", "Führerschein Klasse B", "Deutschkenntnisse B1",
    "Zuverlässigkeit und Teamgeist", "Bereitschaft zu Schichtarbeit", "Quereinsteiger willkommen",
    "Freude am Umgang mit Menschen", "selbstständige Arbeitsweise", "körperliche Belastbarkeit",
    "sicherer Umgang mit MS Office", "Staplerschein von Vorteil",
)
_FILLERS_BEFORE = ("", "", "", "Wir suchen: ", "Ab sofort: ", "Verstärkung gesucht: ")
_FILLERS_AFTER = ("", "", "", " ab sofort", " gesucht", " in Vollzeit")
_ABBR = {"Mitarbeiter": "Mitarb.", "Fachkraft": "Fachkr.", "Kaufmann": "Kfm.", "Ausbildung": "Ausb.",
         "Teilzeit": "TZ", "Vollzeit": "VZ", "Straße": "Str.", "Wohnung": "Whg.", "Zimmer": "Zi.",
         "Integrationskurs": "Int.-Kurs", "Deutsch": "Dt."}
_GENDER = ("(m/w/d)", "(w/m/d)", "(m/f/d)", "(gn)", "m/w/d", "(d/m/w)", "")


# -- noise ---------------------------------------------------------------------------------


def typo(rng: random.Random, text: str) -> str:
    words = text.split()
    idx = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
    if not idx:
        return text
    i = rng.choice(idx)
    w = words[i]
    p = rng.randrange(1, len(w) - 2)
    op = rng.random()
    if op < 0.4:
        w = w[:p] + w[p + 1] + w[p] + w[p + 2:]  # swap
    elif op < 0.7:
        w = w[:p] + w[p + 1:]  # drop
    else:
        w = w[:p] + w[p] + w[p:]  # double
    words[i] = w
    return " ".join(words)


def umlauts(text: str) -> str:
    return (text.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
            .replace("Ä", "Ae").replace("Ö", "Oe").replace("Ü", "Ue"))


def abbreviate(rng: random.Random, text: str) -> str:
    for long, short in _ABBR.items():
        if long in text and rng.random() < 0.7:
            text = text.replace(long, short)
    return text


def regender(rng: random.Random, title: str) -> str:
    for g in ("(m/w/d)",):
        if g in title:
            return " ".join(title.replace(g, rng.choice(_GENDER)).split())
    return title


def reorder(rng: random.Random, title: str) -> str:
    """'Pflegefachkraft (m/w/d) in Teilzeit' -> 'Teilzeit: Pflegefachkraft (m/w/d)'."""
    for sep in (" in ", " für ", " im "):
        if sep in title:
            head, tail = title.split(sep, 1)
            return f"{tail}: {head}" if rng.random() < 0.5 else f"{head} - {tail}"
    return title


def reword_title(rng: random.Random, title: str) -> str:
    t = regender(rng, title)
    if rng.random() < 0.35:
        t = reorder(rng, t)
    if rng.random() < 0.3:
        t = abbreviate(rng, t)
    if rng.random() < 0.3:
        t = rng.choice(_FILLERS_BEFORE) + t + rng.choice(_FILLERS_AFTER)
    if rng.random() < 0.25:
        t = typo(rng, t)
    if rng.random() < 0.15:
        t = umlauts(t)
    return t.strip()


def reword_org(rng: random.Random, base: str, legal: str) -> str:
    name = base
    if rng.random() < 0.2:
        name = umlauts(name)
    if rng.random() < 0.1:
        name = typo(rng, name)
    form = rng.choice(_LEGAL_VARIANTS.get(legal, ("",))) if rng.random() < 0.6 else legal
    return f"{name} {form}".strip()


def reword_street(rng: random.Random, street: str | None) -> str | None:
    if not street:
        return street
    r = rng.random()
    if r < 0.3:
        return street.replace("straße", "str.").replace("Straße", "Str.")
    if r < 0.5:
        return street.replace("ß", "ss")
    if r < 0.55:
        return typo(rng, street)
    return street


def reword_text(rng: random.Random, text: str | None) -> str | None:
    if not text or rng.random() < 0.15:
        return None
    parts = [p for p in text.split(". ") if p]
    if len(parts) > 2 and rng.random() < 0.6:
        rng.shuffle(parts)
    if len(parts) > 3 and rng.random() < 0.4:
        parts.pop(rng.randrange(len(parts)))
    out = ". ".join(parts)
    return typo(rng, out) if rng.random() < 0.3 else out


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _place(rng: random.Random, postal_pool=None):
    town = rng.choice(TOWNS)
    quarter = rng.choice(town.quarters)
    city = town.name
    if city == "Neunkirchen":
        city = rng.choice(("Neunkirchen", "Neunkirchen", "Neunkirchen (Saar)", "Neunkirchen/Saar"))
    return {"street": rng.choice(quarter.streets), "house_number": str(rng.randint(1, 120)),
            "postal_code": quarter.postal_code, "city": city, "municipality_key": town.ags}


# -- jobs ------------------------------------------------------------------------------------


class _Employer:
    def __init__(self, rng: random.Random, n: int, postal_pool=None) -> None:
        sector = rng.choice(list(_SECTOR_WORDS))
        self.sectors = [sector] + rng.sample(list(_SECTOR_WORDS), 1)
        word = rng.choice(_SECTOR_WORDS[sector])
        name = rng.choice(_SURNAMES)
        self.base = rng.choice((f"{word} {name}", f"{name} {word}", f"{word} {name} & {rng.choice(_SURNAMES)}"))
        self.legal = rng.choice(_LEGAL)
        self.name = f"{self.base} {self.legal}"
        self.slug = f"emp{n}"
        self.sites = [_place(rng) if postal_pool is None else _scale_place(rng, postal_pool)
                      for _ in range(rng.choice((1, 1, 1, 2, 3)))]


def _description(rng: random.Random, title: str, employer: str, city: str) -> str:
    benefits = rng.sample(_BENEFITS, 4)
    reqs = rng.sample(_REQUIRE, 3)
    return (f"Die {employer} sucht für den Standort {city} eine/n {title}. "
            f"Das bieten wir: {', '.join(benefits)}. "
            f"Das bringen Sie mit: {', '.join(reqs)}. "
            f"Bewerbung bitte mit Kennziffer {rng.randint(100, 999)} per E-Mail")


def _job(rng, employer: _Employer, site: dict, partner: str, sid: str, published: dt.date,
         title: str | None = None, occ_key: str | None = None) -> dict:
    occ = OCCUPATIONS[occ_key or rng.choice(employer.sectors)]
    title = title or rng.choice(occ.titles).format(year=TODAY.year + 1)
    lowered = title.lower()
    times = ["part_time"] if "teilzeit" in lowered else (["mini"] if "minijob" in lowered else ["full_time"])
    if occ.shift and rng.random() < 0.4:
        times.append("shift")
    salary = None
    if occ.period and rng.random() < 0.7:
        salary = round(rng.uniform(occ.low, occ.high) / 50) * 50 if occ.period == "MONATSGEHALT" else round(
            rng.uniform(occ.low, occ.high), 2)
    return {
        "partner_id": partner, "source_id": sid, "title": title, "organisation": employer.name,
        "description": _description(rng, title, employer.name, site["city"]),
        "address": dict(site), "url": None, "ba_reference": None, "occupation": occ.beruf,
        "employment_type": "apprenticeship" if occ.training else "employee", "working_time": times,
        "salary_min": salary, "salary_max": None,
        "salary_period": None if salary is None else ("month" if occ.period == "MONATSGEHALT" else "hour"),
        "published_from": _iso(published), "updated_at": f"{_iso(published)}T08:00:00+00:00",
    }


def _dup_job(rng, rec: dict, partner: str, sid: str, kind: str) -> dict:
    d = json.loads(json.dumps(rec))
    d["partner_id"], d["source_id"] = partner, sid
    if kind == "exact":
        return d
    base, legal = d.pop("_base"), d.pop("_legal")
    d["title"] = reword_title(rng, d["title"])
    d["organisation"] = reword_org(rng, base, legal) if rng.random() > 0.04 else None
    d["description"] = reword_text(rng, d["description"])
    d["address"]["street"] = reword_street(rng, d["address"].get("street")) if rng.random() > 0.15 else None
    if rng.random() < 0.15:
        d["address"]["house_number"] = None
    if rng.random() < 0.3:
        d["salary_min"] = d["salary_period"] = None
    if rng.random() < 0.2:
        d["working_time"] = []
    d["ba_reference"] = None
    d["url"] = None
    if kind == "temporal":
        day = dt.date.fromisoformat(d["published_from"]) + dt.timedelta(days=rng.randint(5, 55))
        d["published_from"] = _iso(day)
        d["updated_at"] = f"{_iso(day)}T09:00:00+00:00"
    else:
        day = dt.date.fromisoformat(d["published_from"]) + dt.timedelta(days=rng.randint(0, 6))
        d["published_from"] = _iso(day)
    return d


def jobs(entities: int = 3500, seed: int = SEED) -> list[dict]:
    rng = random.Random(f"{seed}:jobs")
    employers = [_Employer(rng, n) for n in range(max(30, entities // 12))]
    portals = ("jobboard-saar", "stellenportal-nk")
    out: list[dict] = []
    used_titles: set = set()
    for e in range(entities):
        emp = rng.choice(employers)
        site_i = rng.randrange(len(emp.sites))
        site = emp.sites[site_i]
        published = TODAY - dt.timedelta(days=rng.randint(0, 200))
        occ_key = rng.choice(emp.sectors)
        title = rng.choice(OCCUPATIONS[occ_key].titles).format(year=TODAY.year + 1)
        if (emp.slug, site_i, title) in used_titles:
            continue  # one opening per title and site at a time (as in the demo generator)
        used_titles.add((emp.slug, site_i, title))
        eid = f"job-{e}"
        primary = "jobcenter" if rng.random() < 0.55 else emp.slug
        rec = _job(rng, emp, site, primary, f"{primary}-{e}", published, title, occ_key)
        if primary == "jobcenter" or rng.random() < 0.3:
            rec["ba_reference"] = f"10001-{1000000 + e:07d}-S"
        if rng.random() < 0.5:
            rec["url"] = f"https://karriere.{emp.slug}.example/stellen/{e}"
        rec.update(_entity=eid, _kind="original", _base=emp.base, _legal=emp.legal)
        out.append(rec)
        r = rng.random()
        other = emp.slug if primary == "jobcenter" else "jobcenter"
        if r < 0.15 and rec["ba_reference"]:
            d = _dup_job(rng, rec, other, f"{other}-x{e}", "exact")
            d["_kind"] = "exact"
            d["organisation"] = reword_org(rng, emp.base, emp.legal)
            d["address"]["street"] = reword_street(rng, d["address"]["street"])
            out.append(d)
        elif r < 0.40:
            d = _dup_job(rng, rec, rng.choice((other, *portals)), f"s{e}", "semantic")
            d.update(_entity=eid, _kind="semantic")
            out.append(d)
            if rng.random() < 0.25:
                p = [x for x in (other, *portals) if x != d["partner_id"]][0]
                d2 = _dup_job(rng, rec, p, f"s2-{e}", "semantic")
                d2.update(_entity=eid, _kind="semantic")
                out.append(d2)
        elif r < 0.52:
            d = _dup_job(rng, rec, rng.choice(portals), f"t{e}", "temporal")
            d.update(_entity=eid, _kind="temporal")
            out.append(d)
        # traps
        t = rng.random()
        s2_i = (site_i + 1) % len(emp.sites)
        if t < 0.06 and len(emp.sites) > 1 and (emp.slug, s2_i, title) not in used_titles:
            # partial / another branch: the same posting at another site of the employer
            used_titles.add((emp.slug, s2_i, title))
            s2 = emp.sites[s2_i]
            d = _dup_job(rng, rec, rng.choice(portals), f"p{e}", "semantic")
            d["address"] = dict(s2)  # a branch keeps its own address (postal code/street)
            d.update(_entity=f"{eid}-branch", _kind="partial")
            out.append(d)
        elif t < 0.12:
            # the same title at another employer in the same place
            emp2 = rng.choice([x for x in employers if x is not emp])
            d = _job(rng, emp2, dict(site, street=_place(rng)["street"], house_number=str(rng.randint(1, 99))),
                     rng.choice(portals), f"o{e}", published + dt.timedelta(days=rng.randint(0, 10)), title, occ_key)
            d.update(_entity=f"{eid}-other-employer", _kind="trap-other-employer")
            out.append(d)
        elif t < 0.17:
            # re-opened long after: the same title, employer and site, outside the window
            later = published + dt.timedelta(days=rng.randint(90, 240))
            d = _job(rng, emp, site, rng.choice(portals), f"r{e}", later, title, occ_key)
            d["organisation"] = reword_org(rng, emp.base, emp.legal)
            d.update(_entity=f"{eid}-reopened", _kind="trap-reopened")
            out.append(d)
        elif t < 0.23:
            # another opening of the employer at the site with a related title
            titles = [x for x in OCCUPATIONS[occ_key].titles if x != title]
            titles = [x for x in titles if (emp.slug, site_i, x) not in used_titles]
            if titles:
                used_titles.add((emp.slug, site_i, titles[0]))
                d = _job(rng, emp, site, other if other != "jobcenter" else rng.choice(portals), f"n{e}",
                         published + dt.timedelta(days=rng.randint(0, 20)), titles[0].format(year=TODAY.year + 1), occ_key)
                d.update(_entity=f"{eid}-sibling", _kind="trap-sibling")
                out.append(d)
    for r in out:
        r.pop("_base", None)
        r.pop("_legal", None)
    return out


# -- courses ---------------------------------------------------------------------------------

_COURSE_TYPE = {"Integrationskurs": "integration_course", "Alphabetisierungskurs": "literacy_course",
                "Berufssprachkurs": "job_language_course", "Sprachkurs": "language_course",
                "Orientierung": "orientation", "Weiterbildung": "further_training"}
_SCHEDULE = {"Vollzeit": "full_time", "Teilzeit": "part_time", "Abendkurs": "evening", "Wochenende": "weekend",
             "Online": "online"}
_SCHOOL_KIND = ("VHS", "Sprachschule", "Bildungswerk", "Sprachinstitut", "Bildungszentrum", "Akademie")


def _levels(text: str) -> list[str]:
    order = ["A1", "A2", "B1", "B2", "C1", "C2"]
    text = text.replace(" ", "")
    if "-" in text:
        a, b = text.split("-")
        return order[order.index(a): order.index(b) + 1]
    return [x for x in text.split(",") if x]


def courses(entities: int = 1500, seed: int = SEED) -> list[dict]:
    rng = random.Random(f"{seed}:courses")
    schools = []
    for n in range(max(12, entities // 30)):
        kind = rng.choice(_SCHOOL_KIND)
        name = f"{kind} {rng.choice(_SURNAMES)}" if kind != "VHS" else f"VHS {rng.choice(TOWNS).name}"
        legal = rng.choice(("gGmbH", "e.V.", "GmbH", ""))
        schools.append({"base": name, "legal": legal, "name": f"{name} {legal}".strip(), "slug": f"school{n}",
                        "sites": [_place(rng) for _ in range(rng.choice((1, 1, 2)))]})
    out: list[dict] = []
    used: set = set()
    mondays = [TODAY + dt.timedelta(days=7 * k - TODAY.weekday()) for k in range(1, 40)]
    for e in range(entities):
        school = rng.choice(schools)
        site_i = rng.randrange(len(school["sites"]))
        tpl = rng.choice(COURSE_TEMPLATES)
        start = rng.choice(mondays)
        key = (school["slug"], site_i, tpl.title, _iso(start))
        if key in used:
            continue
        used.add(key)
        levels = _levels(tpl.levels) if tpl.levels else []
        eid = f"crs-{e}"
        partner = school["slug"] if rng.random() < 0.6 else "kursnet"
        sched = [_SCHEDULE[s] for s in tpl.schedule]
        rec = {
            "partner_id": partner, "source_id": f"{partner}-{e}", "title": tpl.title, "organisation": school["name"],
            "description": f"{tpl.description} Beginn am {start:%d.%m.%Y}, {rng.randint(8, 20)} Plätze.",
            "address": dict(school["sites"][site_i]), "course_type": _COURSE_TYPE[tpl.kursart],
            "cefr_levels": levels, "start_date": _iso(start),
            "end_date": _iso(start + dt.timedelta(weeks=rng.randint(*tpl.weeks))), "schedule": sched,
            "url": f"https://www.{school['slug']}.example/kurse/{e}" if rng.random() < 0.5 else None,
            "price_eur": 0 if tpl.funded else float(tpl.cost), "funded": tpl.funded,
            "_entity": eid, "_kind": "original",
        }
        out.append(rec)
        other = "kursnet" if partner != "kursnet" else school["slug"]
        r = rng.random()
        if r < 0.12 and rec["url"]:
            d = json.loads(json.dumps(rec))
            d.update(partner_id=rng.choice((other, "integration-nk")), source_id=f"x{e}", _kind="exact")
            d["title"] = regender(rng, d["title"])
            out.append(d)
        elif r < 0.45:
            d = json.loads(json.dumps(rec))
            d.update(partner_id=rng.choice((other, "integration-nk")), source_id=f"s{e}", _kind="semantic", url=None)
            d["title"] = reword_title(rng, tpl.title + rng.choice(("", "", f" {tpl.levels}", " (vormittags)" if "part_time" in sched else "")))
            d["organisation"] = reword_org(rng, school["base"], school["legal"]) if rng.random() > 0.05 else None
            d["description"] = reword_text(rng, d["description"])
            d["address"]["street"] = reword_street(rng, d["address"]["street"]) if rng.random() > 0.15 else None
            if rng.random() < 0.15:
                d["cefr_levels"] = []
            if rng.random() < 0.2:
                d["schedule"] = []
            if rng.random() < 0.03:
                d["start_date"] = None  # a partner without dates: left apart (see docs)
            out.append(d)
        t = rng.random()
        if t < 0.25:
            # traps: the same course at the same school, another start / level / schedule
            d = json.loads(json.dumps(rec))
            d.update(partner_id=rng.choice((other, "integration-nk")), source_id=f"t{e}", url=None)
            which = rng.random()
            if which < 0.45:
                d["start_date"] = _iso(start + dt.timedelta(weeks=rng.choice((1, 2, 4, 8, 12))))
                d["_kind"] = "trap-start"
            elif which < 0.7 and len(levels) == 1:
                order = ["A1", "A2", "B1", "B2", "C1"]
                d["cefr_levels"] = [order[(order.index(levels[0]) + 1) % 5]]
                d["title"] = d["title"].replace(levels[0], d["cefr_levels"][0])
                d["_kind"] = "trap-level"
            elif which < 0.85:
                d["schedule"] = ["evening"] if "evening" not in sched else ["full_time"]
                d["_kind"] = "trap-schedule"
            else:
                s2 = rng.choice([s for s in schools if s is not school])
                d["organisation"] = s2["name"]
                d["address"] = dict(d["address"], street=_place(rng)["street"], house_number=str(rng.randint(1, 99)))
                d["_kind"] = "trap-other-school"
            d["title"] = reword_title(rng, d["title"])
            d["_entity"] = f"{eid}-{d['_kind']}"
            if (school["slug"], site_i, tpl.title, d["start_date"]) in used and d["_kind"] == "trap-start":
                continue
            used.add((school["slug"], site_i, tpl.title, d["start_date"]))
            out.append(d)
    return out


# -- housing ---------------------------------------------------------------------------------

_AREA = {1: (28.0, 42.0), 2: (45.0, 64.0), 3: (62.0, 84.0), 4: (78.0, 105.0)}


def _flat_title(rng, rooms, area, floor, unit, company: bool) -> str:
    floor_text = "EG" if floor == 0 else f"{floor}. OG"
    if company:
        return rng.choice((
            f"{rooms:g}-Zimmer-Wohnung im {floor_text}, Whg. {unit}",
            f"Helle {rooms:g}-Zimmer-Wohnung, {area:g} m²",
            f"Schöne {rooms:g} ZKB Wohnung ({floor_text})",
        ))
    return rng.choice((
        f"Wohnung {rooms:g} Zimmer, {area:g} m² – Vermittlung über das Sozialamt",
        f"Wohnraum für Geflüchtete: {rooms:g} Zimmer",
        f"Mietwohnung {rooms:g} Zi., {floor_text}",
    ))


def _range(rng: random.Random) -> str:
    low = rng.randint(1, 60)
    return f"{low}-{low + rng.choice((2, 4))}"


def housing(entities: int = 1500, seed: int = SEED) -> list[dict]:
    rng = random.Random(f"{seed}:housing")
    companies = [f"wohnbau{n}" for n in range(12)]
    municipalities = ("kreisstadt-neunkirchen", "gemeinde-illingen", "stadt-ottweiler", "gemeinde-eppelborn")
    out: list[dict] = []
    e = 0
    while e < entities:
        site = _place(rng)
        site["house_number"] = rng.choice((str(rng.randint(1, 90)), _range(rng),
                                           f"{rng.randint(1, 60)}a"))
        company = rng.choice(companies)
        floors = rng.randint(2, 5)
        layout = {side: (rng.choice((1, 2, 2, 3, 3, 4)), None) for side in range(2)}
        layout = {side: (r, round(rng.uniform(*_AREA[r]), 1)) for side, (r, _) in layout.items()}
        if rng.random() < 0.3:  # mirror flats: same rooms, area 3-8 % apart
            layout[1] = (layout[0][0], round(layout[0][1] * rng.uniform(1.03, 1.08), 1))
        # the flats of the building that are on offer: stacked layouts share rooms and area
        slots = rng.sample([(f, s) for f in range(floors) for s in range(2)], rng.randint(1, 3))
        for floor, side in slots:
            rooms, area = layout[side]
            unit = floor * 2 + side + 1
            rent = round(area * rng.uniform(6.2, 8.4), 0)
            eid = f"hsg-{e}"
            e += 1
            rec = {
                "partner_id": company, "source_id": f"{company}-{e}", "organisation": f"Wohnbau {company[7:]} GmbH",
                "title": _flat_title(rng, rooms, area, floor, unit, True),
                "description": f"Die Wohnung liegt im {'Erdgeschoss' if floor == 0 else f'{floor}. Obergeschoss'}. "
                               f"Kaltmiete {rent:g} Euro, Nebenkosten {round(area * 2.3):g} Euro.",
                "address": dict(site), "property_type": "apartment", "rooms": float(rooms), "living_area": area,
                "cold_rent": rent, "floor": floor, "_entity": eid, "_kind": "original",
            }
            out.append(rec)
            r = rng.random()
            if r < 0.45:
                d = json.loads(json.dumps(rec))
                muni = rng.choice(municipalities + ("wohnportal-saar",))
                d.update(partner_id=muni, source_id=f"{muni}-{e}", _kind="semantic",
                         organisation=None if rng.random() < 0.5 else f"Wohnbau {company[7:]}")
                d["title"] = _flat_title(rng, rooms, round(area), floor, unit, False)
                d["description"] = None if rng.random() < 0.4 else "Vermittlung über das Sozialamt, WBS erforderlich."
                d["address"]["street"] = reword_street(rng, d["address"]["street"])
                hn = site["house_number"]
                if "-" in hn and rng.random() < 0.5:
                    d["address"]["house_number"] = hn.split("-")[0]
                elif hn.endswith("a") and rng.random() < 0.5:
                    d["address"]["house_number"] = hn[:-1] + " a"
                if rng.random() < 0.4:
                    d["living_area"] = float(round(area))
                if rng.random() < 0.15:
                    d["floor"] = None
                if rng.random() < 0.2:
                    d["cold_rent"] = None
                elif rng.random() < 0.2:
                    d["cold_rent"] = rent + rng.choice((5, 10, 15))
                out.append(d)
            elif r < 0.55:
                d = json.loads(json.dumps(rec))
                d.update(partner_id="wohnportal-saar", source_id=f"p{e}", _kind="temporal", title=typo(rng, d["title"]))
                out.append(d)
    return out


GENERATORS = {"jobs": jobs, "courses": courses, "housing": housing}
DEFAULT_ENTITIES = {"jobs": 3500, "courses": 1500, "housing": 1500}


def labelled(domain: str, entities: int | None = None, seed: int = SEED) -> list[dict]:
    return GENERATORS[domain](entities or DEFAULT_ENTITIES[domain], seed)


# -- scale -----------------------------------------------------------------------------------


def _scale_place(rng: random.Random, postal_pool: list[str]) -> dict:
    return {"street": f"{rng.choice(_SURNAMES)}straße", "house_number": str(rng.randint(1, 150)),
            "postal_code": rng.choice(postal_pool), "city": f"Ort {rng.randint(1, 9999)}"}


def scale_jobs(n: int, seed: int = SEED, offset: int = 0):
    """``n`` job postings over the whole country (about 8,000 postal codes, 1 in 20 employers
    per 1,000 postings), about a quarter of them duplicates; yields (record key, record)."""
    rng = random.Random(f"{seed}:scale:{offset}")
    pool_rng = random.Random(f"{seed}:postal")
    postal_pool = sorted({f"{pool_rng.randint(1067, 99998):05d}" for _ in range(8200)})
    emp_rng = random.Random(f"{seed}:employers")
    employers = [_Employer(emp_rng, k, postal_pool) for k in range(max(50, n // 20))]
    made = 0
    e = offset
    while made < n:
        emp = rng.choice(employers)
        site = rng.choice(emp.sites)
        published = TODAY - dt.timedelta(days=rng.randint(0, 365))
        rec = _job(rng, emp, site, "jobcenter" if rng.random() < 0.5 else emp.slug, f"j{e}", published)
        rec["_base"], rec["_legal"] = emp.base, emp.legal
        yield (rec["partner_id"], rec["source_id"]), rec
        made += 1
        if rng.random() < 0.3 and made < n:
            d = _dup_job(rng, rec, rng.choice(("jobboard-saar", "stellenportal-nk")), f"d{e}", "semantic")
            yield (d["partner_id"], d["source_id"]), d
            made += 1
        rec.pop("_base", None)
        rec.pop("_legal", None)
        e += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", choices=sorted(GENERATORS), default="jobs")
    parser.add_argument("--entities", type=int)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    for rec in labelled(args.domain, args.entities, args.seed):
        sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
