"""Every refused input: the exception class, its built-in base, and a message that says what was
wrong."""

from __future__ import annotations

import numpy as np
import pytest
from brute_force import stored_vector
from error_checks import check_error, raises

from nearstore import (
    InvalidArgumentError,
)

METRICS = ["cosine", "l2", "dot"]


# --------------------------------------------------------------------------------------------
# Input validation errors
# --------------------------------------------------------------------------------------------

DIM_MSG = r"dimension mismatch: collection 'docs' expects 4, got (vectors of |queries of )?3"


def test_wrong_dimension_everywhere(db, metric):
    col = db.create_collection("docs", dim=4, metric=metric)
    col.insert("a", [1, 2, 3, 4])
    for call in [
        lambda: col.insert("b", [1, 2, 3]),
        lambda: col.upsert(["b", "c"], [[1, 2, 3], [4, 5, 6]]),
        lambda: col.search([1, 2, 3]),
        lambda: col.search_batch([[1, 2, 3]]),
        lambda: col.update("a", vector=[1, 2, 3]),
    ]:
        with raises(InvalidArgumentError, ValueError, DIM_MSG) as ei:
            call()
        check_error(ei, ValueError)
    with raises(InvalidArgumentError, ValueError, r"expects 4, got (vectors of )?5"):
        col.insert("b", [1, 2, 3, 4, 5])
    assert list(col.ids()) == ["a"]
    np.testing.assert_allclose(col.get("a")[0], stored_vector([1, 2, 3, 4], metric))


@pytest.mark.parametrize(
    "value,word", [(float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "inf")]
)
def test_non_finite_values(db, metric, value, word):
    col = db.create_collection("docs", dim=3, metric=metric)
    col.insert("a", [1, 1, 1])
    bad = [1.0, value, 2.0]
    pat = rf"non-finite value \(-?{word}\) at index 1"
    with raises(InvalidArgumentError, ValueError, r"'b'.*" + pat):
        col.insert("b", bad)
    with raises(InvalidArgumentError, ValueError, pat):
        col.upsert(["b"], [bad])
    with raises(InvalidArgumentError, ValueError, r"query.*" + pat):
        col.search(bad)
    with raises(InvalidArgumentError, ValueError, pat):
        col.search_batch([[1, 1, 1], bad])
    with raises(InvalidArgumentError, ValueError, r"'a'.*" + pat):
        col.update("a", vector=bad)
    assert list(col.ids()) == ["a"]


def test_zero_vector_in_cosine(db):
    col = db.create_collection("docs", dim=3, metric="cosine")
    col.insert("a", [1, 0, 0])
    with raises(InvalidArgumentError, ValueError, r"'b' has zero norm; cosine"):
        col.insert("b", [0, 0, 0])
    with raises(InvalidArgumentError, ValueError, r"zero norm"):
        col.upsert(["b"], [[0, 0, 0]])
    with raises(InvalidArgumentError, ValueError, r"query has zero norm"):
        col.search([0, 0, 0])
    with raises(InvalidArgumentError, ValueError, r"zero norm"):
        col.search_batch([[0, 0, 0]])
    with raises(InvalidArgumentError, ValueError, r"'a' has zero norm"):
        col.update("a", vector=[0, 0, 0])
    np.testing.assert_array_equal(col.get("a")[0], [1, 0, 0])


@pytest.mark.parametrize("metric_", ["l2", "dot"])
def test_zero_vector_allowed_for_l2_and_dot(db, metric_):
    col = db.create_collection("docs", dim=3, metric=metric_)
    col.insert("z", [0, 0, 0])
    col.insert("a", [1, 0, 0])
    assert len(col.search([0, 0, 0], k=2)) == 2


def test_empty_id(db):
    col = db.create_collection("docs", dim=2)
    col.insert("a", [1, 2])
    for call in [
        lambda: col.insert("", [1, 2]),
        lambda: col.upsert([""], [[1, 2]]),
        lambda: col.update("", metadata={"a": 1}),
        lambda: col.get(""),
        lambda: col.delete(""),
    ]:
        with raises(InvalidArgumentError, ValueError, "point id must not be empty"):
            call()
    assert len(col) == 1


@pytest.mark.parametrize("long_id,nbytes", [("x" * 513, 513), ("é" * 257, 514)])
def test_over_long_id(db, long_id, nbytes):
    col = db.create_collection("docs", dim=2)
    pat = rf"point id of {nbytes} bytes is too long; the limit is 512 bytes"
    for call in [
        lambda: col.insert(long_id, [1, 2]),
        lambda: col.upsert([long_id], [[1, 2]]),
        lambda: col.update(long_id, metadata={}),
        lambda: col.get(long_id),
        lambda: col.delete_many(["ok", long_id]),
    ]:
        with raises(InvalidArgumentError, ValueError, pat):
            call()
    assert len(col) == 0


@pytest.mark.parametrize(
    "meta,tname", [([1, 2], "list"), ("text", "str"), (3, "int"), (("a",), "tuple")]
)
def test_metadata_not_a_dict(db, meta, tname):
    col = db.create_collection("docs", dim=2)
    col.insert("a", [1, 2], {"orig": 1})
    pat = rf"metadata must be a dict \(a JSON object\), got {tname}"
    with raises(InvalidArgumentError, ValueError, pat):
        col.insert("b", [1, 2], meta)
    with raises(InvalidArgumentError, ValueError, pat):
        col.upsert(["b"], [[1, 2]], [meta])
    with raises(InvalidArgumentError, ValueError, pat):
        col.update("a", metadata=meta)
    assert len(col) == 1 and col.get("a")[1] == {"orig": 1}


@pytest.mark.parametrize(
    "meta",
    [{"o": object()}, {"s": {1, 2}}, {"f": float("nan")}, {"b": b"bytes"}, {"i": float("inf")}],
)
def test_metadata_not_json_serialisable(db, meta):
    col = db.create_collection("docs", dim=2)
    col.insert("a", [1, 2], {"orig": 1})
    with raises(InvalidArgumentError, ValueError, "metadata is not JSON-serialisable"):
        col.insert("b", [1, 2], meta)
    with raises(InvalidArgumentError, ValueError, "metadata is not JSON-serialisable"):
        col.upsert(["b"], [[1, 2]], [meta])
    with raises(InvalidArgumentError, ValueError, "metadata is not JSON-serialisable"):
        col.update("a", metadata=meta)
    assert len(col) == 1 and col.get("a")[1] == {"orig": 1}


@pytest.mark.parametrize("k", [0, -1, 100001])
def test_bad_k(db, k):
    col = db.create_collection("docs", dim=2)
    col.insert("a", [1, 2])
    with raises(InvalidArgumentError, ValueError, rf"k must be 1\.\.100000, got {k}"):
        col.search([1, 2], k=k)
    with raises(InvalidArgumentError, ValueError, rf"k must be 1\.\.100000, got {k}"):
        col.search_batch([[1, 2], [2, 1]], k=k)


def test_bad_k_on_an_empty_collection(db):
    col = db.create_collection("docs", dim=2)
    with pytest.raises(InvalidArgumentError, match="k must be"):
        col.search([1, 2], k=0)


def test_wrong_shapes(db):
    col = db.create_collection("docs", dim=2)
    with raises(InvalidArgumentError, ValueError, r"one vector \(1-d\).*\(1, 2\)"):
        col.search([[1, 2]])
    with raises(InvalidArgumentError, ValueError, r"one vector \(1-d\)"):
        col.insert("a", [[1, 2]])
    with raises(InvalidArgumentError, ValueError, r"\(n, dim\)"):
        col.search_batch([1, 2])
    with raises(InvalidArgumentError, ValueError, r"\(n, dim\)"):
        col.search_batch(np.zeros((1, 2, 2)))
