"""Benchmark of the catalogue classifier on the hand-labelled evaluation set.

Usage: ``python bench/classify.py [--eval PATH ...] [--min-top3 0.80] [--quiet]``

Evaluates two sets separately (or the ``--eval`` files given): the *training* set
``bench/data/classify_eval.json`` (the one the weights and keyword lists were tuned against) and the *held-out*
set ``tests/catalog/data/classifier_heldout.csv`` (descriptions in the style of public announcements --
环评公示, 项目备案, 招标公告, 绿色债券募集说明书 -- never used for tuning; its phrases are kept out of the keyword
lists, which tests/catalog/test_classifier.py checks). For each set it prints
top-1 / top-3 / top-5 accuracy, accuracy by level-1 area, a simple calibration table (mean confidence
of the top suggestion vs. how often it is right), latency per call after warm-up, and every miss.
Exits 1 when top-3 accuracy is below ``--min-top3``.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

from greenmatch.catalog import classifier
from greenmatch.catalog.classifier import classify
from greenmatch.reference import catalogue

DEFAULT_EVAL = Path(__file__).resolve().parent / "data" / "classify_eval.json"
HELDOUT = Path(__file__).resolve().parents[1] / "tests" / "catalog" / "data" / "classifier_heldout.csv"


def load(path: Path) -> list[dict]:
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            items = [dict(row) for row in csv.DictReader(fh)]
    else:
        data = json.loads(path.read_text(encoding="utf-8"))
        items = data["items"] if isinstance(data, dict) else data
    cats = catalogue()
    for item in items:
        label = item["label"]
        if label not in cats or cats[label].level != 3:
            raise SystemExit(f"{item.get('id')}: label {label!r} is not a 2025 level-3 code")
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, action="append", help="evaluation file (.json or .csv); repeatable")
    parser.add_argument("--min-top3", type=float, default=0.80)
    parser.add_argument("--quiet", action="store_true", help="do not list the misses")
    parser.add_argument("--split", help="only items of this split (e.g. dev, holdout)")
    parser.add_argument("--no-keywords", action="store_true", help="ablation: drop the curated keyword text")
    parser.add_argument("--no-industry", action="store_true", help="ablation: ignore the industry code")
    args = parser.parse_args(argv)
    if args.no_keywords:
        classifier.KEYWORDS = {}
    if args.no_industry:
        classifier.INDUSTRY_BOOST = 0.0
        classifier.QUERY_WEIGHTS = {**classifier.QUERY_WEIGHTS, "industry": 0.0}

    classify("预热", "warm-up", "4415")  # builds the index once
    paths = args.eval or [DEFAULT_EVAL, HELDOUT]
    failed = False
    for path in paths:
        label = "training" if path == DEFAULT_EVAL else "held-out" if path == HELDOUT else "eval"
        print(f"== {label} set: {path.name}")
        failed |= evaluate(load(path), args) != 0
    return 1 if failed else 0


def evaluate(items: list[dict], args: argparse.Namespace) -> int:
    if args.split:
        items = [i for i in items if i.get("split", "dev") == args.split]

    latencies: list[float] = []
    ranks: list[int | None] = []
    by_area: dict[str, list[int | None]] = {}
    calibration: list[tuple[float, bool]] = []
    misses: list[str] = []
    cats = catalogue()
    for item in items:
        start = time.perf_counter()
        suggestions = classify(item["name"], item.get("description", ""), item.get("industry_code") or None, limit=5)
        latencies.append((time.perf_counter() - start) * 1000.0)
        codes = [s.code for s in suggestions]
        rank = codes.index(item["label"]) + 1 if item["label"] in codes else None
        ranks.append(rank)
        by_area.setdefault(item["label"].split(".")[0], []).append(rank)
        calibration.append((suggestions[0].confidence, rank == 1))
        if rank != 1:
            top = ", ".join(f"{s.code} {s.name_zh} ({s.confidence:.2f})" for s in suggestions[:3])
            misses.append(
                f"  {item.get('id', '?')} [{item['label']} {cats[item['label']].name_zh}] rank={rank or '>5'} "
                f"{item['name']} ({item.get('industry_code')})\n      got: {top}"
            )

    n = len(items)

    def acc(rs: list[int | None], k: int) -> float:
        return sum(1 for r in rs if r is not None and r <= k) / len(rs)

    top1, top3, top5 = acc(ranks, 1), acc(ranks, 3), acc(ranks, 5)
    mrr = sum(1.0 / r for r in ranks if r) / n
    print(f"top1={top1:.2f} top3={top3:.2f} top5={top5:.2f} mrr={mrr:.2f} n={n}")
    splits = sorted({i.get("split", "dev") for i in items})
    if len(splits) > 1:
        for split in splits:
            rs = [r for i, r in zip(items, ranks, strict=True) if i.get("split", "dev") == split]
            print(f"  split {split}: top1={acc(rs, 1):.2f} top3={acc(rs, 3):.2f} n={len(rs)}")
    print(
        f"latency per call: mean={statistics.fmean(latencies):.2f} ms "
        f"p95={sorted(latencies)[int(0.95 * (n - 1))]:.2f} ms max={max(latencies):.2f} ms"
    )
    print(
        "by level-1 area: "
        + "  ".join(f"{a}: {acc(rs, 1):.2f}/{acc(rs, 3):.2f} (n={len(rs)})" for a, rs in sorted(by_area.items()))
    )
    print("calibration of the top suggestion (confidence bin: mean confidence vs accuracy, n):")
    for lo, hi in ((0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)):
        rows = [(c, ok) for c, ok in calibration if lo <= c < hi]
        if rows:
            print(
                f"  [{lo:.1f}, {min(hi, 1.0):.1f}): conf={statistics.fmean(c for c, _ in rows):.2f} "
                f"acc={sum(ok for _, ok in rows) / len(rows):.2f} n={len(rows)}"
            )
    if misses and not args.quiet:
        print(f"misses at top-1 ({len(misses)}):")
        print("\n".join(misses))
    if top3 < args.min_top3:
        print(f"FAIL: top3={top3:.2f} < {args.min_top3:.2f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
