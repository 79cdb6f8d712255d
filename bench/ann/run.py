"""Runs a named benchmark suite: makes (or reuses) its datasets, measures every engine on each in a
process of its own, and writes the JSON results, a report page and the recall-vs-QPS plots.

    python bench/ann/run.py --suite quick                 # about half an hour on 2 cores
    python bench/ann/run.py --suite full --publish        # ~1.5 hours on 2 cores; docs/benchmarks/
    python bench/ann/run.py --suite smoke --out /tmp/x    # seconds: that the harness works (CI)
    python bench/ann/run.py --suite quick --engines nearstore-flat,hnswlib --datasets clustered
    python bench/ann/run.py --suite full --max-n 200000   # the full suite's datasets, capped

Without --publish the report goes to OUT/BENCHMARKS.md and OUT/plots/; with it, to the run's own
dated page docs/benchmarks/<suite>-<date>.md, with its plots and results.json in
docs/benchmarks/<suite>-<date>/. BENCHMARKS.md (every engine's latest run) is edited by hand
from those pages, so that a run of some engines never hides the others' latest figures.
An engine that fails (not installed, crashes, runs past its time limit) is reported as failed and
the suite goes on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_datasets as datasets  # noqa: E402 (importable once HERE is on the path)
import report  # noqa: E402
from engine import (  # noqa: E402
    DEFAULT_EF_CONSTRUCTION,
    DEFAULT_M,
    ENGINES,
    engine_class,
    package_version,
)

ROOT = HERE.parents[1]
D = datasets.DatasetSpec

# Each suite: its datasets, and the limits of one engine's run on one dataset.
SUITES: dict[str, dict[str, Any]] = {
    "smoke": {
        "datasets": [D("clustered", 2000, 32, 50, "l2"), D("clustered", 2000, 64, 50, "cosine")],
        "query_seconds": 2.0,
        "min_queries": 20,
        "timeout_s": 300,
    },
    "quick": {
        "datasets": [
            D("wordnet", 20000, 384, 1000, "cosine"),
            D("clustered", 100_000, 128, 1000, "l2"),
            D("clustered", 20_000, 1536, 1000, "cosine"),
        ],
        "query_seconds": 5.0,
        "min_queries": 100,
        "timeout_s": 900,
    },
    "full": {
        "datasets": [
            D("wordnet", 0, 384, 1000, "cosine"),
            D("clustered", 100_000, 1536, 1000, "cosine"),
            D("clustered", 1_000_000, 128, 1000, "l2"),
        ],
        "query_seconds": 3.0,
        "min_queries": 100,
        "timeout_s": 2700,
    },
}


def environment() -> dict[str, Any]:
    import numpy as np

    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    flags = open("/proc/cpuinfo").read()
    isa = "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "SSE"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": f"{cpu} ({isa})",
        "cores": os.cpu_count(),
        "memory_gb": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def run_engine(
    engine: str, data_dir: Path, out: Path, suite: dict[str, Any], threads: int
) -> dict[str, Any]:
    """One engine on one dataset, in a child process; a failure comes back as {"error": ...}."""
    cmd = [
        sys.executable,
        str(HERE / "runner.py"),
        "--engine",
        engine,
        "--dataset",
        str(data_dir),
        "--out",
        str(out),
        "--threads",
        str(threads),
        "--query-seconds",
        str(suite["query_seconds"]),
        "--min-queries",
        str(suite["min_queries"]),
        "--params",
        json.dumps({"M": DEFAULT_M, "ef_construction": DEFAULT_EF_CONSTRUCTION}),
    ]
    log = out.with_suffix(".log")
    started = time.perf_counter()
    try:
        with log.open("w") as f:
            proc = subprocess.run(
                cmd, stdout=f, stderr=subprocess.STDOUT, timeout=suite["timeout_s"]
            )
    except subprocess.TimeoutExpired:
        return {"engine": engine, "error": f"ran past the suite's limit of {suite['timeout_s']} s"}
    if out.exists():
        result = json.loads(out.read_text())
        if proc.returncode == 0 or "error" in result:
            result["wall_s"] = time.perf_counter() - started  # kept for --resume
            out.write_text(json.dumps(result, indent=1) + "\n")
            return result
    tail = log.read_text().strip().splitlines()[-3:]
    return {"engine": engine, "error": f"exit status {proc.returncode}: {' / '.join(tail)}"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", choices=sorted(SUITES), default="quick")
    parser.add_argument(
        "--engines", default=",".join(ENGINES), help="comma-separated (default: every engine)"
    )
    parser.add_argument(
        "--datasets", default="", help="only the datasets whose name contains one of these words"
    )
    parser.add_argument(
        "--max-n", type=int, default=0, help="cap every dataset at N base vectors (0 = the suite's)"
    )
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="cores for builds and batches"
    )
    parser.add_argument(
        "--cache", type=Path, default=datasets.DEFAULT_CACHE, help="where datasets are kept"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="results directory (default bench/results/ann-SUITE)"
    )
    parser.add_argument("--resume", action="store_true", help="keep the results already in OUT")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: report the results already in OUT (a suite still running, or cut off)",
    )
    parser.add_argument(
        "--publish", action="store_true", help="write docs/benchmarks/SUITE-DATE.md and SUITE-DATE/"
    )
    args = parser.parse_args()

    suite = SUITES[args.suite]
    engines = [e for e in args.engines.split(",") if e]
    for e in engines:  # an unknown name fails before any work
        if e not in ENGINES:
            raise SystemExit(f"unknown engine {e!r}; known: {', '.join(ENGINES)}")
    words = [w for w in args.datasets.split(",") if w]
    specs = [s for s in suite["datasets"] if not words or any(w in s.name for w in words)]
    if args.max_n:  # wordnet's n = 0 means every gloss: capped too
        specs = [dataclasses.replace(s, n=min(s.n or args.max_n, args.max_n)) for s in specs]
    out_dir = args.out or ROOT / "bench" / "results" / f"ann-{args.suite}"
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    results = []
    pending = []  # (dataset, engine) with no result yet, in --report-only
    for spec in specs:
        if args.report_only and not (args.cache / spec.name / "meta.json").exists():
            pending += [(spec.name, e) for e in engines]
            continue
        data_dir = datasets.ensure(spec, args.cache)
        name = json.loads((data_dir / "meta.json").read_text())["name"]
        for i, engine in enumerate(engines, 1):
            out = out_dir / name / f"{engine}.json"
            kept = out.exists() and "error" not in json.loads(out.read_text())
            if args.report_only and not out.exists():
                pending.append((name, engine))
                continue
            if (args.resume or args.report_only) and (kept or args.report_only):
                result = json.loads(out.read_text())
            else:
                print(f"[{name}] {i}/{len(engines)} {engine} ...", flush=True)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.unlink(missing_ok=True)
                result = run_engine(engine, data_dir, out, suite, args.threads)
            result["dataset"] = name
            if "error" in result:
                print(f"[{name}] {engine} FAILED: {result['error']}", flush=True)
            else:
                best = max(p["recall"] for p in result["points"])
                print(
                    f"[{name}] {engine}: build {result['build_s']:.1f} s, max recall {best:.4f}",
                    flush=True,
                )
            results.append(result)

    doc = {
        "suite": args.suite,
        "command": "python bench/ann/run.py " + " ".join(sys.argv[1:]),
        "seconds": time.perf_counter() - started,
        "environment": environment(),
        "versions": {engine_package(e): package_version(engine_package(e)) for e in engines},
        "graph_params": {"M": DEFAULT_M, "ef_construction": DEFAULT_EF_CONSTRUCTION},
        "results": results,
        "pending": [f"{e} on {d}" for d, e in pending],
    }
    if args.publish:
        run_name = f"{args.suite}-{doc['environment']['date']}"
        markdown_path = ROOT / "docs" / "benchmarks" / f"{run_name}.md"
        plots_dir = ROOT / "docs" / "benchmarks" / run_name
        plots_dir.mkdir(parents=True, exist_ok=True)
        json_path = plots_dir / "results.json"
    else:
        markdown_path, plots_dir, json_path = (
            out_dir / "BENCHMARKS.md",
            out_dir / "plots",
            out_dir / "results.json",
        )
    report.write(doc, markdown_path, plots_dir)
    json_path.write_text(json.dumps(doc, indent=1) + "\n")
    failed = [r["engine"] + " on " + r["dataset"] for r in results if "error" in r]
    print(
        f"wrote {markdown_path} and {json_path}"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )


def engine_package(name: str) -> str:
    """The PyPI package of an engine (its adapter's module imports no engine at import time)."""
    return engine_class(name).package


if __name__ == "__main__":
    main()
