"""Concurrency from Python: parallel searches during writes, and the GIL released by the engine."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from brute_force import distances, reference_ranking, stored_vector, tol

import nearstore

DIM = 16
K = 10


def run_threads(targets):
    """Runs the callables in threads; re-raises the first exception any of them raised."""
    errors = []

    def wrap(fn):
        def inner():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - reported to the main thread
                errors.append(e)

        return inner

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a thread hung"
    if errors:
        raise errors[0]


def check_sorted(hits):
    keys = [(h.distance, h.id) for h in hits]
    assert keys == sorted(keys), keys
    assert len({h.id for h in hits}) == len(hits)


@pytest.mark.parametrize("metric", ["cosine", "l2", "dot"])
def test_parallel_searches_while_one_thread_inserts(tmp_path, metric):
    """Readers race an inserting writer. Each vector is fixed per id, so every hit's distance is
    checkable; the writer only adds points, so the k-th distance can only shrink: a search must
    be at least as good as the state acknowledged before it started (no acknowledged write is
    missed) and see nothing that had not begun to be written when it returned."""
    rng = np.random.default_rng(11)
    n0, batches, batch = 2000, 30, 100
    x = rng.standard_normal((n0 + batches * batch, DIM)).astype(np.float32)
    ids = [f"p{i:05d}" for i in range(len(x))]
    stored = np.stack([stored_vector(v, metric) for v in x])
    row_of = {i: r for r, i in enumerate(ids)}

    with nearstore.open(tmp_path / "db", sync=False) as db:
        col = db.create_collection("docs", dim=DIM, metric=metric)
        col.upsert(ids[:n0], x[:n0], [{"i": i} for i in range(n0)])
        acked = [n0]  # rows whose upsert has returned (only the writer advances it)
        begun = [n0]  # rows whose upsert has begun: the most a search may see
        done = threading.Event()
        records = []  # (query, rows acknowledged before, rows begun after, hits)
        lock = threading.Lock()

        def writer():
            try:
                for b in range(batches):
                    lo = n0 + b * batch
                    begun[0] = lo + batch
                    col.upsert(
                        ids[lo : lo + batch],
                        x[lo : lo + batch],
                        [{"i": i} for i in range(lo, lo + batch)],
                    )
                    acked[0] = lo + batch
                    if b % 10 == 9:
                        col.flush()
            finally:
                done.set()

        def reader(seed):
            r = np.random.default_rng(seed)
            n = 0
            while not done.is_set() or n < 5:
                q = r.standard_normal(DIM).astype(np.float32)
                before = acked[0]
                if n % 3 == 2:
                    hits = col.search_batch(np.stack([q, q]), k=K)[0]
                else:
                    hits = col.search(q, k=K)
                after = begun[0]
                assert len(hits) == K
                check_sorted(hits)
                for h in hits:
                    assert h.metadata == {"i": row_of[h.id]}
                with lock:
                    records.append((q, before, after, hits))
                n += 1
                time.sleep(0.0005)  # let the writer (which needs the GIL between batches) on

        run_threads([writer] + [lambda s=s: reader(s) for s in range(3)])
        assert len(col) == len(x)

    print(f"{len(records)} searches checked")
    assert len(records) >= 15
    for q, before, after, hits in records:
        d_all = distances(stored, q, metric)
        for h in hits:
            r = row_of[h.id]
            assert r < after, f"{h.id} was not yet written"
            assert abs(h.distance - d_all[r]) <= tol(d_all[r])
        kth_before = np.partition(d_all[:before], K - 1)[K - 1]
        kth_after = np.partition(d_all[:after], K - 1)[K - 1]
        assert hits[-1].distance <= kth_before + tol(kth_before), "missed an acknowledged write"
        assert hits[-1].distance >= kth_after - tol(kth_after)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_cap_gives_the_brute_force_answer(tmp_path, threads):
    """open(threads=N) caps the threads of one search; the answer is the same whatever N is.
    40,000 rows: large enough that one query's scan is split between threads when allowed."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40_000, DIM)).astype(np.float32)
    ids = [f"p{i}" for i in range(len(x))]
    queries = rng.standard_normal((5, DIM)).astype(np.float32)
    with nearstore.open(tmp_path / "db", sync=False, threads=threads) as db:
        col = db.create_collection("c", dim=DIM, metric="l2")
        col.upsert(ids, x)
        col.flush()
        points = dict(zip(ids, x))
        batch = col.search_batch(queries, K)
        for q, hits_of_batch in zip(queries, batch):
            want = reference_ranking(points, q, "l2")[:K]
            for hits in (col.search(q, K), hits_of_batch):
                assert [h.id for h in hits] == [i for i, _ in want]
                for h, (_, d) in zip(hits, want):
                    assert abs(h.distance - d) <= tol(d)


def test_negative_thread_cap_is_refused(tmp_path):
    with pytest.raises(nearstore.InvalidArgumentError, match="threads must be 0"):
        nearstore.open(tmp_path / "db", threads=-1)
    assert not (tmp_path / "db").exists()  # refused before anything was made


def test_parallel_searches_while_one_thread_upserts_updates_and_deletes():
    rng = np.random.default_rng(5)
    pool = [f"id{i:04d}" for i in range(3000)]
    with nearstore.open() as db:
        col = db.create_collection("docs", dim=DIM, metric="l2")
        col.upsert(pool[:1500], rng.standard_normal((1500, DIM)).astype(np.float32))
        done = threading.Event()
        searching = threading.Event()  # set by the first search: the writes then overlap them
        searches = [0]

        def writer():
            r = np.random.default_rng(1)
            try:
                # An in-memory database writes so fast that the 150 steps could end before any
                # reader got going, and the test would race nothing.
                assert searching.wait(timeout=60), "no reader started"
                for step in range(150):
                    pick = [pool[j] for j in r.choice(len(pool), 20, replace=False)]
                    kind = step % 4
                    if kind == 0:
                        col.upsert(pick, r.standard_normal((20, DIM)).astype(np.float32))
                    elif kind == 1:
                        col.delete_many(pick[:10])
                    elif kind == 2:
                        for p in pick[:5]:
                            col.update(p, vector=r.standard_normal(DIM), metadata={"s": step})
                    else:
                        col.insert(pick[0], r.standard_normal(DIM), {"s": step})
                    if step % 50 == 49:
                        col.compact()
            finally:
                done.set()

        def reader(seed):
            r = np.random.default_rng(seed)
            while not done.is_set():
                q = r.standard_normal((4, DIM)).astype(np.float32)
                for hits in col.search_batch(q, k=K) + [col.search(q[0], k=K)]:
                    assert len(hits) == K  # never fewer than ~1000 live points
                    check_sorted(hits)
                searches[0] += 1
                searching.set()
                ids = list(col.ids(page_size=97))
                assert ids == sorted(ids) and len(ids) == len(set(ids))

        run_threads([writer] + [lambda s=s: reader(s) for s in range(3)])
        assert searches[0] > 0
        # the final state is consistent with itself
        ids = list(col.ids())
        assert len(ids) == len(col)
        got = col.get_many(ids)
        points = {i: g[0] for i, g in zip(ids, got)}
        q = rng.standard_normal(DIM).astype(np.float32)
        ref = reference_ranking(points, q, "l2")[:K]
        assert [h.id for h in col.search(q, k=K)] == [i for i, _ in ref]


def test_many_threads_share_one_collection_for_writes():
    with nearstore.open() as db:
        col = db.create_collection("docs", dim=4, metric="l2")

        def writer(t):
            def run():
                for i in range(200):
                    col.insert(f"t{t}-{i:03d}", [t, i, 0, 1], {"t": t})

            return run

        run_threads([writer(t) for t in range(6)])
        assert len(col) == 1200
        assert col.get("t5-199")[1] == {"t": 5}
        assert sum(1 for _ in col.ids(page_size=100)) == 1200


# --------------------------------------------------------------------------------------------
# The GIL is released during searches and bulk writes
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_collection():
    """200k x 64 in memory: a search_batch of 64 queries takes a good fraction of a second."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200_000, 64), dtype=np.float32)
    ids = [f"p{i}" for i in range(200_000)]
    db = nearstore.open()
    col = db.create_collection("big", dim=64, metric="l2")
    for s in range(0, 200_000, 50_000):
        col.upsert(ids[s : s + 50_000], x[s : s + 50_000])
    yield col, x, ids
    db.close()


# Iterations of the counting loop left out at the end of the call: when a long call returns,
# the worker hands the GIL to the waiting counter at its next eval-breaker check, and the counter
# runs a whole switch interval (5 ms) before the worker gets it back.
TAIL_S = 0.02
STAMP_EVERY = 500


def count_while(call):
    """Runs `call` in a thread while this thread counts in a tight Python loop. Returns how far
    the count advanced while the call ran (leaving out its last TAIL_S seconds), the call's
    duration and its result. If the call held the GIL, this thread could not count at all while
    it ran. Also returns the times the counter stamped during the call, between t0 and t1."""
    started = threading.Event()
    done = threading.Event()
    out = {}

    def work():
        started.set()
        t0 = time.perf_counter()
        result = call()
        t1 = time.perf_counter()
        out.update(t0=t0, t1=t1, result=result)
        done.set()

    th = threading.Thread(target=work)
    th.start()
    started.wait()
    stamps = []
    n = 0
    while not done.is_set():
        n += 1
        if n % STAMP_EVERY == 0:
            stamps.append(time.perf_counter())
    th.join()
    t0, t1 = out["t0"], out["t1"]
    advanced = STAMP_EVERY * sum(1 for s in stamps if t0 <= s <= t1 - TAIL_S)
    return advanced, t1 - t0, out["result"], [t0, *(s for s in stamps if t0 <= s <= t1), t1]


# A call of ~0.3 s or more that releases the GIL lets this thread count to hundreds of thousands
# even on a busy 2-core machine; one that holds the GIL leaves it where it was.
MIN_COUNT = 20_000


def test_probe_detects_a_call_that_holds_the_gil():
    """The control: list.sort() of floats runs in C holding the GIL. The counter may still run
    for a switch interval or more between the worker's first timestamp and its entry into
    sorted() (on a loaded machine the worker can lose its core right there, and with it the
    GIL at the next eval-breaker check), so the control asks for what holding the GIL does
    show whatever the scheduling: one stretch without a count covering most of the call."""
    data = np.random.default_rng(1).random(1_000_000).tolist()
    _, seconds, _, stamps = count_while(lambda: sorted(data))
    assert seconds > 0.1, "the control call is too short to mean anything"
    longest = max(b - a for a, b in zip(stamps, stamps[1:]))
    assert longest > 0.5 * seconds, (
        f"the counter stopped for at most {longest:.3f}s of a {seconds:.2f}s GIL-holding call")


def test_search_batch_releases_the_gil(big_collection):
    col, _, _ = big_collection
    queries = np.random.default_rng(2).standard_normal((128, 64), dtype=np.float32)
    n, seconds, result, _ = count_while(lambda: col.search_batch(queries, k=10))
    assert len(result) == 128 and all(len(r) == 10 for r in result)
    assert seconds > 0.1, f"search too short ({seconds:.3f}s) for the check to mean anything"
    assert n >= MIN_COUNT, f"counted only {n} while search_batch ran for {seconds:.2f}s"


def test_search_releases_the_gil(big_collection):
    col, _, _ = big_collection
    q = np.random.default_rng(3).standard_normal(64, dtype=np.float32)

    def many():
        return [col.search(q, k=5) for _ in range(40)]

    # 40 one-query searches: between them the GIL is taken back briefly, but each scan of
    # 200k rows runs without it.
    n, seconds, result, _ = count_while(many)
    assert all(len(r) == 5 for r in result)
    assert seconds > 0.1
    assert n >= MIN_COUNT, f"counted only {n} during {seconds:.2f}s of searches"


def test_bulk_upsert_releases_the_gil(big_collection):
    col, x, ids = big_collection
    n, seconds, _, _ = count_while(lambda: col.upsert(ids[:100_000], x[:100_000] * 2))
    assert seconds > 0.05
    assert n >= MIN_COUNT * min(1.0, seconds / 0.3), (
        f"counted only {n} while upsert ran for {seconds:.2f}s"
    )
    np.testing.assert_array_equal(col.get("p5")[0], x[5] * 2)


# --------------------------------------------------------------------------------------------
# drop_collection / close racing with calls on the collection from another thread
# --------------------------------------------------------------------------------------------

RACING_CALLS = {
    "upsert": lambda col, i: col.upsert([f"n{i}"], np.ones((1, 4), dtype=np.float32)),
    "update": lambda col, i: col.update(f"p{i % 2000}", metadata={"i": i}),
    "delete": lambda col, i: col.delete(f"p{i % 2000}"),
    "search": lambda col, i: col.search([1, 0, 0, 0], k=3),
    "search_batch": lambda col, i: col.search_batch(np.ones((4, 4)), k=3),
    "get": lambda col, i: col.get(f"p{i % 2000}"),
    "ids": lambda col, i: list(col.ids(page_size=500)),
    "flush": lambda col, i: (col.upsert([f"n{i}"], [[1, 2, 3, 4]]), col.flush()),
    "compact": lambda col, i: col.compact(),
}


@pytest.fixture
def ram_dir(tmp_path):
    """A directory on a RAM file system where there is one (these tests open many databases;
    the disk is test_persistence.py's business), else tmp_path."""
    if not (os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK)):
        yield tmp_path
        return
    d = tempfile.mkdtemp(prefix="nearstore-race-", dir="/dev/shm")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def race(tmp_path, call, end, trials):
    """Runs `call` in a loop on one thread while this one ends the collection (drop or close).
    Every call must succeed or raise ClosedError, and the loop must end promptly."""
    unexpected = []
    for trial in range(trials):
        db = nearstore.open(tmp_path / f"db{trial}", sync=False)
        col = db.create_collection("a", dim=4, metric="l2")
        col.upsert([f"p{i}" for i in range(2000)], np.ones((2000, 4), dtype=np.float32))
        col.flush()
        col.delete_many([f"p{i}" for i in range(0, 2000, 2)])  # something to compact
        started = threading.Event()

        def worker(col=col, started=started):
            try:
                for i in range(1_000_000):
                    call(col, i)
                    started.set()
            except nearstore.ClosedError as e:
                assert "dropped" in str(e) or "closed" in str(e), str(e)
            except Exception as e:  # noqa: BLE001 - collected and reported below
                unexpected.append(f"{type(e).__name__}: {e}")
            finally:
                started.set()

        t = threading.Thread(target=worker, daemon=True)
        t.start()
        started.wait(10)
        time.sleep(0.002 * (trial % 5))
        if end == "drop":
            db.drop_collection("a")
        else:
            db.close()
        t.join(10)
        assert not t.is_alive(), f"the call is still blocked 10 s after {end} (trial {trial})"
        db.close()
    assert not unexpected, unexpected[:3]


@pytest.mark.parametrize(
    "name",
    [n for n in RACING_CALLS if n != "flush"],
)
def test_calls_racing_drop_collection(ram_dir, name):
    race(ram_dir, RACING_CALLS[name], "drop", trials=30 if name == "compact" else 10)


@pytest.mark.parametrize("name", list(RACING_CALLS))
def test_calls_racing_close(ram_dir, name):
    race(ram_dir, RACING_CALLS[name], "close", trials=4)


FLUSH_DROP_SCRIPT = r"""
import os, sys, threading, time
import numpy as np
import nearstore

root = sys.argv[1]
for trial in range(60):
    db = nearstore.open(os.path.join(root, f"db{trial}"), sync=False)
    col = db.create_collection("a", dim=4, metric="l2")
    col.upsert([f"p{i}" for i in range(100)], np.ones((100, 4), dtype=np.float32))

    def worker():
        try:
            for i in range(1_000_000):
                col.upsert([f"n{i}"], [[1, 2, 3, 4]])
                col.flush()
        except nearstore.ClosedError:
            pass

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    time.sleep(0.01 + 0.001 * (trial % 10))
    db.drop_collection("a")
    t.join(3)
    if t.is_alive():
        print(f"trial {trial}: flush() still blocked 3 s after drop_collection", flush=True)
        os._exit(3)
    db.close()
print("no hang")
"""


def test_flush_racing_drop_collection_does_not_hang(ram_dir):
    """In a subprocess, so that a hang costs a few seconds and not the test run."""
    proc = subprocess.run(
        [sys.executable, "-c", FLUSH_DROP_SCRIPT, str(ram_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
