#!/usr/bin/env python3
"""Exact-scan throughput: nearstore against the machine's memory bandwidth and numpy.

Makes (once, seeded, cached) N x 384 float32 vectors from a normal distribution, normalised for
cosine, and 64 queries; runs bench/exact_scan_bench (C++: streaming read, raw kernels,
Collection::Search and SearchBatch on an on-disk database) and numpy (X @ q, Q @ X.T and
np.argpartition, each in its own process with its BLAS threads pinned); prints one markdown
table. See bench/README.md.

    python3 bench/exact_scan.py                       # N = 100,000 and 1,000,000
    python3 bench/exact_scan.py --sizes 100000 --reps 9
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# Variables that change which OpenBLAS kernel runs or how it blocks; some machines here set
# them (and slow numpy down), so the numpy processes run without them.
BLAS_TUNING_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# ------------------------------------------------------------------------------------ data


def make_data(path: Path, n: int, dim: int, seed: int) -> None:
    """Writes n x dim float32 rows, N(0, 1) then normalised, in chunks (bounded memory)."""
    if path.exists():
        return
    print(f"[exact_scan] writing {path} ({n} x {dim} float32)", file=sys.stderr, flush=True)
    tmp = path.with_suffix(".tmp.npy")
    out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, dim))
    rng = np.random.default_rng(seed)
    chunk = 65536
    for first in range(0, n, chunk):
        block = rng.standard_normal((min(chunk, n - first), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[first : first + len(block)] = block
    out.flush()
    del out
    tmp.rename(path)


def find_binary(given: str | None) -> Path:
    if given:
        p = Path(given)
        if not p.is_file():
            sys.exit(f"exact_scan: no benchmark binary at {p}")
        return p
    candidates = [ROOT / "build" / "bench" / "exact_scan_bench"]
    candidates += sorted(ROOT.glob("build-*/bench/exact_scan_bench"))
    for c in candidates:
        if c.is_file():
            return c
    sys.exit(
        "exact_scan: exact_scan_bench not found in build/ or build-*/; build it "
        "(cmake -G Ninja -B build -DCMAKE_BUILD_TYPE=Release && ninja -C build exact_scan_bench) "
        "or pass --binary"
    )


# ------------------------------------------------------------------------------- numpy side


def numpy_worker(args: argparse.Namespace) -> None:
    """Runs in its own process (threads pinned by the environment); prints JSON."""
    from threadpoolctl import threadpool_info, threadpool_limits

    x = np.load(args.data)
    q = np.load(args.queries)
    n, k, nq = x.shape[0], args.k, q.shape[0]
    info = [
        {
            key: d.get(key)
            for key in ("user_api", "internal_api", "version", "architecture", "num_threads")
        }
        for d in threadpool_info()
    ]
    results: dict[str, list[float]] = {
        "matvec": [],
        "matvec_topk": [],
        "matmul": [],
        "matmul_topk": [],
    }
    with threadpool_limits(limits=args.threads):
        s = np.empty(n, dtype=np.float32)
        for rep in range(-1, args.reps):
            qi = q[(rep + 1) % nq]
            t0 = time.perf_counter()
            np.matmul(x, qi, out=s)
            t1 = time.perf_counter()
            idx = np.argpartition(s, n - k)[n - k :]
            top = idx[np.argsort(-s[idx])]
            t2 = time.perf_counter()
            if rep >= 0:
                results["matvec"].append(t1 - t0)
                results["matvec_topk"].append(t2 - t1)
        assert len(top) == k
        big = np.empty((nq, n), dtype=np.float32)
        xt = x.T
        for rep in range(-1, args.batch_reps):
            t0 = time.perf_counter()
            np.matmul(q, xt, out=big)
            t1 = time.perf_counter()
            idx = np.argpartition(big, n - k, axis=1)[:, n - k :]
            part = np.take_along_axis(big, idx, axis=1)
            tops = np.take_along_axis(idx, np.argsort(-part, axis=1), axis=1)
            t2 = time.perf_counter()
            if rep >= 0:
                results["matmul"].append(t1 - t0)
                results["matmul_topk"].append(t2 - t1)
        assert tops.shape == (nq, k)
    print(
        json.dumps(
            {
                "threads": args.threads,
                "numpy": np.__version__,
                "threadpool_info": info,
                "env_blas_tuning": {v: os.environ.get(v) for v in BLAS_TUNING_VARS},
                "median_s": {name: float(np.median(v)) for name, v in results.items()},
                "seconds": results,
            }
        )
    )


def run_numpy(data: Path, queries: Path, threads: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    removed = {v: env.pop(v) for v in BLAS_TUNING_VARS if v in env}
    for v in THREAD_VARS:
        env[v] = str(threads)
    cmd = [
        sys.executable, str(Path(__file__).resolve()), "--numpy-worker",
        "--data", str(data), "--queries", str(queries), "--threads", str(threads),
        "--k", str(args.k), "--reps", str(args.reps), "--batch-reps", str(args.batch_reps),
    ]  # fmt: skip
    print(f"[exact_scan] numpy, {threads} thread(s)", file=sys.stderr, flush=True)
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    result = json.loads(out)
    result["removed_env"] = removed
    return result


# ------------------------------------------------------------------------------------ table


def fmt_qps(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"


def fmt(v: float | None, pattern: str) -> str:
    return "—" if v is None else pattern.format(v)


def build_rows(cpp: dict[str, Any], nps: dict[int, dict[str, Any]]) -> list[list[str]]:
    """The rows of one N: label columns, queries/s, GB/s, % of stream, vs numpy."""
    n, all_t, nq = cpp["n"], cpp["all_threads"], cpp["batch"]
    gb = cpp["n"] * cpp["dim"] * 4 / 1e9
    res = {(r["name"], r["threads"]): r for r in cpp["results"]}
    stream = {t: gb / res[("stream", t)]["median_s"] for t in (1, all_t)}
    rows: list[list[str]] = []

    def add(
        workload: str, impl: str, threads: int, seconds: float | str, queries: int, scans: bool,
        ref: float | None, best_s: float | None = None,
    ) -> None:  # fmt: skip
        """`seconds`: a median (and `best_s` the fastest repetition), or the name of a nearstore
        measurement (then paired with the stream read of the same rounds)."""
        best = gb / best_s if best_s and scans else None
        if isinstance(seconds, str):
            measured = res[(seconds, threads)]
            pct = paired_pct(measured, res[("stream", threads)]) if scans else None
            best = gb / measured["min_s"] if scans else None
            median: float = measured["median_s"]
        else:
            median = seconds
            pct = 100 * (gb / median) / stream[threads] if scans else None
        qps = queries / median
        gbs = gb / median if scans else None
        ratio = qps / ref if ref else None
        rows.append([
            f"{n:,}", workload, impl, str(threads), fmt_qps(qps),
            fmt(gbs, "{:.1f}"), fmt(best, "{:.1f}"), fmt(pct, "{:.0f}%"), fmt(ratio, "{:.2f}x"),
        ])  # fmt: skip

    for t in (1, all_t):
        r = res[("stream", t)]
        rows.append(
            [
                f"{n:,}",
                "stream read",
                "sum loop (bandwidth)",
                str(t),
                "—",
                f"{gb / r['median_s']:.1f}",
                f"{gb / r['min_s']:.1f}",
                "100%",
                "—",
            ]
        )

    def np_s(t: int, key: str) -> float:
        return nps[t]["median_s"][key]

    def np_best(t: int, *keys: str) -> float:
        return min(sum(parts) for parts in zip(*(nps[t]["seconds"][key] for key in keys)))

    for t in (1, all_t):
        ref = 1 / (np_s(t, "matvec") + np_s(t, "matvec_topk"))
        add("1 query", "nearstore Search (k=10)", t, "search", 1, True, ref)
    for t in (1, all_t):
        add("1 query", "raw kernel dot_many", t, "dot_many", 1, True, 1 / np_s(t, "matvec"))
    for t in (1, all_t):
        add("1 query", "numpy X @ q", t, np_s(t, "matvec"), 1, True, None, np_best(t, "matvec"))
    add("1 query", "numpy argpartition top-k", 1, np_s(1, "matvec_topk"), 1, False, None)
    for t in (1, all_t):
        add(
            "1 query",
            "numpy X @ q + argpartition",
            t,
            np_s(t, "matvec") + np_s(t, "matvec_topk"),
            1,
            True,
            None,
            np_best(t, "matvec", "matvec_topk"),
        )

    for t in (1, all_t):
        ref = nq / (np_s(t, "matmul") + np_s(t, "matmul_topk"))
        add(f"{nq} queries", "nearstore SearchBatch (k=10)", t, "search_batch", nq, True, ref)
    for t in (1, all_t):
        add(
            f"{nq} queries",
            "raw kernel dot_block",
            t,
            "dot_block",
            nq,
            True,
            nq / np_s(t, "matmul"),
        )
    for t in (1, all_t):
        add(
            f"{nq} queries",
            "numpy Q @ X.T",
            t,
            np_s(t, "matmul"),
            nq,
            True,
            None,
            np_best(t, "matmul"),
        )
    add(f"{nq} queries", "numpy argpartition top-k", 1, np_s(1, "matmul_topk"), nq, False, None)
    for t in (1, all_t):
        add(
            f"{nq} queries",
            "numpy Q @ X.T + argpartition",
            t,
            np_s(t, "matmul") + np_s(t, "matmul_topk"),
            nq,
            True,
            None,
            np_best(t, "matmul", "matmul_topk"),
        )
    return rows


def paired_pct(op: dict[str, Any], stream: dict[str, Any]) -> float:
    """Median over rounds of the op's throughput over the stream read's in the same round: the
    bench interleaves them, so load from other processes cancels out."""
    pairs = [st / s for s, st in zip(op["seconds"], stream["seconds"])]
    return 100 * float(np.median(pairs))


DIAGNOSTICS = [
    ("dot_many", "dot_many, whole array in one call (anonymous memory, huge pages)"),
    ("diag_dot_many_1024", "dot_many in 1024-row calls, as the engine calls it"),
    (
        "diag_dot_many_calls_of_UNDER",
        "dot_many in calls of 2 MiB of rows or less (the kernel's cache tile)",
    ),
    (
        "diag_dot_many_calls_of_OVER",
        "dot_many in calls of just over 2 MiB of rows (its streaming loop)",
    ),
    ("diag_dot_many_1024_topk", "… plus negate + threshold + heap (engine's top-k, no visibility)"),
    ("diag_topk_only", "negate + threshold + heap alone (scores already computed)"),
    ("diag_stream_segment", "sum loop over the mapped segment file (4 KiB pages)"),
    ("diag_dot_many_segment", "dot_many, whole mapped segment in one call"),
    ("diag_dot_many_1024_segment", "dot_many in 1024-row calls over the mapped segment"),
    ("search", "Collection::Search (all of the above + visibility + API)"),
]


BATCH_DIAGNOSTICS = [
    ("dot_block", "dot_block in 1024-row calls (anonymous memory, huge pages)"),
    ("diag_dot_block_topk", "… plus negate + threshold + heap per query (engine's top-k)"),
    ("diag_dot_block_segment", "dot_block in 1024-row calls over the mapped segment"),
    ("search_batch", "Collection::SearchBatch"),
]


def batch_diagnostic_rows(cpp: dict[str, Any]) -> list[list[str]]:
    res = {(r["name"], r["threads"]): r for r in cpp["results"]}
    rows = []
    for name, label in BATCH_DIAGNOSTICS:
        if (name, 1) not in res:
            continue
        r = res[(name, 1)]
        qps = cpp["batch"] / r["median_s"]
        rows.append(
            [
                f"{cpp['n']:,}",
                label,
                f"{r['median_s'] * 1e3:.0f}",
                f"{r['min_s'] * 1e3:.0f}",
                fmt_qps(qps),
            ]
        )
    return rows


def diagnostic_rows(cpp: dict[str, Any]) -> list[list[str]]:
    gb = cpp["n"] * cpp["dim"] * 4 / 1e9
    res = {(r["name"], r["threads"]): r for r in cpp["results"]}
    rows = []
    under = (2 << 20) // (cpp["dim"] * 4)
    for name, label in DIAGNOSTICS:
        name = name.replace("UNDER", str(under)).replace("OVER", str(under + 1))
        label = label.replace("2 MiB of rows or less", f"{under} rows").replace(
            "just over 2 MiB of rows", f"{under + 1} rows"
        )
        r = res[(name, 1)]
        s = r["median_s"]
        pct = paired_pct(r, res[("stream", 1)]) if name != "diag_topk_only" else None
        rows.append(
            [
                f"{cpp['n']:,}",
                label,
                f"{s * 1e3:.2f}",
                f"{r['min_s'] * 1e3:.2f}",
                fmt(gb / s if pct else None, "{:.1f}"),
                fmt(pct, "{:.0f}%"),
            ]
        )
    return rows


def markdown(header: list[str], rows: list[list[str]], right_from: int) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i >= right_from else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths))
            )
            + " |"
        )

    sep = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i >= right_from else ("-" * (w + 2))
            for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# ------------------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--sizes", default="100000,1000000", help="comma-separated N (default: %(default)s)"
    )
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument(
        "--batch", type=int, default=64, help="queries per batch (default: %(default)s)"
    )
    ap.add_argument(
        "--reps",
        type=int,
        default=0,
        help="timed one-query repetitions (default: 31 for N <= 200k, else 11)",
    )
    ap.add_argument(
        "--batch-reps",
        type=int,
        default=0,
        help="timed batch repetitions (default: 9 for N <= 200k, else 5)",
    )
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument(
        "--cache-dir",
        default=str(ROOT / "bench" / "data"),
        help="data and databases (default: bench/data)",
    )
    ap.add_argument("--binary", help="path of exact_scan_bench (default: build/ or build-*/bench/)")
    ap.add_argument(
        "--threads",
        type=int,
        default=os.cpu_count() or 1,
        help="'all threads' (default: every core)",
    )
    ap.add_argument("--skip-numpy", action="store_true")
    ap.add_argument(
        "--json-out", help="also write every measurement here (default: bench/results/)"
    )
    # Internal: the numpy measurement process.
    ap.add_argument("--numpy-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--queries", help=argparse.SUPPRESS)
    ap.add_argument("--report", metavar="JSON", help="print the tables of a saved run and exit")
    args = ap.parse_args()
    if args.report:
        doc = json.loads(Path(args.report).read_text())
        report(doc if isinstance(doc, dict) else {"meta": {}, "runs": doc})
        return
    if args.numpy_worker:
        args.threads = max(1, args.threads)
        numpy_worker(args)
        return

    binary = find_binary(args.binary)
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    all_t = max(1, args.threads)
    queries = cache / f"queries_q{args.batch}_d{args.dim}_s{args.seed + 1}.npy"
    make_data(queries, args.batch, args.dim, args.seed + 1)

    user_reps, user_batch_reps = args.reps, args.batch_reps
    runs = []
    for n in (int(s) for s in args.sizes.split(",")):
        small = n <= 200_000
        args.reps = user_reps or (31 if small else 11)
        args.batch_reps = user_batch_reps or (9 if small else 5)
        data = cache / f"vectors_n{n}_d{args.dim}_s{args.seed}.npy"
        make_data(data, n, args.dim, args.seed)
        db = cache / f"db_n{n}_d{args.dim}_s{args.seed}"
        cmd = [
            str(binary), "--data", str(data), "--queries", str(queries), "--db", str(db),
            "--k", str(args.k), "--reps", str(args.reps), "--batch-reps", str(args.batch_reps),
            "--all-threads", str(all_t),
        ]  # fmt: skip
        print(f"[exact_scan] N = {n:,}: {' '.join(cmd)}", file=sys.stderr, flush=True)
        cpp = json.loads(subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout)
        nps: dict[int, dict[str, Any]] = {}
        if not args.skip_numpy:
            for t in sorted({1, all_t}):
                nps[t] = run_numpy(data, queries, t, args)
        runs.append({"n": n, "nearstore": cpp, "numpy": nps})

    doc = {
        "meta": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "date": dt.date.today().isoformat(),
            "command": " ".join([Path(sys.executable).name] + sys.argv),
        },
        "runs": runs,
    }
    out = (
        Path(args.json_out)
        if args.json_out
        else ROOT / "bench" / "results" / f"exact_scan-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1))
    report(doc)
    print(
        f"\n(all measurements: {out}; print the tables again with --report {out})", file=sys.stderr
    )


def report(doc: dict[str, Any]) -> None:
    """Prints the tables of a run (as saved by main)."""
    meta, runs = doc["meta"], doc["runs"]
    tables, diags, batch_diags = [], [], []
    np_info: dict[str, Any] | None = None
    for run in runs:
        cpp = run["nearstore"]
        nps = {int(t): v for t, v in run["numpy"].items()}
        if nps:
            tables += build_rows(cpp, nps)
            np_info = nps[1]
        diags += diagnostic_rows(cpp)
        batch_diags += batch_diagnostic_rows(cpp)
        for c in cpp["checks"]:
            if c["top_k_matching_reference"] != c["k"]:
                print(
                    f"WARNING: N={run['n']} threads={c['threads']}: only "
                    f"{c['top_k_matching_reference']}/{c['k']} of Search's hits match the reference"
                )
    first = runs[0]["nearstore"]
    print(
        f"Exact scan, dim {first['dim']}, k = {first['k']}, cosine; {meta.get('cpu', '?')}, "
        f"{meta.get('cores', '?')} cores; nearstore kernels: {first['isa']}; "
        f"{meta.get('date', '')}."
    )
    if np_info is not None:
        blas = [d for d in np_info["threadpool_info"] if d.get("user_api") == "blas"]
        blas_s = (
            ", ".join(
                f"{d['internal_api']} {d['version']} ({d['architecture']} kernel)" for d in blas
            )
            or "no BLAS found"
        )
        removed = ", ".join(f"{k}={v}" for k, v in np_info["removed_env"].items()) or "none set"
        print(
            f"numpy {np_info['numpy']} with {blas_s} per threadpoolctl; unset for numpy: {removed}."
        )
    print(
        "Medians of interleaved repetitions. queries/s: queries answered per second. GB/s: vector "
        "bytes scanned per second (a batch scans the data once for all its queries); best GB/s: "
        "the fastest repetition. % of stream: of the plain read with the same threads, for "
        "nearstore paired round by round (median of per-round ratios, so load from other "
        "processes cancels), for numpy against the stream's median. vs numpy: queries/s over "
        "numpy's with the same threads (Search: X @ q + argpartition; raw kernels: the matrix "
        "product alone).\n"
    )
    if tables:
        header = [
            "N",
            "workload",
            "implementation",
            "threads",
            "queries/s",
            "GB/s",
            "best GB/s",
            "% of stream",
            "vs numpy",
        ]
        print(markdown(header, tables, 3))
        print()
    print("Where one single-threaded query's time goes:\n")
    print(
        markdown(
            ["N", "single thread, one query", "median ms", "best ms", "GB/s", "% of stream"],
            diags,
            2,
        )
    )
    if batch_diags:
        print("\nWhere one single-threaded batch's time goes:\n")
        header = [
            "N",
            f"single thread, {first['batch']} queries",
            "median ms",
            "best ms",
            "queries/s",
        ]
        print(markdown(header, batch_diags, 2))


if __name__ == "__main__":
    main()
