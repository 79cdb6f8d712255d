"""The Python API contract of nearstore, search: results against brute force for every metric,
distances, ties, k, batches, input arrays of every layout, and the Hit type."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from brute_force import assert_hits_match, reference_ranking, stored_vector

import nearstore
from nearstore import Hit


def make_points(rng, n, dim, metric):
    x = rng.standard_normal((n, dim)).astype(np.float32) * np.float32(3)
    ids = [f"p{i:04d}" for i in rng.permutation(n)]
    metas = [{"i": int(i), "id": id_} for i, id_ in enumerate(ids)]
    return ids, x, metas


@pytest.mark.parametrize("k", [1, 7, 50, 299, 300, 1000])
def test_search_matches_brute_force(db, metric, k):
    rng = np.random.default_rng(1234 + k)
    col = db.create_collection("docs", dim=16, metric=metric)
    ids, x, metas = make_points(rng, 300, 16, metric)
    col.upsert(ids, x, metas)
    points = {i: stored_vector(v, metric) for i, v in zip(ids, x)}
    meta_of = dict(zip(ids, metas))
    for q in rng.standard_normal((5, 16)).astype(np.float32):
        hits = col.search(q, k=k)
        assert_hits_match(hits, points, q, metric, k, meta_of)
        # random data has no near-ties: the ranking is the reference's, exactly
        ref = reference_ranking(points, q, metric)[: min(k, 300)]
        assert [h.id for h in hits] == [i for i, _ in ref]
        np.testing.assert_allclose(
            [h.distance for h in hits], [d for _, d in ref], rtol=1e-5, atol=1e-5
        )


def test_distance_definitions(db):
    q = np.array([1.0, 2.0, 2.0], dtype=np.float32)
    v = np.array([2.0, 0.0, 1.0], dtype=np.float32)
    expected = {
        "cosine": 1 - float(q @ v) / (np.linalg.norm(q) * np.linalg.norm(v)),
        "l2": float(np.linalg.norm(q - v)),
        "dot": -float(q @ v),
    }
    for m, want in expected.items():
        col = db.create_collection(m, dim=3, metric=m)
        col.insert("v", v)
        (hit,) = col.search(q, k=1)
        assert hit.distance == pytest.approx(want, rel=1e-6, abs=1e-6), m


def test_cosine_is_scale_invariant(db):
    col = db.create_collection("docs", dim=3, metric="cosine")
    col.upsert(["a", "b", "c"], [[1, 0, 0], [1, 1, 0], [0, 0, 5]])
    h1 = col.search([1, 0.1, 0], k=3)
    h2 = col.search([100, 10, 0], k=3)
    assert [h.id for h in h1] == [h.id for h in h2]
    np.testing.assert_allclose([h.distance for h in h1], [h.distance for h in h2], atol=1e-6)
    assert col.search([0, 0, 1], k=1)[0].distance == pytest.approx(0.0, abs=1e-6)


def test_k_larger_than_count(db, metric):
    col = db.create_collection("docs", dim=3, metric=metric)
    assert col.search([1, 2, 3], k=5) == []
    col.upsert(["a", "b", "c"], [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    hits = col.search([1, 2, 3], k=100000)
    assert sorted(h.id for h in hits) == ["a", "b", "c"]
    assert col.search([1, 2, 3])[0].id == "c"  # default k=10
    assert [len(r) for r in col.search_batch([[1, 2, 3], [3, 2, 1]], k=10)] == [3, 3]


def test_ties_broken_by_id(db, metric):
    col = db.create_collection("docs", dim=3, metric=metric)
    ids = ["m", "b", "z", "a", "k", "c"]
    col.upsert(ids, [[1, 2, 3]] * len(ids))  # identical vectors: exactly equal distances
    col.insert("far", [-1, -2, -3])
    hits = col.search([1, 2, 3], k=7)
    assert [h.id for h in hits] == sorted(ids) + ["far"]
    assert len({h.distance for h in hits[:6]}) == 1
    # k cutting through the tie keeps the smallest ids
    assert [h.id for h in col.search([1, 2, 3], k=3)] == ["a", "b", "c"]
    assert [h.id for h in col.search_batch([[1, 2, 3], [1, 2, 3]], k=2)[1]] == ["a", "b"]


def test_ties_at_the_k_boundary_broken_by_id_for_rounded_distances(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("a", [1.890481948852539, 0.45501866936683655])
    col.insert("b", [1.5866057872772217, 0.8098726272583008])
    both = col.search([1.0, 0.0], k=2)
    assert both[0].distance == both[1].distance  # both report exactly 1.0
    assert [h.id for h in both] == ["a", "b"]
    assert [h.id for h in col.search([1.0, 0.0], k=1)] == ["a"]  # returns ['b']


def test_search_k_is_a_prefix_of_search_larger_k(db):
    rng = np.random.default_rng(0)
    col = db.create_collection("docs", dim=2, metric="l2")
    d = rng.standard_normal((60, 2))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    q = np.array([1.0, 0.0], dtype=np.float32)
    col.upsert([f"p{i:02d}" for i in range(60)], (q + d).astype(np.float32))  # all at ~1.0
    full = col.search(q, k=60)
    for k in range(1, 60):
        assert col.search(q, k=k) == full[:k], f"k={k}"


def test_search_batch_equals_per_query_search(db, metric):
    rng = np.random.default_rng(7)
    col = db.create_collection("docs", dim=24, metric=metric)
    ids, x, metas = make_points(rng, 500, 24, metric)
    col.upsert(ids, x, metas)
    queries = rng.standard_normal((20, 24)).astype(np.float32)
    batch = col.search_batch(queries, k=15)
    assert len(batch) == 20
    for q, hits in zip(queries, batch):
        single = col.search(q, k=15)
        assert [h.id for h in hits] == [h.id for h in single]
        assert [h.metadata for h in hits] == [h.metadata for h in single]
        # the batch kernel may round differently from the one-query kernel in the last ulp
        np.testing.assert_allclose(
            [h.distance for h in hits], [h.distance for h in single], rtol=1e-6, atol=1e-6
        )
    # a batch of one is the one-query path: identical
    assert col.search_batch(queries[:1], k=15) == [col.search(queries[0], k=15)]
    assert col.search_batch(np.zeros((0, 24), dtype=np.float32)) == []
    assert col.search_batch([]) == []


def test_float64_list_and_int_inputs_give_the_same_results(db, metric):
    rng = np.random.default_rng(3)
    col = db.create_collection("docs", dim=8, metric=metric)
    ids, x, _ = make_points(rng, 100, 8, metric)
    col.upsert(ids, x.astype(np.float64))  # float64 batch
    points = {i: stored_vector(v, metric) for i, v in zip(ids, x)}
    q32 = rng.standard_normal(8).astype(np.float32)
    want = col.search(q32, k=10)
    assert_hits_match(want, points, q32, metric, 10)
    assert col.search(q32.astype(np.float64), k=10) == want
    assert col.search([float(v) for v in q32], k=10) == want
    assert col.search(tuple(q32.tolist()), k=10) == want
    assert col.search_batch([q32.tolist()], k=10) == [want]
    assert col.search_batch(q32.astype(np.float64)[None, :], k=10) == [want]
    col.insert("ints", np.arange(1, 9))  # integer dtypes are converted too
    np.testing.assert_allclose(col.get("ints")[0], stored_vector(np.arange(1, 9), metric))


def test_non_contiguous_arrays(db, metric):
    rng = np.random.default_rng(5)
    col = db.create_collection("docs", dim=6, metric=metric)
    big = rng.standard_normal((40, 12)).astype(np.float32)
    strided = big[::2, ::2]  # (20, 6), neither C- nor F-contiguous
    assert not strided.flags.c_contiguous
    ids = [f"s{i:02d}" for i in range(20)]
    col.upsert(ids, strided)
    fortran = np.asfortranarray(rng.standard_normal((10, 6)).astype(np.float32))
    assert not fortran.flags.c_contiguous
    col.upsert([f"f{i}" for i in range(10)], fortran)
    col.insert("col", big[:6, 3])  # a column: strided 1-d
    points = {i: stored_vector(v, metric) for i, v in zip(ids, strided)}
    points.update({f"f{i}": stored_vector(v, metric) for i, v in enumerate(fortran)})
    points["col"] = stored_vector(big[:6, 3], metric)
    for i in ["s03", "f4", "col"]:
        np.testing.assert_allclose(col.get(i)[0], points[i], rtol=1e-6)
    q = big[7, ::2]
    assert not q.flags.c_contiguous
    hits = col.search(q, k=8)
    assert_hits_match(hits, points, q, metric, 8)
    assert hits == col.search(np.ascontiguousarray(q), k=8)
    qs = big[1::3, 1::2]
    assert col.search_batch(qs, k=4) == col.search_batch(np.ascontiguousarray(qs), k=4)
    assert col.search_batch(np.asfortranarray(qs), k=4) == col.search_batch(qs, k=4)
    reversed_q = np.ascontiguousarray(q)[::-1]
    assert_hits_match(col.search(reversed_q, k=8), points, reversed_q, metric, 8)


def test_float32_c_contiguous_arrays_are_not_copied():
    """A float32 C-contiguous batch crosses into the in-process engine without a copy; a
    float64 one is converted once. (In-process only: a remote database serialises.)"""
    db = nearstore.open()
    col = db.create_collection("docs", dim=128, metric="l2")
    x = np.random.default_rng(0).standard_normal((20_000, 128)).astype(np.float32)  # 10 MB
    ids = [f"p{i}" for i in range(20_000)]
    x64 = x.astype(np.float64)

    def peak(fn):
        was_tracing = tracemalloc.is_tracing()
        if not was_tracing:
            tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            fn()
            return tracemalloc.get_traced_memory()[1] - base
        finally:
            if not was_tracing:
                tracemalloc.stop()

    assert peak(lambda: col.upsert(ids, x)) < x.nbytes / 4
    assert peak(lambda: col.upsert(ids, x64)) >= x.nbytes  # the control: a converted copy
    q = x[:100]
    assert peak(lambda: col.search_batch(q, k=1)) < q.nbytes / 2 + 200_000
    assert peak(lambda: col.search(x[5], k=1)) < 100_000
    assert len(col) == 20_000
    db.close()


def test_hit(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("a", [0, 0], {"text": "x"})
    (hit,) = col.search([3, 4], k=1)
    assert isinstance(hit, Hit) and isinstance(hit, tuple)
    id_, distance, metadata = hit
    assert (id_, distance, metadata) == ("a", 5.0, {"text": "x"})
    assert (hit.id, hit.distance, hit.metadata) == ("a", 5.0, {"text": "x"})
    assert hit == Hit("a", 5.0, {"text": "x"})
    assert type(hit.distance) is float and type(hit.id) is str
    for i, d, m in col.search([0, 0]):
        assert (i, d, m) == ("a", 0.0, {"text": "x"})
    assert Hit._fields == ("id", "distance", "metadata")
