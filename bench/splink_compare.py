"""The hub's resolver against Splink (DuckDB backend) on the same labelled records.

    pip install -e ".[bench]"
    python -m bench.splink_compare [--domain jobs --domain courses --domain housing]

Prints one JSON object: per domain, both tools' pairwise and B-cubed precision/recall/F1 and
their time. Splink gets the same normalised columns the hub compares (title without gender
marker, organisation without legal form, street key, ...), is trained unsupervised (u by
random sampling, m by expectation maximisation on two blocking passes), uses blocking rules
like the hub's (postal code plus one more column, other partner) and clusters at a match
probability of 0.9. Bench-only: Splink is not a runtime dependency of the hub.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from bench.resolution import evaluate
from bench.resolution_set import labelled
from hub.resolve.compare import Features
from hub.resolve.engine import Resolver

THRESHOLD = 0.9
THRESHOLDS = (0.9, 0.99, 0.999)  # Splink's figure is reported at 0.9; the others for fairness


def _frame(domain: str, records: list[dict]):
    import pandas as pd

    rows = []
    for i, r in enumerate(records):
        f = Features(domain, r)
        rows.append({
            "unique_id": i,
            "partner_id": r["partner_id"],
            "postal": f.postal or None,
            "title": f.title or None,
            "title_first": (sorted(f.tokens, key=lambda w: (-len(w), w)) or [None])[0],
            "org": f.org or None,
            "street": f.street or None,
            "house": (f.house or "").replace(" ", "").lower() or None,
            "published": r.get("published_from") or None,
            "start": r.get("start_date") or None,
            "levels": ",".join(r.get("cefr_levels") or []) or None,
            "schedule": ",".join(sorted(r.get("schedule") or [])) or None,
            "floor": f.floor,
            "rooms": f.rooms,
            "area": round(f.area) if f.area else None,
            "rent": round(f.rent / 10) if f.rent else None,
            "description_text": f.desc or None,
            "working_time": ",".join(sorted(f.times)) or None,
            "kind": f.kind or None,
        })
    return pd.DataFrame(rows)


def _settings(domain: str):
    import splink.comparison_library as cl
    from splink import SettingsCreator

    other = "l.partner_id <> r.partner_id"
    if domain == "jobs":
        comparisons = [
            cl.JaroWinklerAtThresholds("title", [0.95, 0.85]),
            cl.JaroWinklerAtThresholds("org", [0.95, 0.85]),
            cl.ExactMatch("street"),
            cl.ExactMatch("house"),
            cl.AbsoluteDateDifferenceAtThresholds("published", input_is_string=True,
                                                  metrics=["day", "day"], thresholds=[7, 60]),
            cl.JaroWinklerAtThresholds("description_text", [0.9, 0.7]),
            cl.ExactMatch("working_time"),
            cl.ExactMatch("kind"),
        ]
        rules = [f"l.postal = r.postal and l.org = r.org and {other}",
                 f"l.postal = r.postal and l.title_first = r.title_first and {other}"]
    elif domain == "courses":
        comparisons = [
            cl.JaroWinklerAtThresholds("title", [0.95, 0.85]),
            cl.JaroWinklerAtThresholds("org", [0.95, 0.85]),
            cl.ExactMatch("street"),
            cl.ExactMatch("levels"),
            cl.ExactMatch("schedule"),
            cl.ExactMatch("start"),
        ]
        rules = [f"l.postal = r.postal and l.start = r.start and {other}"]
    else:
        comparisons = [
            cl.JaroWinklerAtThresholds("street", [0.95, 0.85]),
            cl.ExactMatch("house"),
            cl.ExactMatch("floor"),
            cl.ExactMatch("rooms"),
            cl.ExactMatch("area"),
            cl.ExactMatch("rent"),
            cl.JaroWinklerAtThresholds("title", [0.9, 0.7]),
        ]
        rules = [f"l.postal = r.postal and substr(l.street, 1, 6) = substr(r.street, 1, 6) and {other}",
                 f"l.postal = r.postal and l.house = r.house and {other}"]
    return SettingsCreator(link_type="dedupe_only", comparisons=comparisons,
                           blocking_rules_to_generate_predictions=rules), rules


def run_splink(domain: str, records: list[dict]) -> tuple[dict, float]:
    from splink import DuckDBAPI, Linker

    start = time.perf_counter()
    frame = _frame(domain, records)
    settings, rules = _settings(domain)
    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), settings, log_level=logging.WARNING)
    deterministic = {"jobs": "l.postal = r.postal and l.org = r.org and l.title = r.title and l.street = r.street",
                     "courses": "l.postal = r.postal and l.title = r.title and l.start = r.start and l.org = r.org",
                     "housing": "l.postal = r.postal and l.street = r.street and l.house = r.house and l.floor = r.floor and l.area = r.area"}[domain]
    linker.training.estimate_probability_two_random_records_match([deterministic], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    out = {}
    for threshold in THRESHOLDS:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold).as_pandas_dataframe()
        predicted = {}
        for row in clusters.itertuples():
            r = records[int(row.unique_id)]
            predicted[(r["partner_id"], r["source_id"])] = str(row.cluster_id)
        out[threshold] = predicted
        if threshold == THRESHOLD:
            seconds = time.perf_counter() - start  # training, prediction, one clustering
    return out, seconds


def run_hub(domain: str, records: list[dict]) -> tuple[dict, float]:
    start = time.perf_counter()
    resolver = Resolver(domain)
    resolver.build(((r["partner_id"], r["source_id"]), r) for r in records)
    groups = resolver.clusters()
    return {rk: i for i, g in enumerate(groups) for rk in g}, time.perf_counter() - start


def compare_domain(domain: str, entities: int | None) -> dict:
    records = labelled(domain, entities)
    truth = {(r["partner_id"], r["source_id"]): r["_entity"] for r in records}
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in records]
    out = {"records": len(records)}
    def scored(predicted, seconds):
        result = evaluate(truth, predicted)
        for measure in ("pairwise", "bcubed"):
            for key in ("true_pairs", "predicted_pairs", "correct_pairs"):
                result[measure].pop(key, None)
        return {"pairwise": result["pairwise"], "bcubed": result["bcubed"], "seconds": round(seconds, 2)}

    out["hub"] = scored(*run_hub(domain, clean))
    by_threshold, seconds = run_splink(domain, clean)
    out["splink"] = scored(by_threshold[THRESHOLD], seconds)
    out["splink"]["other_thresholds"] = {
        str(t): {m: v for m, v in scored(p, seconds).items() if m != "seconds"}
        for t, p in by_threshold.items() if t != THRESHOLD
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", choices=("jobs", "courses", "housing"), action="append")
    parser.add_argument("--entities", type=int)
    args = parser.parse_args(argv)
    import splink

    result = {"splink_version": splink.__version__}
    for domain in args.domain or ("jobs", "courses", "housing"):
        result[domain] = compare_domain(domain, args.entities)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
