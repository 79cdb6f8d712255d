"""Measures one engine on one dataset, in a process of its own, and writes the figures as JSON.

    python bench/ann/runner.py --engine hnswlib --dataset DIR --out FILE [--params JSON]

run.py starts one of these per (engine, dataset) so that each engine's memory, threads and
imports are its own. The figures:
    build_s            loading every row and building the index (the engine's own threads)
    disk_bytes         the engine's files once built
    rss_*_mb           resident memory: after the dataset is loaded (the baseline), after build,
                       after every search (mapped index files count once touched), and the peak
    per sweep point    recall@10 against the exact ground truth; single-thread QPS with one query
                       per call, and its p50/p99 latency; all-cores QPS of one batch call.
                       The single-thread queries run in ROUNDS passes over the same queries and
                       each query's latency is its fastest pass (as ann-benchmarks keeps the
                       best of its runs): on a shared machine, load from other processes only
                       ever adds time, so the minimum is the engine's own cost.
Recall counts a returned row as correct when its exact distance is within the 10th true
neighbour's distance (so an equally near duplicate is not a miss), as ann-benchmarks does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_datasets as datasets
from engine import Engine, engine_class, package_version

K = 10
WARMUP_QUERIES = 10
ROUNDS = 3  # passes over the single-thread queries; each query keeps its fastest


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def recall_at_k(ds: datasets.Dataset, query_index: int, ids: np.ndarray, k: int = K) -> float:
    """Share of the k true nearest that `ids` found, distance ties counted as found."""
    ids = np.asarray(ids, dtype=np.int64)[:k]
    ids = np.unique(
        ids[(ids >= 0) & (ids < len(ds.base))]
    )  # padding (-1) and repeats count for nothing
    if len(ids) == 0:
        return 0.0
    found = datasets.distances(ds.base, ids, ds.queries[query_index], ds.metric)
    threshold = float(ds.gt_dist[query_index, k - 1])
    return min(k, int(np.sum(found <= threshold + 1e-5 * max(1.0, abs(threshold))))) / k


def measure_point(
    engine: Engine,
    ds: datasets.Dataset,
    knob: dict[str, Any],
    query_seconds: float,
    min_queries: int,
) -> dict[str, Any]:
    """One point of the sweep: the single-thread pass (time-boxed), then one all-cores batch."""
    engine.set_query_knob(knob)
    queries = ds.queries
    for q in queries[:WARMUP_QUERIES]:
        engine.search(q, K)
    # The first pass is time-boxed (a third of the budget) and sets the queries of the others.
    latencies = []
    recalls = []
    started = time.perf_counter()
    for i, q in enumerate(queries):
        t0 = time.perf_counter_ns()
        ids = engine.search(q, K)
        latencies.append(time.perf_counter_ns() - t0)
        recalls.append(recall_at_k(ds, i, ids))
        if i + 1 >= min_queries and time.perf_counter() - started > query_seconds / ROUNDS:
            break
    for _ in range(ROUNDS - 1):
        for i, q in enumerate(queries[: len(latencies)]):
            t0 = time.perf_counter_ns()
            engine.search(q, K)
            latencies[i] = min(latencies[i], time.perf_counter_ns() - t0)
    done = len(latencies)
    lat = np.array(latencies, dtype=np.float64) / 1e6
    # The batch is repeated (up to 5 times, while under a second in all) and the fastest run kept,
    # so that thread start-up does not dominate a small batch.
    batch_s = float("inf")
    spent = 0.0
    for _ in range(5):
        t0 = time.perf_counter()
        batch = engine.search_batch(np.ascontiguousarray(queries[:done]), K)
        elapsed = time.perf_counter() - t0
        batch_s = min(batch_s, elapsed)
        spent += elapsed
        if spent > 1.0:
            break
    batch_recall = float(np.mean([recall_at_k(ds, i, ids) for i, ids in enumerate(batch)]))
    return {
        "knob": knob,
        "queries": done,
        "recall": float(np.mean(recalls)),
        "qps_1t": done / (lat.sum() / 1e3),
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "qps_all": done / batch_s,
        "recall_all": batch_recall,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    cls = engine_class(args.engine)
    meta = json.loads((args.dataset / "meta.json").read_text())
    spec = datasets.DatasetSpec(
        meta["kind"], meta["n"], meta["dim"], meta["nq"], meta["metric"], meta["seed"]
    )
    # The base is read into memory (not mapped): every engine is handed the same in-memory array.
    ds = datasets.Dataset(
        spec,
        args.dataset,
        np.load(args.dataset / "base.npy"),
        np.load(args.dataset / "queries.npy"),
        np.load(args.dataset / "gt.npy"),
        np.load(args.dataset / "gt_dist.npy"),
    )
    if args.max_queries:
        ds.queries = ds.queries[: args.max_queries]
    result: dict[str, Any] = {
        "engine": args.engine,
        "package": cls.package,
        "version": package_version(cls.package),
        "dataset": meta["name"],
        "n": int(ds.base.shape[0]),
        "dim": int(ds.base.shape[1]),
        "metric": ds.metric,
        "params": args.params,
        "threads": args.threads,
        "exact": cls.exact,
        "one_thread": cls.one_thread,
        "queries": int(len(ds.queries)),
        "query_seconds": args.query_seconds,
        "rounds": ROUNDS,
        "min_queries": args.min_queries,
    }
    rss_loaded = rss_mb()
    with tempfile.TemporaryDirectory(prefix=f"ann-{args.engine}-", dir=args.workdir) as work:
        engine = cls(ds.metric, ds.base.shape[1], args.params, Path(work), args.threads)
        t0 = time.perf_counter()
        engine.build(np.ascontiguousarray(ds.base))
        result["build_s"] = time.perf_counter() - t0
        result["disk_bytes"] = engine.disk_bytes()
        rss_built = rss_mb()
        points = []
        for knob in engine.query_knobs():
            point = measure_point(engine, ds, knob, args.query_seconds, args.min_queries)
            points.append(point)
            print(
                f"  {args.engine} {knob or 'exact'}: recall {point['recall']:.4f} "
                f"{point['qps_1t']:.0f} q/s (1 thread) {point['qps_all']:.0f} q/s (all)",
                flush=True,
            )
            # Past recall 0.999 twice in a row the curve is flat: the slower points add nothing.
            if len(points) >= 2 and min(p["recall"] for p in points[-2:]) >= 0.999:
                break
        result["points"] = points
        result["rss_loaded_mb"] = rss_loaded
        result["rss_built_mb"] = rss_built
        result["rss_searched_mb"] = rss_mb()
        result["rss_peak_mb"] = peak_rss_mb()
        result["index_mem_mb"] = max(result["rss_built_mb"], result["rss_searched_mb"]) - rss_loaded
        engine.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engine", required=True)
    parser.add_argument(
        "--dataset", type=Path, required=True, help="a directory made by bench_datasets.py"
    )
    parser.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    parser.add_argument(
        "--params", type=json.loads, default={}, help="build parameters (JSON object)"
    )
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--query-seconds", type=float, default=20.0, help="time box of one single-thread pass"
    )
    parser.add_argument(
        "--min-queries", type=int, default=100, help="queries a time-boxed pass still runs"
    )
    parser.add_argument(
        "--max-queries", type=int, default=0, help="use only the first N queries (0 = all)"
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the engine's files go (default: /tmp)"
    )
    args = parser.parse_args()
    try:
        result = run(args)
    except (
        Exception
    ) as e:  # the failure is a result too: the report says which engine failed and why
        traceback.print_exc()
        result = {"engine": args.engine, "error": f"{type(e).__name__}: {e}"}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        sys.exit(1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
