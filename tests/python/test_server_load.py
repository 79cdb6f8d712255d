"""A load generator against `nearstore serve` on loopback, bounded in threads and time: searchers,
writers and readers at once, over nearstore.connect and over plain keep-alive HTTP/1.1 through
the Qdrant face. Every search answer is checked against numpy brute force, every acknowledged
write is read back afterwards, no request gets a 5xx, and the server's own request counters
agree with what the clients sent."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import numpy as np
from prometheus_client.parser import text_string_to_metric_families
from server_process import ServerProcess

import nearstore

DIM = 16
STATIC = 2000
SECONDS = 4.0
SEARCHERS, WRITERS, QDRANT_CLIENTS = 3, 2, 1


def exact_top(vectors: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    return np.sort(np.sqrt(((vectors - q) ** 2).sum(axis=1)))[:k]


def run_for(seconds: float, fn, errors: list, counts: dict, name: str) -> threading.Thread:
    def loop() -> None:
        deadline = time.monotonic() + seconds
        n = 0
        try:
            while time.monotonic() < deadline:
                fn(n)
                n += 1
        except BaseException as e:  # noqa: BLE001 - reported to the test
            errors.append(f"{name}: {type(e).__name__}: {e}")
        counts[name] = n

    t = threading.Thread(target=loop, name=name)
    t.start()
    return t


def test_concurrent_searches_and_writes_under_load(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    static = rng.standard_normal((STATIC, DIM)).astype(np.float32)
    db = nearstore.open(tmp_path / "db")
    col = db.create_collection("static", dim=DIM, metric="l2")  # exact: answers are exact
    col.upsert([f"s{i}" for i in range(STATIC)], static)
    db.create_collection("stream", dim=DIM, metric="l2", index="hnsw")
    db.close()
    server = ServerProcess(tmp_path / "db", "--no-access-log")
    remote = nearstore.connect(server.url)
    errors: list[str] = []
    counts: dict[str, int] = {}
    acknowledged: dict[str, list[tuple[str, np.ndarray]]] = {}

    def searcher(i: int):
        c = remote.get_collection("static")
        local = np.random.default_rng(100 + i)

        def one(n: int) -> None:
            q = local.standard_normal(DIM).astype(np.float32)
            hits = c.search(q, k=10)
            want = exact_top(static, q, 10)
            got = np.array([h.distance for h in hits])
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        return one

    def writer(i: int):
        c = remote.get_collection("stream")
        mine = acknowledged.setdefault(f"w{i}", [])
        local = np.random.default_rng(200 + i)

        def one(n: int) -> None:
            ids = [f"w{i}-{n}-{j}" for j in range(8)]
            vectors = local.standard_normal((8, DIM)).astype(np.float32)
            c.upsert(ids, vectors, [{"writer": i, "n": n}] * 8)
            mine.extend(zip(ids, vectors))  # acknowledged: the call returned
            if n % 5 == 0:  # reads of the collection being written
                hits = c.search(vectors[0], k=3)
                assert hits[0].id == ids[0] and hits[0].distance < 1e-3, hits
        return one

    def qdrant(i: int):
        http = httpx.Client(base_url=server.url, timeout=30, trust_env=False)
        local = np.random.default_rng(300 + i)

        def one(n: int) -> None:
            q = local.standard_normal(DIM).astype(np.float32)
            r = http.post("/collections/static/points/query",
                          json={"query": q.tolist(), "limit": 5})
            assert r.status_code == 200, r.text
            scores = [p["score"] for p in r.json()["result"]["points"]]
            np.testing.assert_allclose(scores, exact_top(static, q, 5), rtol=1e-4, atol=1e-4)
        return one

    threads = [
        run_for(SECONDS, searcher(i), errors, counts, f"search{i}") for i in range(SEARCHERS)
    ]
    threads += [run_for(SECONDS, writer(i), errors, counts, f"write{i}") for i in range(WRITERS)]
    threads += [run_for(SECONDS, qdrant(i), errors, counts, f"qdrant{i}")
                for i in range(QDRANT_CLIENTS)]
    for t in threads:
        t.join()
    assert not errors, errors
    assert all(counts[t.name] > 10 for t in threads), counts  # every client got served

    # Every acknowledged write is there, with its vector.
    stream = remote.get_collection("stream")
    written = [p for points in acknowledged.values() for p in points]
    assert stream.count() == len(written)
    got = stream.get_many([i for i, _ in written])
    for (i, v), g in zip(written, got):
        assert g is not None, i
        np.testing.assert_allclose(g[0], v, rtol=1e-6)

    # The server counted what the clients sent, and answered none with a 5xx.
    families = {f.name: f for f in text_string_to_metric_families(
        httpx.get(server.url + "/metrics", trust_env=False).text)}
    by_status: dict[str, float] = {}
    for s in families["nearstore_http_requests"].samples:
        if s.name.endswith("_total"):
            by_status[s.labels["status"]] = by_status.get(s.labels["status"], 0) + s.value
    assert not [s for s in by_status if s.startswith("5")], by_status
    searches = sum(counts[f"search{i}"] for i in range(SEARCHERS))
    search_series = [s for s in families["nearstore_http_requests"].samples
                     if s.name.endswith("_total")
                     and s.labels["route"] == "/v1/collections/{collection}/search"]
    writes_searched = sum((counts[f"write{i}"] + 4) // 5 for i in range(WRITERS))
    assert sum(s.value for s in search_series) == searches + writes_searched
    print(f"\nload: {counts} in {SECONDS} s")
    remote.close()
    assert server.stop() == 0, server.log()
