"""Semantic validation benchmarks (the GX suites of hub/quality/suites.py), printed as JSON.

  .venv/bin/python bench/quality.py [--sizes 100000,1000000] [--domains jobs,courses,housing]
                                    [--records 100000] [--defects 0.03]

For each domain and size, in a child process of its own (so that its peak memory, max RSS via
resource.getrusage, is its own): a generated DataFrame of that many rows (the suite's base
columns, Landkreis Neunkirchen data, ``--defects`` of the rows broken in one way or another),
validated by the domain's full suite as the pipeline runs it:

- ``suite``: the whole run (derived columns, then a GX pass over all rows with BOOLEAN_ONLY
  results and one with COMPLETE results for the failing expectations: failing rows named,
  row-level detail for those only), with the time of each step.

``--records N`` also measures the records path (N canonical records -> DataFrame -> suite ->
rejections), i.e. what ``check_records`` costs in the pipeline. Target (issue 4): >= 300,000
rows/s for a domain's full suite at 1M rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.machine import machine  # noqa: E402

TODAY = dt.date(2026, 11, 22)
REGION = "10043"
PLACES = [("66538", 49.3452, 7.1800, "10043114"), ("66539", 49.3357, 7.2058, "10043114"),
          ("66540", 49.3683, 7.1721, "10043114"), ("66557", 49.3740, 7.0478, "10043112"),
          ("66564", 49.4012, 7.1638, "10043115"), ("66571", 49.4027, 6.9693, "10043111"),
          ("66578", 49.3662, 7.1288, "10043116"), ("66583", 49.3172, 7.1253, "10043117"),
          ("66589", 49.3570, 7.0566, "10043113")]
TITLES = {
    "jobs": ["Pflegefachkraft (m/w/d)", "Fachkraft für Lagerlogistik (m/w/d)", "Busfahrer (m/w/d)",
             "Koch (m/w/d)", "Erzieher (m/w/d)", "Elektroniker (m/w/d)", "Verkäufer (m/w/d)",
             "Berufskraftfahrer CE (m/w/d)", "Helfer Produktion (m/w/d)", "Bäcker (m/w/d)"],
    "courses": ["Integrationskurs A1-B1", "Berufssprachkurs B2", "Alphabetisierungskurs",
                "Deutsch im Alltag A2", "Jugendintegrationskurs", "Erstorientierungskurs",
                "Umschulung Kaufmann im Einzelhandel", "Weiterbildung Pflegehilfe"],
    "housing": ["2-Zimmer-Wohnung in Neunkirchen", "3-Zimmer-Wohnung mit Balkon",
                "1-Zimmer-Apartment nahe Bahnhof", "Familienwohnung in Ottweiler",
                "Dachgeschosswohnung in Illingen", "WG-Zimmer in Wiebelskirchen"],
}
BAD_TITLES = ["xxx", "-", "n/a", "Test", "IT", "VHS"]


def _strings(values) -> pd.Series:
    return pd.Series(values, dtype="str")


def _days(base: dt.date, offsets: np.ndarray) -> np.ndarray:
    return (np.datetime64(base, "D") + offsets.astype("timedelta64[D]")).astype("datetime64[ns]")


def generate(domain: str, n: int, defects: float = 0.03, seed: int = 4) -> pd.DataFrame:
    """``n`` rows of ``domain``'s base columns; about ``defects`` of them break some rule."""
    rng = np.random.default_rng(seed)
    broken = rng.random(n) < defects
    kind = rng.integers(0, 12, n)  # which defect a broken row carries

    def bad(k: int) -> np.ndarray:
        return broken & (kind == k)

    place = rng.integers(0, len(PLACES), n)
    postal = np.array([p[0] for p in PLACES], dtype=object)[place]
    postal[bad(0)] = "66111"  # Saarbrücken: outside the district
    lat = np.array([p[1] for p in PLACES])[place] + rng.normal(0, 0.01, n)
    lon = np.array([p[2] for p in PLACES])[place] + rng.normal(0, 0.01, n)
    swap = bad(1)
    lat[swap], lon[swap] = lon[swap].copy(), lat[swap].copy()
    lat[bad(2)] += 0.6  # ~65 km north of the postal code
    # titles: the templates with a place or an employer, about 1 % of them distinct
    titles = np.array([f"{t} – {i}" for i in range(n // 100 + 1) for t in TITLES[domain]],
                      dtype=object)[rng.integers(0, n // 100 * len(TITLES[domain]) + 1, n)]
    bad_titles = np.array(BAD_TITLES, dtype=object)
    titles[bad(3)] = bad_titles[rng.integers(0, len(BAD_TITLES), bad(3).sum())]
    ids = np.arange(n)
    url = np.array([f"https://angebote.example.de/{domain}/{i}" for i in range(n)], dtype=object)
    url[bad(4)] = "http://intranet/angebot"
    # contact persons: half the offers name one of 2,000 (as real partners do)
    has_contact = rng.random(n) < 0.5
    person = rng.integers(0, 2000, n)
    emails = np.array([f"kontakt.{i}@partner{i % 97}.de" for i in range(2000)], dtype=object)
    phones = np.array([f"06821 {100000 + 37 * i}" for i in range(2000)], dtype=object)
    email = np.where(has_contact, emails[person], None)
    phone = np.where(has_contact, phones[person], None)
    email[bad(5)] = "kontakt at partner.de"
    phone[bad(5)] = "123"
    frame = {
        "row": ids.astype("int64"),
        "source_id": _strings([f"{domain[0].upper()}-{i:08d}" for i in range(n)]),
        "partner_id": _strings(["bench"] * n),
        "title": _strings(titles),
        "postal_code": _strings(postal),
        "municipality_key": _strings(np.where(rng.random(n) < 0.2,
                                              np.array([p[3] for p in PLACES], dtype=object)[place],
                                              None)),
        "lat": lat,
        "lon": lon,
        "url": _strings(url),
        "contact_email": _strings(email),  # published contacts (the rules that are errors)
        "contact_phone": _strings(phone),
        "contact_email_private": _strings([None] * n),
        "contact_phone_private": _strings([None] * n),
    }
    if domain == "jobs":
        published = rng.integers(-60, 0, n)
        valid = rng.integers(10, 120, n)
        valid[bad(6)] = -5  # expired
        start = rng.integers(0, 90, n)
        start[bad(7)] = -(TODAY - dt.date(1900, 1, 1)).days  # placeholder 1900
        low = rng.uniform(2200, 3400, n).round(0)
        high = low + rng.uniform(0, 900, n).round(0)
        low[bad(8)], high[bad(8)] = high[bad(8)] + 100, low[bad(8)]
        period = np.full(n, "month", dtype=object)
        period[bad(9)] = "hour"  # a monthly salary marked as hourly
        frame.update({
            "start_date": _days(TODAY, start), "published_from": _days(TODAY, published),
            "valid_through": _days(TODAY, valid), "salary_min": low, "salary_max": high,
            "salary_period": _strings(period),
            "german_level": _strings(np.array(["A2", "B1", "B2", None], dtype=object)[
                rng.integers(0, 4, n)]),
        })
    elif domain == "courses":
        start = rng.integers(7, 120, n)
        length = rng.integers(20, 200, n)
        end = start + length
        end[bad(6)] = -3  # ended
        end[bad(7)] = start[bad(7)] - 10  # ends before it starts
        start[bad(8)] = (dt.date(2099, 12, 31) - TODAY).days
        kinds = np.array(["integration_course", "job_language_course", "language_course",
                          "literacy_course", "orientation"], dtype=object)
        levels = np.array(["A1,A2,B1", "B2", "A1", None, "B1,B2"], dtype=object)
        frame.update({
            "start_date": _days(TODAY, start), "end_date": _days(TODAY, end),
            "course_type": _strings(kinds[rng.integers(0, len(kinds), n)]),
            "cefr_levels": _strings(levels[rng.integers(0, len(levels), n)]),
        })
    elif domain == "housing":
        rooms = rng.integers(1, 6, n).astype("float64")
        area = (rooms * rng.uniform(18, 30, n)).round(1)
        cold = (area * rng.uniform(6, 11, n)).round(0)
        costs = rng.uniform(120, 260, n).round(0)
        heating = (costs * 0.3).round(0)
        warm = cold + costs
        warm[bad(6)] = cold[bad(6)] - 50
        area[bad(7)] = 4.0
        rooms[bad(8)] = 25.0
        cold[bad(9)] = area[bad(9)] * 45
        frame.update({
            "available_from": _days(TODAY, rng.integers(0, 90, n)),
            "rooms": rooms, "living_area": area, "cold_rent": cold, "warm_rent": warm,
            "service_charges": costs - heating, "heating_costs": heating,
        })
    return pd.DataFrame(frame)


def _rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def measure_frame(domain: str, n: int, defects: float) -> dict:
    """Runs in a child process: generate, then the whole suite."""
    from hub.quality import suites

    engine = suites.gx_engine()  # GX import and context, once per process
    warm = generate(domain, 1000, defects, seed=1)
    suites.run_suite(domain, warm, region=REGION, today=TODAY)  # first-run costs
    frame = generate(domain, n, defects)
    rss_before = _rss_mb()

    started = time.perf_counter()
    run = suites.run_suite(domain, frame, region=REGION, today=TODAY)
    suite_s = time.perf_counter() - started
    failing_rows = len(set().union(*(set(rows.tolist()) for rows in run.failures.values())))
    return {
        "domain": domain, "rows": n, "failing_rows": failing_rows,
        "expectations": run.expectations,
        "unexpected_by_rule": run.unexpected_by_rule(),
        "gx_version": run.gx_version, "gx_startup_s": round(engine.startup_s, 2),
        "suite": {"seconds": round(suite_s, 3), "rows_per_s": round(n / suite_s),
                  **{k: round(v, 3) for k, v in run.timings.items()}},
        "rss_before_mb": rss_before,
        "peak_rss_mb": _rss_mb(),
    }


def measure_records(domain: str, n: int, defects: float) -> dict:
    """Runs in a child process: canonical records -> validate() -> rejections."""
    from hub.models import RECORD_TYPES, Domain
    from hub.quality import suites

    suites.gx_engine()
    frame = generate(domain, n, defects)
    model = RECORD_TYPES[Domain(domain)]
    records = []
    for row in frame.to_dict("records"):
        def val(key):
            value = row.get(key)
            if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
                return None
            if isinstance(value, pd.Timestamp):
                return value.date()
            return value
        fields = {
            "partner_id": row["partner_id"], "source_id": row["source_id"], "title": row["title"],
            "address": {"postal_code": row["postal_code"], "city": "Neunkirchen",
                        "municipality_key": val("municipality_key")},
            "geo": {"lat": max(-90, min(90, row["lat"])), "lon": row["lon"]},
            "url": row["url"],
            "contact": ({"email": val("contact_email"), "phone": val("contact_phone"), "public": True}
                        if val("contact_email") else None),
        }
        for key in suites.BASE_COLUMNS[domain]:
            if key == "cefr_levels":
                fields[key] = (val(key) or "").split(",") if val(key) else []
            else:
                fields[key] = val(key)
        records.append(model.model_construct(**{k: v for k, v in fields.items() if v is not None}))
    # model_construct leaves nested dicts as dicts: build the nested models properly
    from hub.models import Address, ContactPerson, GeoPoint
    for record in records:
        record.address = Address.model_construct(**record.address)
        record.geo = GeoPoint.model_construct(**record.geo)
        if isinstance(record.contact, dict):
            record.contact = ContactPerson.model_construct(**record.contact)
    del frame
    rss_before = _rss_mb()
    started = time.perf_counter()
    built = suites.records_frame(domain, records)
    frame_s = time.perf_counter() - started
    del built
    started = time.perf_counter()
    result = suites.validate(domain, records, region=REGION, today=TODAY)
    seconds = time.perf_counter() - started
    return {
        "domain": domain, "records": n, "accepted": len(result.accepted),
        "rejections": len(result.rejections), "records_frame_s": round(frame_s, 3),
        "seconds": round(seconds, 3), "records_per_s": round(n / seconds),
        "rss_before_mb": rss_before, "peak_rss_mb": _rss_mb(),
    }


def _child(kind: str, domain: str, n: int, defects: float) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, domain, str(n),
                           "--defects", str(defects)], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"domain": domain, "rows": n, "error": proc.stderr.strip().splitlines()[-3:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--domains", default="jobs,courses,housing")
    parser.add_argument("--records", type=int, default=100_000,
                        help="records for the records path (0: skip)")
    parser.add_argument("--defects", type=float, default=0.03)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "DOMAIN", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, domain, n = args.child
        measure = measure_frame if kind == "frame" else measure_records
        print(json.dumps(measure(domain, int(n), args.defects)))
        return
    domains = args.domains.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    report = {"machine": machine(), "defect_share": args.defects, "target_rows_per_s": 300_000,
              "suite": [], "records": []}
    for domain in domains:
        for n in sizes:
            report["suite"].append(_child("frame", domain, n, args.defects))
        if args.records:
            report["records"].append(_child("records", domain, args.records, args.defects))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
