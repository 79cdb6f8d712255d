"""Search under a hard memory limit: proves what an index needs in RAM, not what RSS shows.

RSS counts every mapped page a process happens to have touched, and the page cache keeps pages
of files long after they were needed, so neither says how little memory a collection can be
searched in. This runs the searches in a cgroup (v1 memory controller) whose limit counts the
process's own memory *and* the page cache it reads, with every cached page of the index files
dropped first: whatever the search needs must fit under the limit, and the kernel evicts the
rest (re-ranking then reads its float vectors back from the file).

Steps, on one dataset of bench/data:
  1. hnswlib's index (M=16, ef_construction=200) is built and saved; its file size is the
     memory hnswlib needs (it loads the whole file).
  2. a nearstore hnsw collection with the given quantization is built in one segment.
  3. a baseline child (Python, numpy and nearstore imported, queries and ground truth loaded,
     nothing opened) measures the peak memory of the interpreter itself.
  4. children then search in a cgroup limited to baseline + factor x hnswlib's index:
     nearstore (opening its database), and hnswlib (loading its index) for comparison.
     Each reports recall@10, QPS (single thread, each query once: the pages re-ranking needs
     are read from disk as the search goes), peak memory and the limit's failure count;
     a child the kernel kills for memory is reported as such.

Needs root (cgroup and /proc/sys/vm/drop_caches). Run:
    python3 bench/ann/memory_limit.py --dataset wordnet-minilm-384-nall-q1000 --factors 0.4 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CGROUP_ROOT = Path("/sys/fs/cgroup/memory")
M, EF_CONSTRUCTION, K = 16, 200, 10


def drop_page_cache() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("1\n")


class Cgroup:
    """A memory cgroup of its own (v1), removed on exit."""

    def __init__(self, name: str, limit: int | None) -> None:
        self.path = CGROUP_ROOT / name
        if self.path.exists():
            self.path.rmdir()
        self.path.mkdir()
        if limit is not None:
            (self.path / "memory.limit_in_bytes").write_text(str(limit))
            # No swap: memory.memsw would otherwise let anonymous pages escape the limit.
            (self.path / "memory.swappiness").write_text("0")

    def read(self, name: str) -> int:
        return int((self.path / name).read_text())

    def run(self, args: list[str]) -> subprocess.CompletedProcess:
        procs = str(self.path / "cgroup.procs")

        def enter() -> None:  # in the child, before exec: everything it does is charged
            Path(procs).write_text(str(os.getpid()))

        return subprocess.run(args, preexec_fn=enter, capture_output=True, text=True)

    def close(self) -> None:
        self.path.rmdir()


def child(args: argparse.Namespace) -> None:
    """One measured process: prints a JSON line."""
    data = ROOT / "bench" / "data" / args.dataset
    queries = np.load(data / "queries.npy")
    gt = np.load(data / "gt.npy")[:, :K]
    if args.engine == "baseline":
        import hnswlib  # noqa: F401  (both engines' imports count in the baseline)

        import nearstore  # noqa: F401

        print(json.dumps({}))
        return
    if args.engine == "nearstore":
        import hnswlib  # noqa: F401

        import nearstore

        db = nearstore.open(args.workdir / "db", threads=1)
        col = db.get_collection("bench")
        info = col.info()

        def search(q: np.ndarray, ef: int) -> list[int]:
            return [int(h.id) for h in col.search(q, K, ef=ef)]

        extra = {key: info[key] for key in ("graph_bytes", "code_bytes", "vector_bytes")}
    else:
        import hnswlib

        import nearstore  # noqa: F401

        meta = json.loads((data / "meta.json").read_text())
        space = "cosine" if meta["metric"] == "cosine" else "l2"
        index = hnswlib.Index(space=space, dim=queries.shape[1])
        index.load_index(str(args.workdir / "hnswlib.bin"))
        index.set_num_threads(1)

        def search(q: np.ndarray, ef: int) -> list[int]:
            index.set_ef(ef)
            return [int(x) for x in index.knn_query(q, K)[0][0]]

        extra = {}
    results = []
    for ef in args.ef:
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt
        found, start = 0, time.perf_counter()
        for q, truth in zip(queries, gt):
            found += len(set(search(q, ef)) & set(truth.tolist()))
        elapsed = time.perf_counter() - start
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_majflt - faults
        results.append({"ef": ef, "recall": found / gt.size, "qps": len(queries) / elapsed,
                        "major_faults_per_query": faults / len(queries)})
    print(json.dumps({"sweep": results, **extra}))


def build(args: argparse.Namespace) -> int:
    """Builds both indexes into the workdir; returns hnswlib's index bytes."""
    import hnswlib

    import nearstore

    data = ROOT / "bench" / "data" / args.dataset
    base = np.load(data / "base.npy")
    meta = json.loads((data / "meta.json").read_text())
    saved = args.workdir / "hnswlib.bin"
    if not saved.exists():
        index = hnswlib.Index(space="cosine" if meta["metric"] == "cosine" else "l2",
                              dim=base.shape[1])
        index.init_index(max_elements=len(base), M=M, ef_construction=EF_CONSTRUCTION)
        index.add_items(base, np.arange(len(base)))
        index.save_index(str(saved))
    if not (args.workdir / "db").exists():
        memtable = base.nbytes + (16 << 20)  # one segment, one graph
        with nearstore.open(args.workdir / "db", sync=False, memtable_max_bytes=memtable) as db:
            col = db.create_collection("bench", base.shape[1], meta["metric"], index="hnsw", m=M,
                                       ef_construction=EF_CONSTRUCTION,
                                       quantization=args.quantization)
            ids = [str(i) for i in range(len(base))]
            for start in range(0, len(base), 10000):
                col.upsert(ids[start:start + 10000], base[start:start + 10000])
            col.flush()
    return saved.stat().st_size


def measure(args: argparse.Namespace, engine: str, limit: int | None) -> dict:
    drop_page_cache()
    group = Cgroup(f"nearstore-bench-{engine}", limit)
    try:
        cmd = [sys.executable, __file__, "--child", engine, "--dataset", args.dataset,
               "--workdir", str(args.workdir), "--ef", *map(str, args.ef)]
        proc = group.run(cmd)
        out = {"engine": engine, "limit": limit, "peak": group.read("memory.max_usage_in_bytes"),
               "failcnt": group.read("memory.failcnt"), "exit": proc.returncode}
        if proc.returncode == 0:
            out.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        else:
            out["stderr"] = proc.stderr[-400:]
        return out
    finally:
        group.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="wordnet-minilm-384-nall-q1000")
    p.add_argument("--quantization", default="sq8", choices=["sq8", "binary", "none"])
    p.add_argument("--factors", type=float, nargs="+", default=[0.4, 1.0],
                   help="one run per factor: limit = baseline + factor x hnswlib's index")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/nearstore-memory-limit"))
    p.add_argument("--ef", type=int, nargs="+", default=[64, 128])
    p.add_argument("--child", choices=["baseline", "nearstore", "hnswlib"], help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.engine = args.child
        child(args)
        return
    args.workdir = args.workdir / f"{args.dataset}-{args.quantization}"
    args.workdir.mkdir(parents=True, exist_ok=True)
    hnswlib_bytes = build(args)
    baseline = measure(args, "baseline", None)["peak"]
    print(json.dumps({"dataset": args.dataset, "quantization": args.quantization,
                      "hnswlib_index_bytes": hnswlib_bytes, "baseline_bytes": baseline}))
    for factor in args.factors:
        limit = int(baseline + factor * hnswlib_bytes)
        for engine in ("nearstore", "hnswlib"):
            print(json.dumps({"factor": factor, **measure(args, engine, limit)}), flush=True)


if __name__ == "__main__":
    main()
