"""How long a database with payload indexes takes to open: indexes stored in the segment files
(created before the points were written) against the same indexes built from the metadata on
open (created after the segments were written, as for segments of format version 3), and no
index at all, on the same points.

    python3 bench/filtered/open_time.py [--points 1000000] [--repeats 5] [--dir DIR]

Three fields are indexed (a keyword of 10 values, one of 1,000, an integer), in documents of
five fields. Vectors are 8-d so that the metadata, not the vectors, is what an open reads.
Opens alternate between the databases; medians are printed (milliseconds), each open a fresh
process so that nothing is cached in it (the files are in the page cache for all three).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FIELDS = {"cat10": "keyword", "cat1000": "keyword", "num": "int"}


def build(path: Path, points: int, index_first: bool | None) -> None:
    """index_first: True = indexes before the writes, False = after flush, None = no index."""
    import nearstore

    rng = np.random.default_rng(1)
    with nearstore.open(str(path), sync=False) as db:
        col = db.create_collection("docs", 8, "l2")
        if index_first:
            for field, kind in FIELDS.items():
                col.create_index(field, kind)
        batch = 50_000
        for start in range(0, points, batch):
            n = min(batch, points - start)
            cat10 = rng.integers(0, 10, n)
            cat1000 = rng.integers(0, 1000, n)
            num = rng.integers(0, 1_000_000, n)
            metadatas = [
                {"cat10": f"c{a}", "cat1000": f"v{b}", "num": int(c), "title": f"doc {start + i}",
                 "lang": "en"}
                for i, (a, b, c) in enumerate(zip(cat10, cat1000, num))
            ]
            ids = [str(start + i) for i in range(n)]
            col.upsert(ids, rng.standard_normal((n, 8), dtype=np.float32), metadatas)
        col.flush()
        if index_first is False:
            for field, kind in FIELDS.items():
                col.create_index(field, kind)


OPEN_ONCE = """
import sys, time, json, nearstore
t = time.perf_counter()
db = nearstore.open(sys.argv[1])
col = db.get_collection("docs")
opened = time.perf_counter() - t
info = col.info()
n = col.count({"cat1000": "v7"})
print(json.dumps({"open_ms": opened * 1e3, "index_bytes": info.get("payload_index_bytes", 0),
                  "count": n}))
db.close()
"""


def open_once(path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", OPEN_ONCE, str(path)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="nearstore_open_time_"))
    cases = {"stored in segments": True, "built on open": False, "no index": None}
    for name, index_first in cases.items():
        path = root / name.replace(" ", "_")
        if not path.exists():
            t = time.perf_counter()
            build(path, args.points, index_first)
            print(f"built '{name}' in {time.perf_counter() - t:.1f} s", flush=True)
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name in cases:
            runs[name].append(open_once(root / name.replace(" ", "_")))
    counts = {r["count"] for rs in runs.values() for r in rs}
    if len(counts) != 1:
        raise SystemExit(f"the databases answer differently: {counts}")
    base = statistics.median(r["open_ms"] for r in runs["no index"])
    print(f"\n{args.points:,} points, 3 payload indexes, median of {args.repeats} opens")
    print("| indexes | open (ms) | over no index (ms) | index bytes |")
    print("|---|---|---|---|")
    for name, rs in runs.items():
        ms = statistics.median(r["open_ms"] for r in rs)
        print(f"| {name} | {ms:,.0f} | {ms - base:+,.0f} | {rs[0]['index_bytes']:,} |")


if __name__ == "__main__":
    main()
