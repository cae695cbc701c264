"""Whole-pipeline benchmark, printed as JSON (issue 7).

  .venv/bin/python bench/run.py --scale tiny|small|region|national [--incremental] [--json]
                                [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]

Generates the partner feeds of a scale (BA Jobsuche JSON; csv-courses and ba-courses; OpenImmo
XML and csv-housing, mixed), writes them to a temporary folder and serves them on loopback
with ``hub.demo.server.FeedServer`` in a child process (so the partners' web server does not
count towards the hub's memory), writes a partner registry for them
(``allow_private_network: true``) and runs the whole pipeline through Dagster exactly as
``hub sync`` does (``hub.runner.run_sync``: ``sync_<domain>`` per partner feed, then
``publish_directory``) on a fresh database: an SQLite file in the temporary folder, or with
``--database URL`` a throw-away schema on that PostgreSQL server (made and dropped here).

Stages: ``generate`` (feeds written), ``fetch`` (the ``raw/*`` steps), ``stage`` (the
``staged/*`` steps: parse, checks, store, feedback), ``publish`` (the ``directory/*`` steps:
resolution, directory, change feed), ``total``. Step times come from Dagster's own step
statistics, summed (with ``--workers`` above 1 feeds run at once and their steps overlap, so
a stage's seconds can exceed the wall time); ``pipeline_s`` is the wall time of the sync
and ``dagster_overhead_s`` the part of it outside the steps (run creation, event log,
partitions) when the feeds run one after the other. Peak memory: the largest sum of VmRSS
of the hub's processes (this one and the feed workers; not the feed server) a background
thread sampled every 50 ms, per stage while a step of that stage ran and for the whole run
(``peak_rss_mb.hub_processes``: what the 4 GB target is measured on); and
``resource.getrusage`` (RUSAGE_SELF, RUSAGE_CHILDREN: the largest single child).

``--workers N`` (default: the cores): partner feeds run N at once, as ``hub sync --workers``.

``--incremental``: after the full run 1 % of the records (every 100th, spread over every
feed: titles of jobs and courses, rents of flats) change, the feed server serves the new
bodies under the same URLs (so their ETags change), and the pipeline runs again; its stages
and its share of the full run's pipeline time (fetch + stage + publish + overhead, without
generating) are reported. Then the pipeline runs a third time with nothing changed
(``incremental.unchanged``: every feed answers 304 to its ETag, nothing is staged or
resolved): the floor under any incremental run of that many feeds, Dagster's runs and steps
and the requests, whatever changed. Targets: national in <= 15 minutes with peak memory
< 4 GB on 2 cores; an incremental run <= 5 % of the full one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import machine  # noqa: E402

TARGETS = {"national_total_s": 15 * 60, "national_peak_rss_mb": 4096, "incremental_share": 0.05}

# scale -> domain -> (records, {format: number of feeds})
SCALES = {
    "tiny": {"jobs": (200, {"ba-jobsuche": 1}), "courses": (60, {"csv-courses": 1, "ba-courses": 1}),
             "housing": (60, {"openimmo": 1, "csv-housing": 1})},
    "small": {"jobs": (2_000, {"ba-jobsuche": 2}), "courses": (500, {"csv-courses": 1, "ba-courses": 1}),
              "housing": (500, {"openimmo": 1, "csv-housing": 1})},
    "region": {"jobs": (50_000, {"ba-jobsuche": 12}), "courses": (10_000, {"csv-courses": 6, "ba-courses": 3}),
               "housing": (10_000, {"openimmo": 6, "csv-housing": 3})},
    "national": {"jobs": (1_000_000, {"ba-jobsuche": 250}),
                 "courses": (200_000, {"csv-courses": 85, "ba-courses": 40}),
                 "housing": (200_000, {"openimmo": 85, "csv-housing": 40})},
}
CONTENT_TYPES = {"ba-jobsuche": "application/json", "ba-courses": "application/json",
                 "csv-courses": "text/csv; charset=utf-8", "csv-housing": "text/csv; charset=utf-8",
                 "openimmo": "application/xml"}
EXTENSIONS = {"ba-jobsuche": "json", "ba-courses": "json", "csv-courses": "csv", "csv-housing": "csv",
              "openimmo": "xml"}
# the feeds' dates are relative to the day of the run (the pipeline's date rules use the real
# day): postings published in the last 86 days, courses starting in 2 to 8 months
DAY = dt.date.today()
DUPLICATE_SHARE = 0.02  # of a feed's records, also listed by the previous feed of that format
CHANGE_EVERY = 100  # --incremental: every 100th record changes (1 %)
DEFAULT_PG = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Landkreis Neunkirchen (AGS 10043): postal code, town, lat, lon
DISTRICT = [("66538", "Neunkirchen", 49.3452, 7.1800), ("66539", "Neunkirchen", 49.3357, 7.2058),
            ("66540", "Neunkirchen", 49.3683, 7.1721), ("66557", "Illingen", 49.3740, 7.0478),
            ("66564", "Ottweiler", 49.4012, 7.1638), ("66571", "Eppelborn", 49.4027, 6.9693),
            ("66578", "Schiffweiler", 49.3662, 7.1288), ("66583", "Spiesen-Elversberg", 49.3172, 7.1253),
            ("66589", "Merchweiler", 49.3570, 7.0566)]
STREETS = ["Bahnhofstraße", "Hauptstraße", "Lindenallee", "Kirchstraße", "Schulstraße", "Gartenstraße",
           "Ringstraße", "Bergstraße", "Friedhofstraße", "Waldstraße", "Am Markt", "Mühlenweg",
           "Talstraße", "Blumenstraße", "Rosenstraße", "Goethestraße", "Schillerstraße", "Poststraße",
           "Wiesenweg", "Jahnstraße"]
JOB_TITLES = ["Pflegefachkraft (m/w/d)", "Fachkraft für Lagerlogistik (m/w/d)", "Busfahrer (m/w/d)",
              "Koch (m/w/d)", "Erzieher (m/w/d)", "Elektroniker für Betriebstechnik (m/w/d)",
              "Verkäufer (m/w/d)", "Lagerhelfer (m/w/d)", "Reinigungskraft (m/w/d)",
              "Kaufmann/-frau für Büromanagement (m/w/d)", "Berufskraftfahrer (m/w/d) CE",
              "Maschinen- und Anlagenführer (m/w/d)"]
COURSE_TITLES = [("Integrationskurs", "A1-B1"), ("Berufssprachkurs", "B1-B2"), ("Alphabetisierungskurs", "A1"),
                 ("Jugendintegrationskurs", "A1-B1"), ("Berufssprachkurs Pflege", "B2")]


def places(scale: str) -> list[tuple[str, str, float, float]]:
    """Landkreis Neunkirchen for small (partner region 10043); Saarland's postal codes for
    region (partner region 10); for national also 400 places elsewhere in Germany (postal codes
    the quality tables do not know, so the distance rule does not apply to them)."""
    if scale in ("tiny", "small"):
        return DISTRICT
    from hub.quality.regions import DISTRICT_POSTAL_CODES, POSTAL_CENTROIDS

    rng = random.Random(7)
    out, seen = list(DISTRICT), {p[0] for p in DISTRICT}
    for postal in sorted(DISTRICT_POSTAL_CODES):
        if postal not in seen:
            seen.add(postal)
            lat, lon = POSTAL_CENTROIDS.get(postal, (round(rng.uniform(49.25, 49.45), 4),
                                                     round(rng.uniform(6.75, 7.25), 4)))
            out.append((postal, f"Ort {postal}", lat, lon))
    if scale != "national":
        return out
    while len(out) < 68 + 400:
        postal = f"{rng.randint(1067, 99998):05d}"
        if postal in seen or postal in POSTAL_CENTROIDS or postal.startswith("66"):
            continue
        seen.add(postal)
        out.append((postal, f"Ort {postal}", round(rng.uniform(48.0, 54.0), 4), round(rng.uniform(7.0, 13.5), 4)))
    return out


REGIONS = {"tiny": "10043", "small": "10043", "region": "10", "national": None}
SURNAMES = """Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer
Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner
Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs
Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth
Beck Lorenz Baumann Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt
Stein Jäger Otto Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn""".split()
TRADES = """Logistik Pflegedienst Bau Elektrotechnik Gastronomie Gebäudereinigung Metallbau Spedition
Haustechnik Bäckerei Autohaus Dachdeckerei Malerbetrieb Druckerei Getränkehandel Sanitär Zeitarbeit Kliniken
Seniorenresidenz Kindertagesstätten Maschinenbau Kunststofftechnik Gartenbau Sicherheitsdienst""".split()


# ------------------------------------------------------------------------------ feeds


@dataclass
class FeedPlan:
    partner_id: str
    domain: str
    format: str
    first: int  # global index of its first record (identities are functions of the index)
    count: int

    @property
    def path(self) -> str:
        return f"/feeds/{self.domain}/{self.partner_id}.{EXTENSIONS[self.format]}"


def plan(scale: str) -> list[FeedPlan]:
    feeds: list[FeedPlan] = []
    for domain, (total, formats) in SCALES[scale].items():
        n_feeds = sum(formats.values())
        share, start, k = total // n_feeds, 0, 0
        for fmt, number in formats.items():
            for j in range(number):
                count = share if k < n_feeds - 1 else total - share * (n_feeds - 1)
                dup = int(count * DUPLICATE_SHARE) if j > 0 else 0  # same format only
                feeds.append(FeedPlan(f"bench-{domain}-{k:03d}", domain, fmt, start - dup, count))
                start += count - dup
                k += 1
    return feeds


def _changed(g: int, version: int) -> bool:
    return version > 0 and g % CHANGE_EVERY == 7


def _ba_jobs(feed: FeedPlan, where: list, version: int) -> bytes:
    items = []
    for g in range(feed.first, feed.first + feed.count):
        postal, town, lat, lon = where[g % len(where)]
        title = JOB_TITLES[g % len(JOB_TITLES)] + (" - ab sofort" if _changed(g, version) else "")
        items.append({
            "referenznummer": f"10001-{1000000000 + g}-S", "stellenangebotsTitel": title,
            "firma": f"{SURNAMES[g % len(SURNAMES)]} {TRADES[(g // len(SURNAMES)) % len(TRADES)]} GmbH",
            "stellenlokationen": [{"adresse": {"strasse": STREETS[g % 20], "hausnummer": str(g % 90 + 1),
                                               "plz": postal, "ort": town, "land": "DEUTSCHLAND"},
                                   "breite": lat, "laenge": lon}],
            "stellenangebotsart": "ARBEIT", "arbeitszeitVollzeit": True,
            "verguetungsangabe": "MONATSGEHALT", "gehaltsspanneVon": 2400 + g % 900,
            "gehaltsspanneBis": 3400 + g % 900, "eintrittszeitraum": {"von": str(DAY + dt.timedelta(days=36 + g % 90))},
            "veroeffentlichungszeitraum": {"von": str(DAY - dt.timedelta(days=86 - g % 86))},
            "aenderungsdatum": f"{DAY - dt.timedelta(days=25)}T08:00:00.000", "externeURL": f"https://jobs.example/{g}",
        })
    return json.dumps({"ergebnisliste": items, "maxErgebnisse": len(items), "page": 1, "size": len(items)},
                      ensure_ascii=False).encode()


def _course(g: int, where: list, version: int):
    postal, town, lat, lon = where[g % len(where)]
    kind, levels = COURSE_TITLES[g % len(COURSE_TITLES)]
    title = f"{kind} {levels} Nr. {g}" + (" (Abendkurs)" if _changed(g, version) else "")
    start = DAY + dt.timedelta(days=67 + g % 180)
    return postal, town, lat, lon, kind, levels, title, start


def _csv_courses(feed: FeedPlan, where: list, version: int) -> bytes:
    rows = ["Kurs-ID;Titel;Kursart;Sprachniveau;Beginn;Ende;Zeitmodell;Kinderbetreuung;Strasse;PLZ;Ort"]
    for g in range(feed.first, feed.first + feed.count):
        postal, town, _, _, kind, levels, title, start = _course(g, where, version)
        kind = "Integrationskurs" if "Integration" in kind or "Alpha" in kind else "Berufssprachkurs"
        end = start + dt.timedelta(days=240)
        rows.append(f"K-{g:07d};{title};{kind};{levels};{start:%d.%m.%Y};{end:%d.%m.%Y};Teilzeit;ja;"
                    f"{STREETS[g % 20]} {g % 90 + 1};{postal};{town}")
    return ("\n".join(rows) + "\n").encode("utf-8")


def _ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000)


def _ba_courses(feed: FeedPlan, where: list, version: int) -> bytes:
    termine = []
    for g in range(feed.first, feed.first + feed.count):
        postal, town, lat, lon, _, _, title, start = _course(g, where, version)
        termine.append({
            "id": 300000000 + g,
            "unterrichtsform": {"id": 101, "bezeichnung": "Präsenzunterricht"},
            "unterrichtszeit": {"id": 2, "bezeichnung": "Teilzeit"},
            "angebot": {
                "id": 40000000 + g, "titel": title, "inhalt": "<p>Deutsch für Alltag und Beruf</p>",
                "bildungsanbieter": {"id": 500000 + g % 997, "name": f"Bildungsträger {g % 997} gGmbH",
                                     "adresse": {"strasse": f"{STREETS[g % 20]} {g % 90 + 1}",
                                                 "ortStrasse": {"plz": postal, "name": town},
                                                 "koordinaten": {"lat": lat, "lon": lon}}},
                "bildungsart": {"id": 106, "bezeichnung": "Sprachkurs"},
                "angebotstyp": {"id": 5, "bezeichnung": "Weiterbildungsangebot"},
            },
            "adresse": None, "kostenWert": "0.0", "kostenWaehrung": "EUR", "foerderung": True,
            "beginn": _ms(start), "ende": _ms(start + dt.timedelta(days=240)),
            "aktualisierungsdatum": _ms(DAY - dt.timedelta(days=25)),
        })
    n = len(termine)
    return json.dumps({"_embedded": {"termine": termine},
                       "page": {"size": n, "totalElements": n, "totalPages": 1, "number": 0}},
                      ensure_ascii=False).encode()


def _flat(g: int, where: list, version: int):
    """A flat whose identity key (postal code, street, number, floor, rooms, area) is unique
    per index: the index in mixed radix (place, street, number, floor, rooms)."""
    p, rest = g % len(where), g // len(where)
    street, rest = STREETS[rest % 20], rest // 20
    number, rest = rest % 150 + 1, rest // 150
    floor, rest = rest % 6, rest // 6
    rooms = rest % 4 + 1
    area = 25 + rooms * 15 + g % 9
    cold = 6 * area + g % 50 + (25 if _changed(g, version) else 0)
    return where[p], street, number, floor, rooms, area, cold


def _openimmo(feed: FeedPlan, where: list, version: int) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<openimmo><uebertragung art="ONLINE" umfang="VOLL" '
             'modus="CHANGE" version="1.2.7"/><anbieter><firma>Bench Wohnen eG</firma>']
    for g in range(feed.first, feed.first + feed.count):
        (postal, town, lat, lon), street, number, floor, rooms, area, cold = _flat(g, where, version)
        parts.append(
            f"<immobilie><objektkategorie><nutzungsart WOHNEN=\"true\"/><vermarktungsart MIETE_PACHT=\"true\"/>"
            f"<objektart><wohnung wohnungtyp=\"ETAGE\"/></objektart></objektkategorie>"
            f"<geo><plz>{postal}</plz><ort>{town}</ort><geokoordinaten breitengrad=\"{lat}\" laengengrad=\"{lon}\"/>"
            f"<strasse>{street}</strasse><hausnummer>{number}</hausnummer><land iso_land=\"DEU\"/>"
            f"<etage>{floor}</etage></geo><preise><kaltmiete>{cold}</kaltmiete>"
            f"<warmmiete>{cold + 160}</warmmiete><nebenkosten>160</nebenkosten><kaution>{cold * 3}</kaution></preise>"
            f"<flaechen><wohnflaeche>{area}</wohnflaeche><anzahl_zimmer>{rooms}</anzahl_zimmer></flaechen>"
            f"<freitexte><objekttitel>{rooms}-Zimmer-Wohnung in {town}</objekttitel></freitexte>"
            f"<verwaltung_objekt><verfuegbar_ab>sofort</verfuegbar_ab><wbs_sozialwohnung>false</wbs_sozialwohnung>"
            f"</verwaltung_objekt><verwaltung_techn><objektnr_extern>BW-{g:07d}</objektnr_extern>"
            f"<aktion aktionart=\"CHANGE\"/></verwaltung_techn></immobilie>")
    parts.append("</anbieter></openimmo>")
    return "".join(parts).encode()


def _csv_housing(feed: FeedPlan, where: list, version: int) -> bytes:
    rows = ["Wohnungs-ID;Titel;Art;Zimmer;Wohnfläche;Kaltmiete;Nebenkosten;Warmmiete;Frei ab;"
            "WBS erforderlich;Etage;Straße;PLZ;Ort"]
    for g in range(feed.first, feed.first + feed.count):
        (postal, town, _, _), street, number, floor, rooms, area, cold = _flat(g, where, version)
        rows.append(f"WHG-{g:07d};{rooms}-Zimmer-Wohnung in {town};Wohnung;{rooms};{area};{cold};160;"
                    f"{cold + 160};sofort;nein;{floor};{street} {number};{postal};{town}")
    return ("\n".join(rows) + "\n").encode("utf-8")


GENERATORS = {"ba-jobsuche": _ba_jobs, "csv-courses": _csv_courses, "ba-courses": _ba_courses,
              "openimmo": _openimmo, "csv-housing": _csv_housing}


def write_feeds(feeds: list[FeedPlan], where: list, folder: Path, version: int) -> dict:
    """Writes every feed body and the manifest the feed server reads; returns sizes."""
    manifest, total_bytes = [], 0
    for feed in feeds:
        body = GENERATORS[feed.format](feed, where, version)
        file = folder / feed.path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(body)
        total_bytes += len(body)
        manifest.append({"path": feed.path, "file": str(file), "content_type": CONTENT_TYPES[feed.format]})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return {"feeds": len(feeds), "records": sum(f.count for f in feeds), "mb": round(total_bytes / 1e6, 1)}


def registry_text(feeds: list[FeedPlan], base_url: str, region: str | None) -> str:
    partners = []
    for feed in feeds:
        entry = {"id": feed.partner_id, "name": f"Bench partner {feed.partner_id}",
                 "kind": {"jobs": "employer", "courses": "language_school", "housing": "housing_company"}[feed.domain],
                 "allow_private_network": True,
                 "feeds": [{"format": feed.format, "source": base_url + feed.path}]}
        if region:
            entry["region"] = region
        partners.append(entry)
    import yaml

    return "# generated by bench/run.py\n" + yaml.safe_dump({"partners": partners}, sort_keys=False)


# ------------------------------------------------------------------------------ feed server child


def serve(folder: Path) -> None:
    """Child process: serve the manifest's feeds; 'reload' on stdin re-reads them; EOF stops."""
    from hub.demo.server import FeedServer

    def load(server: FeedServer) -> None:
        for item in json.loads((folder / "manifest.json").read_text()):
            server.set_feed(item["path"], Path(item["file"]).read_bytes(), item["content_type"])

    with FeedServer() as server:
        load(server)
        print(server.base_url, flush=True)
        for line in sys.stdin:
            if line.strip() == "reload":
                load(server)
                print("ok", flush=True)
        status = Path("/proc/self/status").read_text()
        hwm = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM")), 0)
        print(json.dumps({"peak_rss_mb": round(hwm / 1024)}), flush=True)


class FeedServerProcess:
    def __init__(self, folder: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--serve", str(folder)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            raise RuntimeError("the feed server did not start")

    def reload(self) -> None:
        self.proc.stdin.write("reload\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "ok"

    def stop(self) -> dict:
        if self.proc.poll() is not None:
            return {}
        self.proc.stdin.close()
        out = self.proc.stdout.read()
        self.proc.wait(timeout=60)
        try:
            return json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {}


# ------------------------------------------------------------------------------ memory


def _rss_kb(pid: int | str = "self") -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS"):
                    return int(line.split()[1])
    except OSError:  # the process just ended
        pass
    return 0


def _children() -> set[int]:
    found: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            found.update(int(pid) for pid in (task / "children").read_text().split())
        except OSError:
            pass
    return found


class RssSampler(threading.Thread):
    """VmRSS of the hub's processes (this one and its children: the feed workers of
    ``run_sync(workers=N)``; not ``exclude``, the feed server) every ``interval`` seconds,
    summed, with wall-clock times."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.interval, self.samples, self._halt = interval, [], threading.Event()
        self.exclude: set[int] = set()

    def run(self) -> None:
        while not self._halt.is_set():
            kb = _rss_kb() + sum(_rss_kb(pid) for pid in _children() - self.exclude)
            self.samples.append((time.time(), kb))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()

    def peak_mb(self, windows: list[tuple[float, float]]) -> int | None:
        """Largest sample inside any of the windows (and the samples just around them)."""
        if not windows:
            return None
        windows = sorted(windows)
        best, i = 0, 0
        for t, kb in self.samples:
            while i < len(windows) and windows[i][1] + self.interval < t:
                i += 1
            if i == len(windows):
                break
            if windows[i][0] - self.interval <= t:
                best = max(best, kb)
        return round(best / 1024) if best else None


# ------------------------------------------------------------------------------ one pipeline run


def pipeline_run(engine, registry, sampler: RssSampler, quiet: bool, profile: str | None = None,
                 workers: int = 1) -> dict:
    """hub sync's path (hub.runner.run_sync), then Dagster's step statistics per stage.
    With ``profile``: cProfile statistics of the run written to that file."""
    from dagster import DagsterInstance, RunsFilter

    from hub.runner import run_sync

    with DagsterInstance.get() as instance:
        before = {r.run_id for r in instance.get_runs()}
    count = [0]

    def progress(message: str) -> None:
        count[0] += 1
        if not quiet and (count[0] % 25 == 0 or message.startswith(("publishing", "  ")) or "failed" in message or "held" in message):
            print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.time()
    summary = run_sync(engine, registry, progress=progress, workers=workers)
    ended = time.time()
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    windows: dict[str, list[tuple[float, float]]] = {"fetch": [], "stage": [], "publish": []}
    with DagsterInstance.get() as instance:
        runs = [r for r in instance.get_runs(RunsFilter()) if r.run_id not in before]
        for run in runs:
            for step in instance.get_run_step_stats(run.run_id):
                if step.start_time is None or step.end_time is None:
                    continue
                key = step.step_key
                stage = "fetch" if key.startswith("raw") else "stage" if key.startswith("staged") else \
                    "publish" if key.startswith("directory") else None
                if stage:
                    windows[stage].append((step.start_time, step.end_time))
    data = summary.to_json()
    stages = {
        "fetch": {"records": data["fetched"], "feeds": len(summary.feeds)},
        "stage": {"records": data["accepted"] + data["rejected"], "accepted": data["accepted"],
                  "rejected": data["rejected"], "failed_feeds": data["failed_feeds"],
                  "held_feeds": data["held_feeds"]},
        "publish": {"records": sum(summary.published.values()), "directory": summary.published,
                    "ok": summary.publish_ok},
    }
    for name, spans in windows.items():
        stages[name]["seconds"] = round(sum(end - start for start, end in spans), 2)
        stages[name]["steps"] = len(spans)
        stages[name]["peak_rss_mb"] = sampler.peak_mb(spans)
    in_steps = sum(stages[n]["seconds"] for n in windows)
    return {"stages": stages, "seconds": round(ended - started, 2),
            # with workers the steps overlap: time outside them is not measurable this way
            "dagster_overhead_s": round(ended - started - in_steps, 2) if workers == 1 else None,
            "peak_rss_mb": sampler.peak_mb([(started, ended)])}


def _postgres_schema(url: str) -> tuple[str, str]:
    import sqlalchemy as sa

    schema = f"bench_run_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return schema, f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def _drop_schema(url: str, schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def bench(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"hub-bench-{args.scale}-"))
    schema = None
    server = None
    sampler = RssSampler()
    sampler.start()
    try:
        home = tmp / "hub"
        home.mkdir()
        os.environ["HUB_HOME"] = str(home)
        os.environ["HUB_REGISTRY"] = str(home / "registry.yaml")
        os.environ["DAGSTER_HOME"] = str(tmp / "dagster")
        for name in ("HUB_SMTP_HOST", "HUB_STEWARD_EMAILS"):
            os.environ.pop(name, None)
        if args.database:
            schema, url = _postgres_schema(args.database)
            os.environ["HUB_DATABASE_URL"] = url
        else:
            os.environ["HUB_DATABASE_URL"] = f"sqlite:///{home / 'hub.db'}"

        from hub.config import Settings
        from hub.registry import parse_registry
        from hub.resources import engine_for
        from hub.runner import ensure_dagster_home

        started = time.time()
        feeds = plan(args.scale)
        where = places(args.scale)
        feeds_dir = tmp / "feeds"
        generated = write_feeds(feeds, where, feeds_dir, version=0)
        server = FeedServerProcess(feeds_dir)
        sampler.exclude.add(server.proc.pid)
        gen_end = time.time()
        generate = {"seconds": round(gen_end - started, 2), "records": generated["records"],
                    "feeds": generated["feeds"], "mb": generated["mb"],
                    "peak_rss_mb": sampler.peak_mb([(started, gen_end)])}

        settings = Settings.from_env()
        text = registry_text(feeds, server.base_url, REGIONS[args.scale])
        settings.registry_path.write_text(text, encoding="utf-8")
        registry = parse_registry(text, str(settings.registry_path))
        engine = engine_for(settings.database_url)
        ensure_dagster_home(settings)

        full = pipeline_run(engine, registry, sampler, args.quiet,
                            args.profile and f"{args.profile}.full.prof", args.workers)
        total_s = time.time() - started
        full["stages"] = {"generate": generate, **full["stages"],
                          "total": {"seconds": round(total_s, 2), "records": generated["records"],
                                    "peak_rss_mb": sampler.peak_mb([(started, time.time())])}}
        report = {"scale": args.scale, "database": "postgresql" if args.database else "sqlite",
                  "machine": machine(), "workers": args.workers, "feeds": generated["feeds"],
                  "records": {d: SCALES[args.scale][d][0] for d in SCALES[args.scale]},
                  "stages": full["stages"], "pipeline_s": full["seconds"],
                  "dagster_overhead_s": full["dagster_overhead_s"]}

        if args.incremental:
            t0 = time.time()
            changed = write_feeds(feeds, where, feeds_dir, version=1)
            server.reload()
            t1 = time.time()
            mark = _last_publication(engine)
            inc = pipeline_run(engine, registry, sampler, args.quiet,
                               args.profile and f"{args.profile}.incremental.prof", args.workers)
            changed_records = sum(1 for f in feeds for g in range(f.first, f.first + f.count) if _changed(g, 1))
            inc["stages"] = {"generate": {"seconds": round(t1 - t0, 2), "records": changed_records,
                                          "feeds": changed["feeds"], "peak_rss_mb": sampler.peak_mb([(t0, t1)])},
                             **inc["stages"],
                             "total": {"seconds": round(time.time() - t0, 2), "records": changed_records,
                                       "peak_rss_mb": sampler.peak_mb([(t0, time.time())])}}
            report["incremental"] = {
                "changed_records": changed_records, "changed_feeds": len(feeds),
                "stages": inc["stages"], "pipeline_s": inc["seconds"],
                "dagster_overhead_s": inc["dagster_overhead_s"],
                "share_of_full": round(inc["seconds"] / full["seconds"], 3),
                "target_share": TARGETS["incremental_share"],
                "resolved": _resolved_since(engine, mark),
            }
            mark = _last_publication(engine)
            same = pipeline_run(engine, registry, sampler, True, None, args.workers)
            report["incremental"]["unchanged"] = {
                "pipeline_s": same["seconds"], "resolved": _resolved_since(engine, mark),
                "stages": {name: same["stages"][name] for name in ("fetch", "stage", "publish")},
                "share_of_full": round(same["seconds"] / full["seconds"], 3),
            }
        engine.dispose()
    finally:
        sampler.stop()
        feed_server = server.stop() if server else {}
        if schema:
            _drop_schema(args.database, schema)
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    self_usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    report["peak_rss_mb"] = {"hub_processes": sampler.peak_mb([(0, time.time())]),
                             "process": round(self_usage.ru_maxrss / 1024),
                             "children": round(children.ru_maxrss / 1024),
                             "feed_server": feed_server.get("peak_rss_mb")}
    report["cpu_s"] = round(self_usage.ru_utime + self_usage.ru_stime, 1)
    total = report["stages"]["total"]["seconds"]
    report["targets"] = {
        "national_total_s": TARGETS["national_total_s"],
        "national_peak_rss_mb": TARGETS["national_peak_rss_mb"],
        "incremental_share": TARGETS["incremental_share"],
    }
    if args.scale == "national":
        report["targets"]["met"] = {"time": total <= TARGETS["national_total_s"],
                                    "memory": report["peak_rss_mb"]["hub_processes"] < TARGETS["national_peak_rss_mb"]}
    if "incremental" in report:
        report["targets"].setdefault("met", {})["incremental"] = \
            report["incremental"]["share_of_full"] <= TARGETS["incremental_share"]
    return report


def _last_publication(engine) -> int:
    import sqlalchemy as sa

    from hub.store.tables import publications

    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.coalesce(sa.func.max(publications.c.id), 0))).scalar_one()


def _resolved_since(engine, publication_id: int) -> dict[str, int]:
    """Records resolved per domain by the publications after ``publication_id``."""
    import sqlalchemy as sa

    from hub.store.tables import publications

    with engine.connect() as conn:
        rows = conn.execute(sa.select(publications.c.domain, sa.func.sum(publications.c.resolved))
                            .where(publications.c.id > publication_id)
                            .group_by(publications.c.domain)).all()
    return {domain: int(n or 0) for domain, n in rows}


def _text(report: dict) -> str:
    lines = [f"scale {report['scale']} ({report['feeds']} feeds, {report['database']}, "
             f"{report['machine']['cores']} cores, a 10M-addition loop "
             f"{report['machine']['python_loop_10m_s']} s)"]
    for title, block in (("full", report), ("incremental", report.get("incremental"))):
        if not block:
            continue
        lines.append(f"{title}:")
        for name, stage in block["stages"].items():
            lines.append(f"  {name:<9} {stage['seconds']:>9.1f} s  {stage['records']:>9} records  "
                         f"peak {stage.get('peak_rss_mb')} MB")
        lines.append(f"  dagster overhead outside steps: {block['dagster_overhead_s']} s")
    if "incremental" in report:
        inc = report["incremental"]
        lines.append(f"incremental share of full: {inc['share_of_full']:.1%} (target <= 5 %); "
                     f"nothing changed: {inc['unchanged']['share_of_full']:.1%}")
    lines.append(f"peak RSS: {report['peak_rss_mb']}; targets: {report['targets']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="small")
    parser.add_argument("--incremental", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--database", nargs="?", const=DEFAULT_PG, default=None,
                        help=f"PostgreSQL URL (a schema is made and dropped); without value: {DEFAULT_PG}")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="partner feeds run at once, as hub sync --workers (default: the cores)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--profile", metavar="PREFIX",
                        help="write cProfile statistics of each pipeline run to PREFIX.full.prof "
                             "(and PREFIX.incremental.prof); timings are slower under the profiler")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve))
        return
    report = bench(args)
    print(json.dumps(report, indent=2) if args.json else _text(report))


if __name__ == "__main__":
    main()
