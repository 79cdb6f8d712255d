"""Search over HTTP against the same search in-process, and beside Chroma's server, on the same
data in one run: latency (p50, p99) and QPS of one client sending one query at a time.

    python3 bench/server/run.py [--dataset wordnet|smoke] [--queries 1000] [--out DIR]

nearstore: one database directory (HNSW, SQ8, M=16, ef_construction=200), searched with k=10
and ef=64 first in-process (nearstore.open), then through `nearstore serve` on loopback by
  - http-json: a plain httpx client posting the query as a JSON list of numbers, and
  - connect:   nearstore.connect (the package's client: base64 float32, results as Hits),
    against the server as it starts by default, and against one started with --busy-poll-us.
Chroma: `chroma run` on loopback with its HNSW (cosine), queried by chromadb.HttpClient with
n_results=10 (recall is reported beside it: its defaults differ from nearstore's).
Each query is timed alone; every query runs twice and the second pass is reported (the first
warms caches). The HTTP overhead is the p50 over HTTP minus the p50 in-process. nearstore runs
--rounds times (in-process, then the server), and the medians of the rounds are reported; each
round also times a loopback echo between two Python threads with a request-sized message, the
floor under any Python client and server pair on the machine, and the in-process search again
with the thread asleep 0.3 ms before each query, as a server's thread is between requests (on a
VM a sleeping core's caches go cold: on WordNet that alone took a search from 0.10-0.14 ms to
0.22 ms).
Qdrant's server is not on PyPI (and nothing is downloaded), so it is not in the run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "ann"))
sys.path.insert(0, str(REPO / "tests" / "python"))

import bench_datasets  # noqa: E402
from server_process import ServerProcess  # noqa: E402

K = 10
EF = 64
IDLE_S = 0.0003
IDLE_NAME = "nearstore in-process, 0.3 ms asleep before each query"


def dataset(name: str) -> bench_datasets.Dataset:
    spec = (bench_datasets.DatasetSpec("wordnet", 0, 384, 1000, "cosine") if name == "wordnet"
            else bench_datasets.DatasetSpec("clustered", 2000, 64, 50, "cosine"))
    bench_datasets.ensure(spec)
    return bench_datasets.load(spec, mmap=False)


def timed(fn: Callable[[np.ndarray], list[str]], queries: np.ndarray, gt: np.ndarray,
          idle_s: float = 0.0) -> dict[str, float]:
    """Per-query latencies of the second of two passes, and recall@K. With `idle_s`, the
    thread sleeps that long before each query (not timed)."""
    for q in queries:
        fn(q)
    seconds, hits = [], 0
    for q, truth in zip(queries, gt):
        if idle_s:
            time.sleep(idle_s)
        t = time.perf_counter()
        ids = fn(q)
        seconds.append(time.perf_counter() - t)
        hits += len(set(ids) & {str(int(i)) for i in truth[:K]})
    s = sorted(seconds)
    return {"p50_ms": 1e3 * statistics.median(s), "p99_ms": 1e3 * s[int(0.99 * (len(s) - 1))],
            "qps": len(s) / sum(s), "recall": hits / (K * len(queries))}


def build_nearstore(path: Path, base: np.ndarray) -> None:
    import nearstore

    with nearstore.open(str(path), memtable_max_bytes=base.nbytes + (1 << 20)) as db:
        col = db.create_collection("bench", base.shape[1], "cosine", index="hnsw", m=16,
                                   ef_construction=200, quantization="sq8")
        for start in range(0, len(base), 20_000):
            chunk = base[start:start + 20_000]
            col.upsert([str(start + i) for i in range(len(chunk))], chunk,
                       [{"i": start + i} for i in range(len(chunk))])
        col.flush()


def loopback_floor(queries: np.ndarray) -> dict[str, float]:
    """One round trip of a search-sized request (2.9 KB out, 0.5 KB back) between two Python
    threads over loopback TCP: what no Python client and server pair can go under on this
    machine (two thread wake-ups), measured beside the rest."""
    request, answer = b"x" * 2900, b"y" * 500
    listener = socket.create_server(("127.0.0.1", 0))

    def echo() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            while True:
                got = 0
                while got < len(request):
                    data = conn.recv(65536)
                    if not data:
                        return
                    got += len(data)
                conn.sendall(answer)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    with socket.create_connection(listener.getsockname()) as c:
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def round_trip(_: np.ndarray) -> list[str]:
            c.sendall(request)
            got = 0
            while got < len(answer):
                got += len(c.recv(65536))
            return []
        result = timed(round_trip, queries, np.zeros((len(queries), K)))
    listener.close()
    return result


def run_nearstore(path: Path, queries: np.ndarray, gt: np.ndarray, busy_poll_us: int
                  ) -> dict[str, dict]:
    import httpx

    import nearstore

    out = {"loopback floor (Python echo)": loopback_floor(queries)}
    with nearstore.open(str(path)) as db:
        col = db.get_collection("bench")
        out["nearstore in-process"] = timed(
            lambda q: [h.id for h in col.search(q, k=K, ef=EF)], queries, gt)
        # A server waits for each request asleep, and its search then starts on a core that
        # may have run something else meanwhile: the same search after sleeping as long as a
        # round trip separates it from the last one.
        out[IDLE_NAME] = timed(
            lambda q: [h.id for h in col.search(q, k=K, ef=EF)], queries, gt, idle_s=IDLE_S)
    server = ServerProcess(path, "--no-access-log")
    try:
        with httpx.Client(base_url=server.url, trust_env=False) as c:
            def http_json(q: np.ndarray) -> list[str]:
                r = c.post("/v1/collections/bench/search",
                           json={"vector": q.tolist(), "k": K, "ef": EF})
                return [h["id"] for h in r.json()["hits"]]
            out["nearstore http-json"] = timed(http_json, queries, gt)
        with nearstore.connect(server.url) as remote:
            rcol = remote.get_collection("bench")
            out["nearstore connect"] = timed(
                lambda q: [h.id for h in rcol.search(q, k=K, ef=EF)], queries, gt)
    finally:
        if server.stop() != 0:
            raise SystemExit(f"the server did not drain cleanly: {server.log()[-2000:]}")
    if busy_poll_us:
        server = ServerProcess(path, "--no-access-log", "--busy-poll-us", str(busy_poll_us))
        try:
            with nearstore.connect(server.url) as remote:
                rcol = remote.get_collection("bench")
                out[f"nearstore connect, server busy_poll_us={busy_poll_us}"] = timed(
                    lambda q: [h.id for h in rcol.search(q, k=K, ef=EF)], queries, gt)
        finally:
            if server.stop() != 0:
                raise SystemExit(f"the server did not drain cleanly: {server.log()[-2000:]}")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_chroma(workdir: Path, base: np.ndarray, queries: np.ndarray, gt: np.ndarray
               ) -> dict[str, dict]:
    chroma = shutil.which("chroma")
    if chroma is None:
        print("chroma: not installed, skipped", flush=True)
        return {}
    import chromadb

    port = free_port()
    log = open(workdir / "chroma.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([chroma, "run", "--path", str(workdir / "chroma"), "--port",
                             str(port), "--host", "127.0.0.1"], stdout=log, stderr=log)
    try:
        client = None
        for _ in range(120):
            try:
                client = chromadb.HttpClient(host="127.0.0.1", port=port)
                client.heartbeat()
                break
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.5)
        if client is None:
            raise SystemExit("chroma did not start")
        col = client.create_collection("bench", metadata={"hnsw:space": "cosine"})
        t = time.perf_counter()
        for start in range(0, len(base), 5000):
            chunk = base[start:start + 5000]
            col.add(ids=[str(start + i) for i in range(len(chunk))], embeddings=chunk.tolist(),
                    metadatas=[{"i": start + i} for i in range(len(chunk))])
        print(f"chroma: loaded in {time.perf_counter() - t:.0f} s", flush=True)
        result = timed(lambda q: col.query(query_embeddings=[q.tolist()], n_results=K)["ids"][0],
                       queries, gt)
        return {"chroma server": result}
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", choices=["wordnet", "smoke"], default="wordnet")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--engines", default="nearstore,chroma")
    ap.add_argument("--busy-poll-us", type=int, default=200,
                    help="also time connect against a server polling this long (0: not)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="nearstore's runs, in turn in-process and over HTTP; medians reported")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    data = dataset(args.dataset)
    base = np.ascontiguousarray(data.base, dtype=np.float32)
    queries = np.ascontiguousarray(data.queries[:args.queries], dtype=np.float32)
    gt = data.gt[:args.queries]
    workdir = Path(tempfile.mkdtemp(prefix="nearstore_server_bench_"))
    results: dict[str, dict] = {}
    try:
        if "nearstore" in args.engines:
            t = time.perf_counter()
            build_nearstore(workdir / "nearstore", base)
            print(f"nearstore: built in {time.perf_counter() - t:.0f} s", flush=True)
            rounds = [run_nearstore(workdir / "nearstore", queries, gt, args.busy_poll_us)
                      for _ in range(args.rounds)]
            for name in rounds[0]:
                results[name] = {key: statistics.median(r[name][key] for r in rounds)
                                 for key in rounds[0][name]}
        if "chroma" in args.engines:
            results |= run_chroma(workdir, base, queries, gt)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = [f"{data.spec.name}, {len(base):,} points, {len(queries)} queries, k={K}, one client "
             f"thread, second pass; nearstore: median of {args.rounds} rounds", "",
             "| engine | p50 ms | p99 ms | QPS | recall@10 |", "|---|---|---|---|---|"]
    for name, r in results.items():
        recall = "" if name.startswith("loopback") else f"{r['recall']:.3f}"
        lines.append(f"| {name} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['qps']:,.0f} | "
                     f"{recall} |")
    for baseline in ("nearstore in-process", IDLE_NAME):
        if baseline not in results:
            continue
        base_p50 = results[baseline]["p50_ms"]
        for name in [n for n in results if n.startswith(("nearstore http", "nearstore connect"))]:
            lines.append(f"\nHTTP overhead at p50 ({name}, over {baseline}): "
                         f"{results[name]['p50_ms'] - base_p50:.3f} ms")
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "report.md").write_text(report + "\n")
        (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
