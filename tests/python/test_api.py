"""The Python API contract of nearstore: databases, collections, points, errors (search is in
test_search.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from brute_force import stored_vector
from error_checks import check_error, raises

import nearstore
from nearstore import (
    AlreadyExistsError,
    ClosedError,
    InvalidArgumentError,
    NotFoundError,
)

# --------------------------------------------------------------------------------------------
# Databases and collections
# --------------------------------------------------------------------------------------------


def test_open_in_memory():
    db = nearstore.open()
    assert db.path is None
    col = db.create_collection("docs", dim=3)
    col.insert("a", [1, 2, 3])
    assert len(col) == 1
    assert "Database(" in repr(db)
    db.close()


def test_open_creates_missing_directory(tmp_path):
    path = tmp_path / "sub" / "db"
    with nearstore.open(path) as db:  # a pathlib.Path is accepted
        assert db.path == str(path)
        db.create_collection("docs", dim=2)
    assert path.is_dir()


def test_context_manager_closes(tmp_path):
    with nearstore.open(str(tmp_path / "db")) as db:
        col = db.create_collection("docs", dim=2, metric="l2")
        col.insert("a", [1, 2])
    with pytest.raises(ClosedError, match="closed") as ei:
        col.search([1, 2])
    check_error(ei, RuntimeError)
    with pytest.raises(ClosedError, match="closed"):
        db.get_collection("docs")
    db.close()  # closing twice is harmless


def test_context_manager_closes_on_exception():
    with pytest.raises(ZeroDivisionError), nearstore.open() as db:
        col = db.create_collection("docs", dim=2)
        raise ZeroDivisionError
    with pytest.raises(ClosedError):
        col.insert("a", [1, 2])


def test_create_collection_properties(db):
    col = db.create_collection("docs", dim=384, metric="cosine")
    assert (col.name, col.dim, col.metric) == ("docs", 384, "cosine")
    assert repr(col) == "Collection(name='docs', dim=384, metric='cosine')"
    assert db.create_collection("plain", dim=2).metric == "cosine"  # the default metric
    assert db.create_collection("e", dim=2, metric="l2").metric == "l2"
    assert db.create_collection("d", dim=2, metric="dot").metric == "dot"


def test_metric_aliases_are_canonicalised(db):
    assert db.create_collection("e", dim=2, metric="euclidean").metric == "l2"
    assert db.create_collection("i", dim=2, metric="ip").metric == "dot"
    # get_or_create accepts the alias of the existing metric
    assert db.get_or_create_collection("e", dim=2, metric="euclidean").metric == "l2"
    assert db.get_or_create_collection("i", dim=2, metric="ip").metric == "dot"


def test_get_collection_shares_data(db):
    a = db.create_collection("docs", dim=2, metric="l2")
    a.insert("x", [1, 2], {"k": 1})
    b = db.get_collection("docs")
    assert (b.name, b.dim, b.metric) == ("docs", 2, "l2")
    assert b.get("x")[1] == {"k": 1}
    b.insert("y", [3, 4])
    assert a.count() == 2


def test_get_or_create(db):
    col = db.get_or_create_collection("docs", dim=4, metric="l2")
    assert (col.dim, col.metric) == (4, "l2")
    col.insert("a", [1, 2, 3, 4])
    again = db.get_or_create_collection("docs", dim=4, metric="l2")
    assert again.count() == 1
    assert db.list_collections() == ["docs"]


def test_get_or_create_mismatching_dim(db):
    db.create_collection("docs", dim=4, metric="l2")
    with raises(InvalidArgumentError, ValueError, r"dim=4.*dim=5") as ei:
        db.get_or_create_collection("docs", dim=5, metric="l2")
    assert "docs" in str(ei.value)


def test_get_or_create_mismatching_metric(db):
    db.create_collection("docs", dim=4, metric="l2")
    with raises(InvalidArgumentError, ValueError, r"metric='l2'.*metric='cosine'") as ei:
        db.get_or_create_collection("docs", dim=4, metric="cosine")
    assert "docs" in str(ei.value)


def test_list_collections_sorted(db):
    assert db.list_collections() == []
    for name in ["zeta", "alpha", "mid.dle", "b-1", "a_2"]:
        db.create_collection(name, dim=2)
    assert db.list_collections() == sorted(["zeta", "alpha", "mid.dle", "b-1", "a_2"])


def test_drop_collection(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("a", [1, 2])
    db.create_collection("other", dim=2)
    db.drop_collection("docs")
    assert db.list_collections() == ["other"]
    with pytest.raises(NotFoundError):
        db.get_collection("docs")
    fresh = db.create_collection("docs", dim=3, metric="dot")  # the name is free again
    assert (fresh.dim, fresh.metric, fresh.count()) == (3, "dot", 0)


def test_unknown_collection_is_not_found_key_error(db):
    db.create_collection("docs", dim=2)
    with raises(NotFoundError, KeyError, r"collection 'nope' does not exist") as ei:
        db.get_collection("nope")
    check_error(ei, KeyError)
    assert not str(ei.value).startswith("'"), "KeyError must not quote the message"
    with pytest.raises(KeyError):  # plain Python code catches it as a KeyError
        db.get_collection("nope")
    with raises(NotFoundError, KeyError, r"'nope'"):
        db.drop_collection("nope")


def test_duplicate_create_already_exists(db):
    db.create_collection("docs", dim=2)
    with raises(AlreadyExistsError, ValueError, r"collection 'docs' already exists") as ei:
        db.create_collection("docs", dim=2)
    check_error(ei, ValueError)
    with pytest.raises(AlreadyExistsError):  # also with other dim / metric
        db.create_collection("docs", dim=7, metric="l2")


def test_bad_metric(db):
    with raises(InvalidArgumentError, ValueError, r"unknown metric 'manhattan'") as ei:
        db.create_collection("docs", dim=2, metric="manhattan")
    msg = str(ei.value)
    assert "cosine" in msg and "l2" in msg and "dot" in msg  # says what is expected
    assert db.list_collections() == []


@pytest.mark.parametrize("dim", [0, 65537])
def test_bad_dimension(db, dim):
    with raises(InvalidArgumentError, ValueError, rf"dimension must be 1\.\.65536, got {dim}"):
        db.create_collection("docs", dim=dim)


@pytest.mark.parametrize("name", ["", "has space", "slash/name", "x" * 129])
def test_bad_collection_name(db, name):
    with raises(InvalidArgumentError, ValueError, "name"):
        db.create_collection(name, dim=2)
    assert db.list_collections() == []


# --------------------------------------------------------------------------------------------
# insert / get / get_many
# --------------------------------------------------------------------------------------------


def test_insert_and_get(db, metric):
    col = db.create_collection("docs", dim=4, metric=metric)
    v = np.array([3.0, -4.0, 0.5, 2.0], dtype=np.float32)
    meta = {"text": "héllo ✓", "n": 3, "f": 1.5, "nested": {"l": [1, None, True]}}
    assert col.insert("a", v, meta) is None
    vec, got_meta = col.get("a")
    assert isinstance(vec, np.ndarray) and vec.dtype == np.float32 and vec.shape == (4,)
    assert got_meta == meta
    if metric == "cosine":  # stored normalised
        np.testing.assert_allclose(vec, v / np.linalg.norm(v), rtol=1e-6)
        np.testing.assert_allclose(np.linalg.norm(vec), 1.0, rtol=1e-6)
    else:
        np.testing.assert_array_equal(vec, v)


def test_insert_default_metadata_is_empty_dict(db):
    col = db.create_collection("docs", dim=2)
    col.insert("a", [1, 2])
    assert col.get("a")[1] == {}
    assert col.search([1, 2], k=1)[0].metadata == {}


def test_insert_replaces_existing_id(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("a", [1, 2], {"v": 1})
    col.insert("a", [3, 4], {"v": 2})
    assert len(col) == 1
    vec, meta = col.get("a")
    np.testing.assert_array_equal(vec, [3, 4])
    assert meta == {"v": 2}
    col.insert("a", [5, 6])  # replaced metadata too, back to {}
    assert col.get("a")[1] == {}


def test_get_missing_is_none(db):
    col = db.create_collection("docs", dim=2)
    assert col.get("nope") is None
    col.insert("a", [1, 2])
    assert col.get("nope") is None


def test_get_many(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.upsert(["a", "b"], [[1, 2], [3, 4]], [{"i": 1}, {"i": 2}])
    got = col.get_many(["b", "zz", "a", "b"])
    assert len(got) == 4
    np.testing.assert_array_equal(got[0][0], [3, 4])
    assert got[0][1] == {"i": 2}
    assert got[1] is None
    assert got[2][1] == {"i": 1}
    assert got[3][1] == {"i": 2}
    assert col.get_many([]) == []
    assert [g[1] for g in col.get_many(iter(["a"]))] == [{"i": 1}]  # any iterable


def test_vectors_are_copied_both_ways(db):
    col = db.create_collection("docs", dim=3, metric="l2")
    v = np.array([1, 2, 3], dtype=np.float32)
    col.insert("a", v)
    v[:] = 9  # changing the caller's array afterwards changes nothing stored
    got = col.get("a")[0]
    np.testing.assert_array_equal(got, [1, 2, 3])
    got[:] = 7  # nor does changing the returned array
    np.testing.assert_array_equal(col.get("a")[0], [1, 2, 3])


def test_unicode_ids(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    ids = ["ä", "a", "日本", "z", "😀", "A b/c"]
    for i, id_ in enumerate(ids):
        col.insert(id_, [i, 0])
    assert list(col.ids()) == sorted(ids)  # code-point order == UTF-8 byte order
    assert col.get("日本") is not None
    assert [h.id for h in col.search([5, 0], k=1)] == ["A b/c"]


def test_max_length_id_accepted(db):
    col = db.create_collection("docs", dim=2)
    col.insert("x" * 512, [1, 2])
    col.insert("é" * 256, [1, 2])  # 512 bytes of UTF-8
    assert len(col) == 2


# --------------------------------------------------------------------------------------------
# upsert
# --------------------------------------------------------------------------------------------


def test_upsert_numpy_lists_float64(db):
    col = db.create_collection("docs", dim=3, metric="l2")
    col.upsert(["a", "b"], np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32))
    col.upsert(("c", "d"), [[7, 8, 9], [10, 11, 12]])  # lists, ids as a tuple
    col.upsert(iter(["e"]), np.array([[0.5, 0.25, 0.125]], dtype=np.float64))
    col.upsert(["f"], np.array([[1, 1, 1]], dtype=np.int64))
    assert len(col) == 6
    np.testing.assert_array_equal(col.get("d")[0], [10, 11, 12])
    np.testing.assert_array_equal(col.get("e")[0], [0.5, 0.25, 0.125])
    assert all(col.get(i)[1] == {} for i in "abcdef")


def test_upsert_with_metadatas(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.upsert(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]], [{"x": 1}, None, {"y": [1, 2]}])
    assert [col.get(i)[1] for i in "abc"] == [{"x": 1}, {}, {"y": [1, 2]}]


def test_upsert_empty_batch_is_a_no_op(db):
    col = db.create_collection("docs", dim=2)
    col.upsert([], [])
    col.upsert([], np.zeros((0, 2), dtype=np.float32))
    assert len(col) == 0


def test_upsert_repeated_id_last_wins(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.upsert(
        ["a", "b", "a", "a"],
        [[1, 1], [2, 2], [3, 3], [4, 4]],
        [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}],
    )
    assert len(col) == 2
    assert list(col.ids()) == ["a", "b"]
    vec, meta = col.get("a")
    np.testing.assert_array_equal(vec, [4, 4])
    assert meta == {"n": 4}
    hits = col.search([4, 4], k=10)
    assert [h.id for h in hits] == ["a", "b"]
    assert hits[0].distance == 0.0


def test_upsert_replaces_existing(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.upsert(["a", "b"], [[1, 1], [2, 2]])
    col.upsert(["b", "c"], [[5, 5], [6, 6]], [{"b": 1}, {"c": 1}])
    assert len(col) == 3
    np.testing.assert_array_equal(col.get("b")[0], [5, 5])
    assert col.get("b")[1] == {"b": 1}


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda v: v.__setitem__((2, 1), np.nan), id="nan"),
        pytest.param(lambda v: v.__setitem__((2, 1), np.inf), id="inf"),
        pytest.param(lambda v: v.__setitem__(2, 0.0), id="zero-cosine"),
    ],
)
def test_upsert_is_atomic_on_a_bad_vector(db, bad):
    col = db.create_collection("docs", dim=2, metric="cosine")
    col.insert("keep", [1, 0], {"old": True})
    vectors = np.array([[1, 2], [3, 4], [5, 6], [7, 8]], dtype=np.float32)
    bad(vectors)
    with pytest.raises(InvalidArgumentError) as ei:
        col.upsert(["keep", "b", "c", "d"], vectors, [{"new": True}] * 4)
    assert "'c'" in str(ei.value)  # names the offending point
    assert len(col) == 1 and list(col.ids()) == ["keep"]
    vec, meta = col.get("keep")
    np.testing.assert_allclose(vec, [1, 0])
    assert meta == {"old": True}


def test_upsert_is_atomic_on_a_bad_id(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("keep", [1, 0])
    with pytest.raises(InvalidArgumentError, match="must not be empty"):
        col.upsert(["keep", "b", ""], [[9, 9], [1, 1], [2, 2]])
    with pytest.raises(InvalidArgumentError, match="too long"):
        col.upsert(["keep", "x" * 513], [[9, 9], [1, 1]])
    assert list(col.ids()) == ["keep"]
    np.testing.assert_array_equal(col.get("keep")[0], [1, 0])


def test_upsert_is_atomic_on_bad_metadata(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    with pytest.raises(InvalidArgumentError, match="JSON"):
        col.upsert(["a", "b"], [[1, 1], [2, 2]], [{"ok": 1}, {"bad": {1, 2}}])
    with pytest.raises(InvalidArgumentError, match="dict"):
        col.upsert(["a", "b"], [[1, 1], [2, 2]], [{"ok": 1}, "text"])
    assert len(col) == 0


def test_upsert_count_mismatches(db):
    col = db.create_collection("docs", dim=2)
    with raises(InvalidArgumentError, ValueError, r"got 2 ids and 1 vectors"):
        col.upsert(["a", "b"], [[1, 2]])
    with raises(InvalidArgumentError, ValueError, r"got 1 metadatas for 2 ids"):
        col.upsert(["a", "b"], [[1, 2], [3, 4]], [{}])
    with raises(InvalidArgumentError, ValueError, r"\(n, dim\)"):
        col.upsert(["a"], [1, 2])  # one 1-d vector is not a batch
    assert len(col) == 0


# --------------------------------------------------------------------------------------------
# update / delete / count / ids
# --------------------------------------------------------------------------------------------


def test_update_vector_only_keeps_metadata(db, metric):
    col = db.create_collection("docs", dim=3, metric=metric)
    col.insert("a", [1, 0, 0], {"keep": "me"})
    col.insert("b", [0, 1, 0])
    assert col.update("a", vector=[0, 0, 2]) is True
    vec, meta = col.get("a")
    np.testing.assert_allclose(vec, stored_vector([0, 0, 2], metric))
    assert meta == {"keep": "me"}
    top = col.search([0, 0, 1], k=1)[0]
    assert (top.id, top.metadata) == ("a", {"keep": "me"})
    assert len(col) == 2


def test_update_metadata_only_keeps_vector(db):
    col = db.create_collection("docs", dim=3, metric="l2")
    col.insert("a", [1, 2, 3], {"v": 1})
    assert col.update("a", metadata={"v": 2, "extra": [1]}) is True
    vec, meta = col.get("a")
    np.testing.assert_array_equal(vec, [1, 2, 3])
    assert meta == {"v": 2, "extra": [1]}  # replaced, not merged
    assert col.search([1, 2, 3], k=1)[0].metadata == meta
    assert col.update("a", metadata={}) is True  # {} clears
    assert col.get("a")[1] == {}


def test_update_both_and_neither(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("a", [1, 2], {"v": 1})
    assert col.update("a", [3, 4], {"v": 2}) is True
    vec, meta = col.get("a")
    np.testing.assert_array_equal(vec, [3, 4])
    assert meta == {"v": 2}
    assert col.update("a") is True  # nothing to change, but the point exists
    np.testing.assert_array_equal(col.get("a")[0], [3, 4])
    assert col.get("a")[1] == {"v": 2}


def test_update_missing_id_returns_false_and_creates_nothing(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("a", [1, 2])
    assert col.update("nope", vector=[1, 1]) is False
    assert col.update("nope", metadata={"x": 1}) is False
    assert col.update("nope") is False
    assert col.get("nope") is None
    assert len(col) == 1 and list(col.ids()) == ["a"]
    col.delete("a")
    assert col.update("a", vector=[5, 5]) is False  # deleted points are absent
    assert col.get("a") is None


def test_delete(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.upsert(["a", "b", "c"], [[0, 0], [1, 1], [2, 2]])
    assert col.delete("b") is True
    assert col.delete("b") is False
    assert col.delete("never") is False
    assert col.get("b") is None
    assert [h.id for h in col.search([1, 1], k=10)] in (["a", "c"], ["c", "a"])
    assert list(col.ids()) == ["a", "c"]
    assert len(col) == 2
    col.insert("b", [7, 7])  # can come back
    np.testing.assert_array_equal(col.get("b")[0], [7, 7])
    assert len(col) == 3


def test_delete_many_counts_existing(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.upsert([f"p{i}" for i in range(10)], [[i, i] for i in range(10)])
    assert col.delete_many(["p1", "p3", "nope", "p5"]) == 3
    assert col.delete_many(["p1", "nope"]) == 0
    assert col.delete_many([]) == 0
    assert col.delete_many(["p7", "p7"]) == 1  # one point, deleted once
    assert col.delete_many(iter(["p8"])) == 1  # any iterable
    assert list(col.ids()) == ["p0", "p2", "p4", "p6", "p9"]
    assert len(col) == col.count() == 5


def test_delete_many_is_atomic(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.upsert(["a", "b"], [[0, 0], [1, 1]])
    with pytest.raises(InvalidArgumentError):
        col.delete_many(["a", ""])
    assert list(col.ids()) == ["a", "b"]


def test_len_and_count(db):
    col = db.create_collection("docs", dim=2)
    assert len(col) == col.count() == 0
    col.upsert([f"p{i}" for i in range(25)], np.ones((25, 2)))
    assert len(col) == col.count() == 25
    col.insert("p0", [1, 2])  # replace: no change
    assert len(col) == 25
    col.delete_many(["p1", "p2"])
    assert len(col) == col.count() == 23
    assert isinstance(col.count(), int)


@pytest.mark.parametrize(
    "n,page_size", [(0, 3), (1, 1), (10, 3), (12, 3), (25, 1), (57, 10), (57, 1000)]
)
def test_ids_scroll_pages(db, n, page_size):
    col = db.create_collection("docs", dim=2)
    rng = np.random.default_rng(n)
    ids = [f"id-{i:03d}-{rng.integers(1000)}" for i in rng.permutation(n)]
    if n:
        col.upsert(ids, np.ones((n, 2)))
    got = list(col.ids(page_size=page_size))
    assert got == sorted(ids)


def test_ids_default_page_size_and_generator(db):
    col = db.create_collection("docs", dim=2)
    col.upsert([f"{i:05d}" for i in range(2500)], np.ones((2500, 2)))  # > one default page
    it = col.ids()
    assert iter(it) is it
    assert list(it) == [f"{i:05d}" for i in range(2500)]
    with pytest.raises(InvalidArgumentError, match=r"page_size must be 1 or more, got 0"):
        col.ids(page_size=0)


def test_ids_skips_deleted_across_pages(db):
    col = db.create_collection("docs", dim=2)
    col.upsert([f"{i:02d}" for i in range(30)], np.ones((30, 2)))
    col.delete_many([f"{i:02d}" for i in range(0, 30, 2)])
    assert list(col.ids(page_size=4)) == [f"{i:02d}" for i in range(1, 30, 2)]


# --------------------------------------------------------------------------------------------
# After drop / after close
# --------------------------------------------------------------------------------------------

POINT_CALLS = {
    "insert": lambda c: c.insert("x", [1, 2]),
    "upsert": lambda c: c.upsert(["x"], [[1, 2]]),
    "search": lambda c: c.search([1, 2]),
    "search_batch": lambda c: c.search_batch([[1, 2]]),
    "get": lambda c: c.get("a"),
    "get_many": lambda c: c.get_many(["a"]),
    "update": lambda c: c.update("a", metadata={}),
    "delete": lambda c: c.delete("a"),
    "delete_many": lambda c: c.delete_many(["a"]),
    "ids": lambda c: list(c.ids()),
    "flush": lambda c: c.flush(),
    "compact": lambda c: c.compact(),
    "info": lambda c: c.info(),
    "count": lambda c: c.count(),
    "count filter": lambda c: c.count({"a": 1}),
    "get_where": lambda c: c.get_where({}),
    "delete filter": lambda c: c.delete_many(filter={}),
    "create_index": lambda c: c.create_index("a", "int"),
    "drop_index": lambda c: c.drop_index("a"),
    "list_indexes": lambda c: c.list_indexes(),
}


@pytest.mark.parametrize("call", POINT_CALLS.values(), ids=POINT_CALLS.keys())
def test_operations_after_drop(db, call):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("a", [1, 2])
    db.drop_collection("docs")
    with raises(ClosedError, RuntimeError, r"collection 'docs' was dropped") as ei:
        call(col)
    check_error(ei, RuntimeError)


@pytest.mark.parametrize("call", POINT_CALLS.values(), ids=POINT_CALLS.keys())
def test_operations_after_close(call):
    db = nearstore.open()
    col = db.create_collection("docs", dim=2, metric="l2")
    col.insert("a", [1, 2])
    db.close()
    with raises(ClosedError, RuntimeError, r"collection 'docs' belongs to a closed database"):
        call(col)


def test_handle_of_dropped_collection_stays_dropped_after_recreate(db):
    old = db.create_collection("docs", dim=2, metric="l2")
    old.insert("a", [1, 2])
    db.drop_collection("docs")
    new = db.create_collection("docs", dim=2, metric="l2")
    new.insert("b", [3, 4])
    with pytest.raises(ClosedError):
        old.search([1, 2])
    assert list(new.ids()) == ["b"]


@pytest.mark.parametrize(
    "call",
    [
        lambda db: db.create_collection("x", dim=2),
        lambda db: db.get_collection("docs"),
        lambda db: db.get_or_create_collection("docs", dim=2),
        lambda db: db.drop_collection("docs"),
    ],
    ids=["create", "get", "get_or_create", "drop"],
)
def test_database_operations_after_close(tmp_path, call):
    db = nearstore.open(tmp_path / "db")
    db.create_collection("docs", dim=2)
    db.close()
    with raises(ClosedError, RuntimeError, r"database '.*' is closed"):
        call(db)


def test_count_after_drop_raises(db):
    col = db.create_collection("docs", dim=2)
    col.insert("a", [1, 2])
    db.drop_collection("docs")
    with pytest.raises(ClosedError):
        len(col)


def test_list_collections_after_close_raises():
    db = nearstore.open()
    db.create_collection("docs", dim=2)
    db.close()
    with pytest.raises(ClosedError):
        db.list_collections()


def test_error_hierarchy():
    assert issubclass(nearstore.InvalidArgumentError, ValueError)
    assert issubclass(nearstore.NotFoundError, KeyError)
    assert issubclass(nearstore.AlreadyExistsError, ValueError)
    for cls in (nearstore.BusyError, nearstore.StorageError, nearstore.CorruptionError):
        assert issubclass(cls, OSError)
    assert issubclass(nearstore.ClosedError, RuntimeError)
    assert issubclass(nearstore.InternalError, RuntimeError)
    for name in nearstore.__all__:
        obj = getattr(nearstore, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, nearstore.Error)


def test_metadata_round_trips_as_json(db):
    col = db.create_collection("docs", dim=2)
    meta = {
        "s": 'quote" back\\slash \n newline \u0000 nul',
        "u": "日本 😀",
        "big": 2**53,
        "neg": -1.25e-7,
        "list": [],
        "obj": {},
        "t": True,
        "n": None,
    }
    col.insert("a", [1, 2], meta)
    assert col.get("a")[1] == meta
    assert col.search([1, 2], k=1)[0].metadata == meta
    assert json.loads(json.dumps(col.get("a")[1])) == meta


def test_engine_message_is_the_exception_message(db):
    col = db.create_collection("docs", dim=4)
    try:
        col.search([1, 2, 3])
    except ValueError as e:  # ordinary Python handling works
        assert re.search(r"expects 4, got 3", str(e))
        assert e.args and isinstance(e.args[0], str)
    else:
        pytest.fail("no error")


def test_every_engine_status_code_has_its_class_by_name():
    """The binding hands a status code over by name; errors.BY_CODE_NAME, the one table both
    faces raise through, has a class for each."""
    from nearstore import _core, errors

    names = _core._status_code_names()
    assert names == ["InvalidArgument", "NotFound", "AlreadyExists", "Corruption", "IOError",
                     "Busy", "FailedPrecondition", "Internal"]
    assert all(issubclass(errors.BY_CODE_NAME[n], nearstore.Error) for n in names)
    assert errors.BY_CODE_NAME["FailedPrecondition"] is nearstore.ClosedError
