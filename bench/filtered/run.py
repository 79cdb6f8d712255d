"""The filtered-search benchmark: recall@10 and single-thread QPS of each engine at filter
selectivities from 50% to 0.1% (filtered_data.CASES), on the real-embedding WordNet set with
synthetic metadata, beside the same engine unfiltered.

    python3 bench/filtered/run.py --engines nearstore-hnsw-sq8,hnswlib,faiss-hnsw --out DIR

Each engine runs in a process of its own (run.py --worker): it builds once, then for each case
and each ef of the sweep runs the queries one per call on one thread, each query's time being
the fastest of ROUNDS passes (a shared machine only ever adds time). A case's sweep stops once
recall reaches 0.995, and a sweep point stops early after --seconds (the recall and QPS are
then those of the queries it ran). DIR gets one JSON per engine and report.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "ann"))

import bench_datasets as datasets  # noqa: E402
import filtered_data  # noqa: E402
from adapters import ENGINES, engine_class  # noqa: E402
from engine import package_version  # noqa: E402

K = 10
ROUNDS = 2
STOP_RECALL = 0.995
DATASETS = {
    "wordnet": datasets.DatasetSpec("wordnet", 0, 384, 1000, "cosine"),
    # seconds, no model: that the harness works (tests/python/test_bench_filtered.py)
    "smoke": datasets.DatasetSpec("clustered", 2000, 64, 50, "cosine"),
}


def recall(found: np.ndarray, truth_ids: np.ndarray, truth_dist: np.ndarray, base, query) -> float:
    """Share of the true k (fewer when fewer pass) found; an equally near row counts."""
    want = int((truth_ids >= 0).sum())
    if want == 0:
        return 1.0
    found = np.unique(found[(found >= 0) & (found < len(base))])[: len(truth_ids)]
    if len(found) == 0:
        return 0.0
    d = 1.0 - base[found] @ query
    return min(want, int((d <= truth_dist[want - 1] + 1e-5).sum())) / want


def worker(args: argparse.Namespace) -> None:
    ds = datasets.load(DATASETS[args.dataset], Path(args.cache), mmap=False)
    base, queries = ds.base, ds.queries[: args.queries]
    meta = filtered_data.metadata(len(base))
    cls = engine_class(args.engine)
    out: dict[str, Any] = {"engine": args.engine, "version": package_version(cls.package)}
    with tempfile.TemporaryDirectory(dir=args.workdir) as work:
        engine = cls(base.shape[1], Path(work), args.threads)
        started = time.perf_counter()
        engine.build(base, meta)
        out["build_s"] = time.perf_counter() - started
        out["cases"] = {}
        for case in args.cases.split(","):
            truth_ids, truth_dist = filtered_data.ground_truth(
                base, ds.queries, meta, case, K, ds.path
            )
            specs = [filtered_data.filter_for(case, i) for i in range(len(queries))]
            for spec in set(s for s in specs if s is not None):
                engine.prepare(spec)
            points = []
            for knob in engine.knobs():
                engine.set_knob(knob)
                for i in range(min(10, len(queries))):  # warm-up
                    engine.search(queries[i], K, specs[i])
                best = np.full(len(queries), np.inf)
                recalls: list[float] = []
                deadline = time.perf_counter() + args.seconds
                ran = 0
                for round_ in range(ROUNDS):
                    for i, q in enumerate(queries):
                        if round_ > 0 and i >= ran:
                            break
                        t0 = time.perf_counter()
                        ids = engine.search(q, K, specs[i])
                        best[i] = min(best[i], time.perf_counter() - t0)
                        if round_ == 0:
                            recalls.append(recall(ids, truth_ids[i], truth_dist[i], base, q))
                            ran = i + 1
                            if ran >= 50 and time.perf_counter() > deadline:
                                break
                point = {
                    "knob": knob,
                    "queries": ran,
                    "recall": float(np.mean(recalls)),
                    "qps": float(ran / best[:ran].sum()),
                    "p50_ms": float(np.median(best[:ran]) * 1e3),
                }
                points.append(point)
                print(f"{args.engine} {case} {knob}: {point}", flush=True)
                if point["recall"] >= STOP_RECALL:
                    break
            out["cases"][case] = {"selectivity": filtered_data.CASES[case][0], "points": points}
        engine.close()
    Path(args.out).write_text(json.dumps(out, indent=1))


def best_qps(points: list[dict[str, Any]], target: float) -> tuple[float, Any]:
    ok = [p for p in points if p["recall"] >= target]
    if not ok:
        return 0.0, None
    p = max(ok, key=lambda p: p["qps"])
    return p["qps"], ", ".join(f"{k} {v}" for k, v in p["knob"].items())


def report(results: list[dict[str, Any]], cases: list[str], dataset: str) -> str:
    lines = [
        f"# Filtered search: {dataset}, k={K}, one thread, M=16, ef_construction=200",
        "",
        "QPS at the fastest sweep point reaching recall@10 >= 0.95 (-: none did), the point, "
        "and the best recall any point reached.",
        "",
    ]
    for case in cases:
        lines += [f"## {case}", "", "| engine | QPS @ 0.95 | at | max recall | build s |",
                  "|---|---|---|---|---|"]
        rows = []
        for r in results:
            points = r.get("cases", {}).get(case, {}).get("points", [])
            if not points:
                continue
            qps, ef = best_qps(points, 0.95)
            top = max(p["recall"] for p in points)
            rows.append((qps, r["engine"], ef, top, r.get("build_s", 0)))
        for qps, name, ef, top, build in sorted(rows, key=lambda x: -x[0]):
            shown = f"{qps:,.0f}" if qps > 0 else "-"
            lines.append(f"| {name} | {shown} | {ef or '-'} | {top:.3f} | {build:.1f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--engines", default="nearstore-hnsw-sq8,hnswlib,faiss-hnsw")
    ap.add_argument("--cases", default=",".join(filtered_data.CASES))
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=4.0, help="time cap of one sweep point")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dataset", choices=sorted(DATASETS), default="wordnet")
    ap.add_argument("--cache", default=str(datasets.DEFAULT_CACHE), help="datasets' directory")
    ap.add_argument("--out", default="bench-filtered-results")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--engine", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    datasets.ensure(DATASETS[args.dataset], Path(args.cache))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.engines.split(","):
        if name not in ENGINES:
            raise SystemExit(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
        file = out / f"{name}.json"
        cmd = [sys.executable, __file__, "--worker", "--engine", name, "--out", str(file),
               "--cases", args.cases, "--queries", str(args.queries),
               "--seconds", str(args.seconds), "--threads", str(args.threads),
               "--dataset", args.dataset, "--cache", args.cache]
        if args.workdir:
            cmd += ["--workdir", args.workdir]
        done = subprocess.run(cmd)
        if done.returncode != 0 or not file.exists():
            print(f"{name}: failed (exit {done.returncode})", file=sys.stderr)
            results.append({"engine": name, "error": f"exit {done.returncode}"})
            continue
        results.append(json.loads(file.read_text()))
    text = report(results, args.cases.split(","), DATASETS[args.dataset].name)
    (out / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
