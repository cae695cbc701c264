"""Entity-resolution quality and speed.

    python -m bench.resolution [--domain jobs] [--entities N]      # labelled set, JSON per domain
    python -m bench.resolution --scale 1000000 [--incremental 1000]  # 1M job postings, time + RSS

Quality: pairwise and B-cubed precision, recall and F1 of ``hub.resolve.resolve_clusters``
against the labels of ``bench.resolution_set``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import Counter, defaultdict

from bench.resolution_set import GENERATORS, labelled, scale_jobs
from hub.resolve.engine import Resolver


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(truth: dict, predicted: dict) -> dict:
    """``truth`` and ``predicted``: record key -> cluster label."""
    keys = list(truth)
    # pairwise: pairs inside predicted clusters vs pairs inside true clusters
    by_pred, by_true = defaultdict(list), defaultdict(list)
    for k in keys:
        by_pred[predicted[k]].append(k)
        by_true[truth[k]].append(k)
    joint = Counter((predicted[k], truth[k]) for k in keys)
    tp = sum(c * (c - 1) // 2 for c in joint.values())
    pred_pairs = sum(len(v) * (len(v) - 1) // 2 for v in by_pred.values())
    true_pairs = sum(len(v) * (len(v) - 1) // 2 for v in by_true.values())
    pp = tp / pred_pairs if pred_pairs else 1.0
    pr = tp / true_pairs if true_pairs else 1.0
    # B-cubed
    bp = br = 0.0
    for k in keys:
        both = joint[(predicted[k], truth[k])]
        bp += both / len(by_pred[predicted[k]])
        br += both / len(by_true[truth[k]])
    bp, br = bp / len(keys), br / len(keys)
    return {
        "records": len(keys), "true_entities": len(by_true), "predicted_entities": len(by_pred),
        "pairwise": {"precision": round(pp, 4), "recall": round(pr, 4), "f1": round(_f1(pp, pr), 4),
                     "true_pairs": true_pairs, "predicted_pairs": pred_pairs, "correct_pairs": tp},
        "bcubed": {"precision": round(bp, 4), "recall": round(br, 4), "f1": round(_f1(bp, br), 4)},
    }


def run_domain(domain: str, entities: int | None = None, errors: int = 0) -> dict:
    records = labelled(domain, entities)
    truth = {(r["partner_id"], r["source_id"]): r["_entity"] for r in records}
    kinds = Counter(r["_kind"] for r in records)
    clean = {(r["partner_id"], r["source_id"]): {k: v for k, v in r.items() if not k.startswith("_")}
             for r in records}
    start = time.perf_counter()
    resolver = Resolver(domain)
    resolver.build(clean.items())
    groups = resolver.clusters()
    seconds = time.perf_counter() - start
    predicted = {rk: i for i, g in enumerate(groups) for rk in g}
    out = evaluate(truth, predicted)
    out.update(seconds=round(seconds, 3), candidate_pairs=resolver.stats.candidate_pairs,
               all_pairs=len(records) * (len(records) - 1) // 2, kinds=dict(sorted(kinds.items())))
    if errors:
        out["errors"] = _errors(records, predicted, truth, errors)
    return out


def _errors(records, predicted, truth, limit):
    by_key = {(r["partner_id"], r["source_id"]): r for r in records}
    pred_groups = defaultdict(list)
    for k, c in predicted.items():
        pred_groups[c].append(k)
    wrong, missed = [], []
    for g in pred_groups.values():
        labels = {truth[k] for k in g}
        if len(labels) > 1:
            wrong.append([(by_key[k]["_kind"], by_key[k]["title"], by_key[k].get("organisation"),
                           by_key[k]["address"].get("street"), by_key[k].get("published_from") or by_key[k].get("start_date"))
                          for k in g])
    true_groups = defaultdict(list)
    for k, t in truth.items():
        true_groups[t].append(k)
    for g in true_groups.values():
        if len({predicted[k] for k in g}) > 1:
            missed.append([(by_key[k]["_kind"], by_key[k]["title"], by_key[k].get("organisation"),
                            by_key[k]["address"].get("street"), by_key[k]["address"].get("house_number"))
                           for k in g])
    return {"merged_wrongly": wrong[:limit], "missed": missed[:limit]}


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_scale(n: int, incremental: int) -> dict:
    out: dict = {"records": n}
    start = time.perf_counter()
    resolver = Resolver("jobs")
    # records are generated and added one by one so that only the features stay in memory
    nodes = []
    normalise = 0.0
    for rk, record in scale_jobs(n):
        t0 = time.perf_counter()
        nodes.append(resolver._add(rk, resolver.prepare(record)))
        normalise += time.perf_counter() - t0
    t_add = time.perf_counter()
    resolver._holders = {}
    resolver._exact(nodes, resolver._holders)
    resolver.stats.records = len(nodes)
    t_exact = time.perf_counter()
    resolver._fuzzy(resolver._all_pairs())
    t_fuzzy = time.perf_counter()
    groups = resolver.clusters()
    t_end = time.perf_counter()
    out.update(
        seconds_total=round(t_end - start, 1),
        seconds_generate=round(t_add - start - normalise, 1),
        seconds_normalise_and_index=round(normalise, 1),
        seconds_resolution=round(t_end - start - (t_add - start - normalise), 1),
        seconds_exact_keys=round(t_exact - t_add, 1),
        seconds_blocking_and_compare=round(t_fuzzy - t_exact, 1),
        seconds_clusters=round(t_end - t_fuzzy, 1),
        candidate_pairs=resolver.stats.candidate_pairs,
        accepted_pairs=resolver.stats.accepted_pairs,
        entities=len(groups),
        largest_cluster=max(len(g) for g in groups),
        blocks=len(resolver.index.blocks),
        largest_block=max(len(v) for v in resolver.index.blocks.values()),
        peak_rss_mb=_rss_mb(),
    )
    if incremental:
        new = list(scale_jobs(incremental, offset=10_000_000))  # same employers and places
        new = [((p, f"new-{s}"), dict(r, source_id=f"new-{s}")) for (p, s), r in new]
        before = resolver.stats.candidate_pairs
        t0 = time.perf_counter()
        resolver.add_records(new)
        out["incremental"] = {"new_records": len(new), "seconds": round(time.perf_counter() - t0, 3),
                              "candidate_pairs": resolver.stats.candidate_pairs - before}
        out["peak_rss_mb"] = _rss_mb()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domain", choices=sorted(GENERATORS), action="append")
    parser.add_argument("--entities", type=int)
    parser.add_argument("--scale", type=int, help="resolve this many generated job postings")
    parser.add_argument("--incremental", type=int, default=1000,
                        help="with --scale: then this many new records against the index")
    parser.add_argument("--errors", type=int, default=0, help="show this many wrong clusters")
    args = parser.parse_args(argv)
    if args.scale:
        result = run_scale(args.scale, args.incremental)
    else:
        result = {d: run_domain(d, args.entities, args.errors) for d in (args.domain or sorted(GENERATORS))}
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
