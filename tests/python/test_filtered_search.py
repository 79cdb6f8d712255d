"""Filtered search through the Python package, against numpy brute force over the points whose
metadata passes (filter_reference.py): selectivities from 50% to fewer than k points, with and
without payload indexes, HNSW with and without SQ8, over several segments and the memtable;
indexes surviving reopen, compaction and a crash; count, ids, get_where and delete by filter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from brute_force import distances
from filter_reference import matches as reference_matches

import nearstore

N = 4000
DIM = 32
K = 10
ROWS_1000 = 1000 * DIM * 4  # memtable_max_bytes that seals every 1000 rows


def metadata(i: int) -> dict:
    m = {"cat": f"c{i % 100}", "n": (i * 7919) % 1000, "flag": i % 3 == 0}
    if i % 97 == 0:
        del m["n"]  # missing
    elif i % 89 == 0:
        m["n"] = str(m["n"])  # a string where an index expects numbers
    return m


# (filter, what): from half of the points to fewer than k.
FILTERS = [
    ({"n": {"$lt": 500}}, "50%"),
    ({"cat": {"$in": [f"c{j}" for j in range(10)]}}, "10%"),
    ({"n": {"$gte": 100, "$lt": 110}}, "1%"),
    ({"cat": "c42", "n": {"$lt": 100}}, "0.1%"),
    ({"n": 3}, "fewer than k"),
    ({"$or": [{"cat": "c5"}, {"flag": True, "n": {"$gt": 900}}]}, "or"),
    ({"$not": {"n": {"$lt": 990}}}, "not"),
    ({"cat": "none"}, "nothing"),
]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    centres = rng.normal(0, 3, size=(40, DIM))
    vectors = (centres[rng.integers(0, 40, N)] + rng.normal(0, 1, size=(N, DIM))).astype(
        np.float32
    )
    queries = vectors[rng.integers(0, N, 25)] + rng.normal(0, 0.5, size=(25, DIM)).astype(
        np.float32
    )
    ids = [f"p{i:05d}" for i in range(N)]
    metas = [metadata(i) for i in range(N)]
    return ids, vectors, metas, queries


def fill(col, data) -> None:
    ids, vectors, metas, _ = data
    # Three sealed segments of 1000 rows with graphs, the rest in the memtable.
    for start in range(0, 3000, 500):
        end = start + 500
        col.upsert(ids[start:end], vectors[start:end], metas[start:end])
    col.flush()
    col.upsert(ids[3000:], vectors[3000:], metas[3000:])


def check_filtered(col, data, when: str) -> None:
    ids, vectors, metas, queries = data
    found = wanted = 0
    for flt, what in FILTERS:
        passing = [j for j in range(N) if reference_matches(flt, metas[j])]
        assert col.count(filter=flt) == len(passing), (what, when)
        results = col.search_batch(queries, K, filter=flt)
        for q, hits in zip(queries, results):
            assert len(hits) == min(K, len(passing)), (what, when)
            allowed = {ids[j] for j in passing}
            assert all(h.id in allowed for h in hits), (what, when)
            assert all(reference_matches(flt, h.metadata) for h in hits)
            if passing:
                d = distances(vectors[passing], q, "l2")
                truth = {ids[passing[j]] for j in np.argsort(d, kind="stable")[:K]}
                found += len(truth & {h.id for h in hits})
                wanted += len(truth)
    assert found / wanted >= 0.95, when


@pytest.mark.parametrize("quantization", ["none", "sq8"])
def test_filtered_search_against_brute_force(tmp_path, data, quantization):
    db = nearstore.open(tmp_path / "db", sync=False, memtable_max_bytes=ROWS_1000)
    col = db.create_collection("c", dim=DIM, metric="l2", index="hnsw", quantization=quantization)
    fill(col, data)
    assert col.info()["segments"] == 3
    check_filtered(col, data, "no index")
    assert col.info()["payload_index_bytes"] == 0
    col.create_index("cat", "keyword")
    col.create_index("n", "int")
    col.create_index("flag", "bool")
    # per sealed row: a tag and a term or number per field, plus the inverted lists
    assert 3000 * 20 < col.info()["payload_index_bytes"] < 3000 * 80
    check_filtered(col, data, "indexed")
    col.compact()
    check_filtered(col, data, "compacted")
    db.close()
    db = nearstore.open(tmp_path / "db", sync=False, memtable_max_bytes=ROWS_1000)
    col = db.get_collection("c")
    assert col.list_indexes() == {"cat": "keyword", "n": "int", "flag": "bool"}
    check_filtered(col, data, "reopened")
    db.close()


def test_indexes_and_acknowledged_writes_survive_a_crash(tmp_path, data):
    """A child process creates indexes, writes (some sealed, some only in the log) and dies
    without closing; the reopened database has the indexes and answers filters exactly."""
    ids, vectors, metas, _ = data
    np.save(tmp_path / "vectors.npy", vectors)
    child = textwrap.dedent(
        f"""
        import os, sys, json
        import numpy as np
        sys.path.insert(0, {os.path.dirname(__file__)!r})
        import nearstore
        from test_filtered_search import metadata
        vectors = np.load({str(tmp_path / "vectors.npy")!r})
        ids = [f"p{{i:05d}}" for i in range(len(vectors))]
        metas = [metadata(i) for i in range(len(vectors))]
        db = nearstore.open({str(tmp_path / "db")!r}, memtable_max_bytes={ROWS_1000})
        col = db.create_collection("c", dim={DIM}, metric="l2", index="hnsw")
        col.create_index("cat", "keyword")
        col.upsert(ids[:2000], vectors[:2000], metas[:2000])
        col.flush()
        col.create_index("n", "float")
        col.upsert(ids[2000:2500], vectors[2000:2500], metas[2000:2500])
        col.delete_many(filter={{"cat": "c7"}})
        os._exit(0)  # no close: the WAL holds the last writes
        """
    )
    subprocess.run([sys.executable, "-c", child], check=True, timeout=120)
    db = nearstore.open(tmp_path / "db")
    col = db.get_collection("c")
    assert col.list_indexes() == {"cat": "keyword", "n": "float"}
    live = [j for j in range(2500) if metas[j]["cat"] != "c7"]
    assert col.count() == len(live)
    for flt, what in FILTERS:
        passing = sorted(ids[j] for j in live if reference_matches(flt, metas[j]))
        assert col.count(filter=flt) == len(passing), what
        assert list(col.ids(filter=flt)) == passing, what
    db.close()


def test_count_ids_get_where_and_delete_by_filter(tmp_path, data):
    ids, vectors, metas, _ = data
    db = nearstore.open(tmp_path / "db", sync=False, memtable_max_bytes=300 * DIM * 4)
    col = db.create_collection("c", dim=DIM, metric="cosine")
    col.upsert(ids[:1000], vectors[:1000], metas[:1000])
    col.create_index("cat", "keyword")
    flt = {"cat": {"$in": ["c1", "c2"]}, "flag": False}
    passing = [j for j in range(1000) if reference_matches(flt, metas[j])]
    assert list(col.ids(page_size=4, filter=flt)) == [ids[j] for j in passing]
    got = col.get_where(flt, limit=5)
    assert [g[0] for g in got] == [ids[j] for j in passing[:5]]
    for (_, vec, meta), j in zip(got, passing):
        assert meta == metas[j]
        np.testing.assert_allclose(vec, vectors[j] / np.linalg.norm(vectors[j]), rtol=1e-5)
    assert len(col.get_where(flt)) == len(passing)
    assert col.get_where(flt, with_vectors=False)[0][1] is None
    # Refused filters change nothing.
    for bad in ({"n": {"$gt": "x"}}, {"$nope": 1}, "not json", ""):
        with pytest.raises(nearstore.InvalidArgumentError):
            col.delete_many(filter=bad)
    with pytest.raises(nearstore.InvalidArgumentError, match="either ids or filter"):
        col.delete_many(["p00001"], filter={"cat": "c1"})
    assert col.count() == 1000
    assert col.delete_many(filter=flt) == len(passing)
    assert col.count() == 1000 - len(passing)
    assert col.count(filter=flt) == 0
    assert col.delete_many(filter={}) == 1000 - len(passing)
    assert col.count() == 0
    db.close()


def test_payload_index_definitions(tmp_path):
    db = nearstore.open(tmp_path / "db")
    col = db.create_collection("c", dim=2)
    col.create_index("author.name", "keyword")
    col.create_index("author.name", "keyword")  # the same again: nothing to do
    with pytest.raises(nearstore.AlreadyExistsError, match="drop it"):
        col.create_index("author.name", "int")
    expected = "expected keyword, int, float or bool"
    with pytest.raises(nearstore.InvalidArgumentError, match=expected):
        col.create_index("x", "text")
    for bad in ("", "a..b", "a.$b"):
        with pytest.raises(nearstore.InvalidArgumentError, match="field path"):
            col.create_index(bad, "int")
    assert col.list_indexes() == {"author.name": "keyword"}
    assert col.drop_index("author.name") is True
    assert col.drop_index("author.name") is False
    db.close()
