"""HNSW collections through the Python package: recall against brute force for each metric,
deletes never returned, ef per search, settings validated and persisted, info reporting the
graph's memory."""

from __future__ import annotations

import numpy as np
import pytest
from brute_force import distances

import nearstore


def clustered(rng: np.random.Generator, n: int, dim: int, clusters: int = 20) -> np.ndarray:
    centres = rng.normal(0, 3, size=(clusters, dim))
    return (centres[rng.integers(0, clusters, n)] + rng.normal(0, 1, size=(n, dim))).astype(
        np.float32
    )


def exact_top(data: np.ndarray, ids: list[str], query: np.ndarray, metric: str, k: int) -> set:
    d = distances(data, query, metric)
    return {ids[j] for j in np.argsort(d, kind="stable")[:k]}


def recall(col, data, ids, queries, metric, k=10, ef=0) -> float:
    return recall_with(col, data, ids, queries, metric, k, ef=ef)


def recall_with(col, data, ids, queries, metric, k=10, **search) -> float:
    found = 0
    for q, hits in zip(queries, col.search_batch(queries, k, **search)):
        found += len({h.id for h in hits} & exact_top(data, ids, q, metric, k))
    return found / (k * len(queries))


@pytest.fixture
def hnsw_db(tmp_path):
    d = nearstore.open(tmp_path / "db", sync=False)
    yield d
    d.close()


@pytest.mark.parametrize("quantization", ["none", "sq8"])
def test_recall_against_brute_force(hnsw_db, metric, quantization):
    rng = np.random.default_rng(11)
    data = clustered(rng, 4000, 32)
    ids = [f"p{i}" for i in range(len(data))]
    col = hnsw_db.create_collection(
        "c", 32, metric, index="hnsw", m=12, ef_construction=100, quantization=quantization
    )
    col.upsert(ids, data)
    col.flush()  # seals one segment with its graph
    info = col.info()
    assert info["index"] == "hnsw" and info["m"] == 12 and info["ef_construction"] == 100
    assert info["quantization"] == quantization and info["rerank"] == 4
    assert info["indexed_rows"] == 4000 and info["graph_bytes"] > 0
    assert info["vector_bytes"] == 4000 * 32 * 4
    # SQ8: a byte per dimension per row, plus each row's norm and the ranges.
    assert (info["code_bytes"] >= 4000 * (32 + 4)) == (quantization == "sq8")
    queries = data[rng.integers(0, len(data), 50)] + rng.normal(0, 0.5, (50, 32)).astype(np.float32)
    assert recall(col, data, ids, queries, metric, ef=64) >= 0.95
    # Results are sorted and ef per search is honoured (ef=1 still returns k hits).
    for q in queries[:10]:
        hits = col.search(q, 10, ef=1)
        assert len(hits) == 10
        assert [h.distance for h in hits] == sorted(h.distance for h in hits)


def embedding_like(rng: np.random.Generator, n: int, dim: int, latent: int = 32) -> np.ndarray:
    """Rows like a model's embeddings: clustered latent points mapped into `dim` dimensions by
    one random linear map, plus a little noise (what binary codes are meant for)."""
    mapping = rng.normal(0, 1 / 3, size=(latent, dim))
    return (clustered(rng, n, latent) @ mapping + rng.normal(0, 0.1, (n, dim))).astype(np.float32)


def test_binary_quantization_recall_against_brute_force(hnsw_db, metric):
    rng = np.random.default_rng(13)
    data = embedding_like(rng, 3050, 256)
    data, queries = data[:3000], data[3000:]
    ids = [f"p{i}" for i in range(len(data))]
    col = hnsw_db.create_collection("c", 256, metric, index="hnsw", quantization="binary")
    col.upsert(ids, data)
    col.flush()
    info = col.info()
    assert info["quantization"] == "binary" and info["rerank"] == 20
    # One bit per dimension and 16 bytes of scalars per row, and the mean: 1/21 of the floats.
    assert info["code_bytes"] == 3000 * (16 + 256 // 8) + 256 * 4
    assert info["vector_bytes"] == 3000 * 256 * 4
    assert recall(col, data, ids, queries, metric) >= 0.95
    # A search's own rerank: re-ranking only k * 1 of a walk of ef = 10 finds fewer.
    assert recall_with(col, data, ids, queries, metric, ef=10, rerank=1) < recall(
        col, data, ids, queries, metric
    )
    with pytest.raises(nearstore.InvalidArgumentError, match="rerank must be 0"):
        col.search(queries[0], rerank=65)
    with pytest.raises(nearstore.InvalidArgumentError, match="rerank must be 0"):
        col.search_batch(queries, rerank=-1)


def test_deleted_points_are_never_returned_and_reopen_matches(tmp_path):
    rng = np.random.default_rng(5)
    data = clustered(rng, 3000, 16)
    ids = [f"p{i}" for i in range(len(data))]
    with nearstore.open(tmp_path / "db", sync=False) as db:
        col = db.create_collection("c", 16, "l2", index="hnsw", ef_search=80)
        col.upsert(ids, data)
        col.flush()
        gone = set(ids[::2])
        assert col.delete_many(gone) == len(gone)
        queries = data[rng.integers(0, len(data), 30)]
        before = [[(h.id, h.distance) for h in hits] for hits in col.search_batch(queries, 10)]
        for hits in before:
            assert not {i for i, _ in hits} & gone
        live = [i for i in ids if i not in gone]
        live_data = data[[int(i[1:]) for i in live]]
        assert recall(col, live_data, live, queries, "l2") >= 0.9
    with nearstore.open(tmp_path / "db") as db:
        col = db.get_collection("c")
        assert col.info()["ef_search"] == 80
        after = [[(h.id, h.distance) for h in hits] for hits in col.search_batch(queries, 10)]
        assert after == before


def test_settings_are_validated(db):
    with pytest.raises(nearstore.InvalidArgumentError, match="unknown index 'ivf'"):
        db.create_collection("c", 8, index="ivf")
    with pytest.raises(nearstore.InvalidArgumentError, match="m must be 2..256, got 1"):
        db.create_collection("c", 8, index="hnsw", m=1)
    with pytest.raises(nearstore.InvalidArgumentError, match="m must be 0 or more, got -3"):
        db.create_collection("c", 8, index="hnsw", m=-3)
    with pytest.raises(nearstore.InvalidArgumentError, match="ef_construction must be m"):
        db.create_collection("c", 8, index="hnsw", m=32, ef_construction=16)
    with pytest.raises(nearstore.InvalidArgumentError, match="unknown quantization 'pq'"):
        db.create_collection("c", 8, index="hnsw", quantization="pq")
    with pytest.raises(nearstore.InvalidArgumentError, match="needs index 'hnsw'"):
        db.create_collection("c", 8, quantization="sq8")
    with pytest.raises(nearstore.InvalidArgumentError, match="rerank must be 1..64, got 65"):
        db.create_collection("c", 8, index="hnsw", quantization="sq8", rerank=65)
    assert db.create_collection("b", 8, index="hnsw", quantization="binary").info()["rerank"] == 20
    assert db.create_collection("s", 8, index="hnsw", quantization="sq8").info()["rerank"] == 4
    col = db.create_collection("c", 8, index="hnsw")
    with pytest.raises(nearstore.InvalidArgumentError, match="ef must be 0"):
        col.search(np.ones(8), ef=-1)
    with pytest.raises(nearstore.InvalidArgumentError, match="ef must be 0"):
        col.search(np.ones(8), ef=70000)
    # get_or_create checks the index settings it is given against the existing collection.
    assert db.get_or_create_collection("c", 8, index="hnsw").name == "c"
    with pytest.raises(nearstore.InvalidArgumentError, match="exists with index='hnsw'"):
        db.get_or_create_collection("c", 8, index="flat")
    with pytest.raises(nearstore.InvalidArgumentError, match="unknown collection settings"):
        db.get_or_create_collection("c", 8, ef=3)
    assert db.get_or_create_collection("new", 8, index="hnsw", m=8).info()["m"] == 8


def test_memtable_size_sets_how_many_graphs_a_bulk_load_gets(tmp_path):
    rng = np.random.default_rng(2)
    data = clustered(rng, 3000, 16)
    ids = [f"p{i}" for i in range(len(data))]
    for memtable, segments in ((1000 * 16 * 4, 3), (0, 1)):
        with nearstore.open(tmp_path / f"db{memtable}", memtable_max_bytes=memtable) as db:
            col = db.create_collection("c", 16, "l2", index="hnsw")
            for start in range(0, len(data), 500):
                col.upsert(ids[start : start + 500], data[start : start + 500])
            col.flush()
            info = col.info()
            assert info["segments"] == segments and info["indexed_rows"] == 3000
    with pytest.raises(nearstore.InvalidArgumentError, match="memtable_max_bytes must be 0"):
        nearstore.open(memtable_max_bytes=-1)
