"""Every argument of the public API is checked before it reaches the engine or the network, on
both faces (the `db` fixture): a wrong type raises InvalidTypeError (an InvalidArgumentError
and a TypeError), a wrong value InvalidArgumentError (a ValueError), each naming the argument
and the value; never a raw TypeError, OverflowError or UnicodeEncodeError from the binding or
the HTTP client, and never a silent conversion (a bool as an integer, a str as a list of ids,
a complex vector as its real part)."""

from __future__ import annotations

import gc
from decimal import Decimal

import numpy as np
import pytest
from error_checks import check_error, raises
from hypothesis import given, settings
from hypothesis import strategies as st

import nearstore
from nearstore import ClosedError, InvalidArgumentError, InvalidTypeError

INT32 = (-(2**31), 2**31 - 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1)


def _collection(db):
    col = db.create_collection("docs", dim=2, metric="l2")
    col.upsert(["a", "b"], [[1, 2], [3, 4]], [{"n": 1}, {"n": 2}])
    return col


# Each integer argument: (name, its width, a call that passes `v` as it).
INTEGER_ARGUMENTS = {
    "search k": ("k", INT32, lambda db, col, v: col.search([1, 2], k=v)),
    "search_batch k": ("k", INT32, lambda db, col, v: col.search_batch([[1, 2]], k=v)),
    "search ef": ("ef", UINT32, lambda db, col, v: col.search([1, 2], ef=v)),
    "search_batch ef": ("ef", UINT32, lambda db, col, v: col.search_batch([[1, 2]], ef=v)),
    "search rerank": ("rerank", UINT32, lambda db, col, v: col.search([1, 2], rerank=v)),
    "search_batch rerank": (
        "rerank", UINT32, lambda db, col, v: col.search_batch([[1, 2]], rerank=v)),
    "create dim": ("dim", UINT32, lambda db, col, v: db.create_collection("n", dim=v)),
    "create m": ("m", UINT32, lambda db, col, v: db.create_collection("n", 2, index="hnsw", m=v)),
    "create ef_construction": (
        "ef_construction", UINT32,
        lambda db, col, v: db.create_collection("n", 2, index="hnsw", ef_construction=v)),
    "create ef_search": (
        "ef_search", UINT32,
        lambda db, col, v: db.create_collection("n", 2, index="hnsw", ef_search=v)),
    "create rerank": (
        "rerank", UINT32,
        lambda db, col, v: db.create_collection("n", 2, index="hnsw", quantization="sq8",
                                                rerank=v)),
    "get_or_create dim": ("dim", UINT32, lambda db, col, v: db.get_or_create_collection("docs", v)),
    "get_or_create m": (
        "m", UINT32, lambda db, col, v: db.get_or_create_collection("docs", 2, "l2", m=v)),
    "get_where limit": ("limit", UINT64, lambda db, col, v: col.get_where({}, limit=v)),
    "ids page_size": ("page_size", UINT64, lambda db, col, v: col.ids(page_size=v)),
}

NOT_INTEGERS = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.just(np.float64(2.0)),
    st.just(np.bool_(True)),
    st.just(2 + 0j),
    st.just(Decimal(3)),
    st.lists(st.integers(0, 3), max_size=2),
    st.binary(max_size=2),
)


@pytest.mark.parametrize("case", INTEGER_ARGUMENTS.values(), ids=INTEGER_ARGUMENTS.keys())
def test_integer_arguments_refuse_every_other_type(db, case):
    name, _, call = case
    col = _collection(db)

    @settings(max_examples=25, deadline=None)
    @given(value=NOT_INTEGERS)
    def check(value):
        with raises(InvalidTypeError, TypeError, rf"^{name} must be an integer.*got ") as ei:
            call(db, col, value)
        check_error(ei, ValueError)  # also an InvalidArgumentError, so a ValueError

    check()
    assert db.list_collections() == ["docs"] and len(col) == 2


@pytest.mark.parametrize("case", INTEGER_ARGUMENTS.values(), ids=INTEGER_ARGUMENTS.keys())
def test_integer_arguments_outside_the_engines_width_are_named(db, case):
    name, (lo, hi), call = case
    col = _collection(db)

    @settings(max_examples=20, deadline=None)
    @given(value=st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1)))
    def check(value):
        with raises(InvalidArgumentError, ValueError, rf"^{name} must be .*, got {value}$"):
            call(db, col, value)

    check()
    assert db.list_collections() == ["docs"] and len(col) == 2


def test_numpy_integers_are_integers(db):
    col = _collection(db)
    assert [h.id for h in col.search([1, 2], k=np.int64(1), ef=np.uint32(0))] == ["a"]
    assert len(col.get_where({}, limit=np.int8(1))) == 1
    assert db.create_collection("n", dim=np.int32(3)).dim == 3


def test_the_issues_integer_cases(db):
    col = _collection(db)
    with raises(InvalidArgumentError, ValueError, r"^k must be at most 2147483647, got 2147483648"):
        col.search([1, 2], k=2**31)
    with raises(InvalidTypeError, TypeError, r"^k must be an integer, got float 1.5"):
        col.search([1, 2], k=1.5)
    with raises(InvalidTypeError, TypeError, r"^k must be an integer, got bool True"):
        col.search([1, 2], k=True)  # was taken as k=1
    with raises(InvalidArgumentError, ValueError, r"^dim must be 0 or more, got -1"):
        db.create_collection("n", dim=-1)
    with raises(InvalidArgumentError, ValueError, r"^page_size must be 1 or more, got -1"):
        col.ids(page_size=-1)  # refused at the call, not at the first next()
    with raises(InvalidArgumentError, ValueError, r"^limit must be 0 or more .*, got -1"):
        col.get_where({}, limit=-1)  # was []
    assert col.get_where({}, limit=0) == []


# Each call taking one id.
ID_CALLS = {
    "insert": lambda col, i: col.insert(i, [1, 2]),
    "get": lambda col, i: col.get(i),
    "update": lambda col, i: col.update(i, metadata={}),
    "delete": lambda col, i: col.delete(i),
}
# Each call taking a list of ids.
ID_LIST_CALLS = {
    "upsert": lambda col, ids: col.upsert(ids, np.ones((3, 2))),
    "get_many": lambda col, ids: col.get_many(ids),
    "delete_many": lambda col, ids: col.delete_many(ids),
}

NOT_TEXT = st.one_of(
    st.integers(), st.floats(), st.none(), st.binary(max_size=3), st.booleans(),
    st.lists(st.text(max_size=2), max_size=2),
)
# Text with a lone surrogate somewhere: it has no UTF-8 form.
SURROGATE_TEXT = st.builds(
    lambda a, s, b: a + s + b,
    st.text(max_size=4),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.text(max_size=4),
)


@pytest.mark.parametrize("call", ID_CALLS.values(), ids=ID_CALLS.keys())
def test_an_id_is_a_str_of_valid_unicode(db, call):
    col = _collection(db)

    @settings(max_examples=20, deadline=None)
    @given(value=NOT_TEXT)
    def not_text(value):
        with raises(InvalidTypeError, TypeError, r"^id must be a str, got "):
            call(col, value)

    @settings(max_examples=20, deadline=None)
    @given(value=SURROGATE_TEXT)
    def surrogate(value):
        with raises(InvalidArgumentError, ValueError, r"^id .* is not valid Unicode text: a lone "
                    r"surrogate U\+D[89A-F][0-9A-F]{2} at index \d+"):
            call(col, value)

    not_text()
    surrogate()
    assert sorted(col.ids()) == ["a", "b"]


@pytest.mark.parametrize("call", ID_LIST_CALLS.values(), ids=ID_LIST_CALLS.keys())
def test_ids_are_a_list_of_str_of_valid_unicode(db, call):
    col = _collection(db)
    with raises(InvalidTypeError, TypeError, r"^ids must be a list of str ids, got a single str "
                r"'abcd'; for one id pass \['abcd'\]"):
        call(col, "abcd")  # was four ids: 'a', 'b', 'c', 'd'
    with raises(InvalidTypeError, TypeError, r"^ids must be a list of str ids, got a single bytes"):
        call(col, b"ab")
    with raises(InvalidTypeError, TypeError, r"^ids must be a list of str ids, got int 5"):
        call(col, 5)

    @settings(max_examples=20, deadline=None)
    @given(value=NOT_TEXT, at=st.integers(0, 2))
    def not_text(value, at):
        ids = ["x", "y"]
        ids.insert(at, value)
        with raises(InvalidTypeError, TypeError, rf"^ids\[{at}\] must be a str, got "):
            call(col, ids)

    @settings(max_examples=20, deadline=None)
    @given(value=SURROGATE_TEXT, at=st.integers(0, 2))
    def surrogate(value, at):
        ids = ["x", "y"]
        ids.insert(at, value)
        with raises(InvalidArgumentError, ValueError,
                    rf"^ids\[{at}\] .* is not valid Unicode text: a lone surrogate"):
            call(col, ids)

    not_text()
    surrogate()
    assert sorted(col.ids()) == ["a", "b"]
    call(col, np.array(["a", "b", "c"]))  # numpy's str is a str


# Each call taking vectors: (the argument's name, a call that passes a 1-d array `a` as it).
ARRAY_CALLS = {
    "insert": ("vector", lambda col, a: col.insert("c", a)),
    "update": ("vector", lambda col, a: col.update("a", vector=a)),
    "search": ("vector", lambda col, a: col.search(a)),
    "upsert": ("vectors", lambda col, a: col.upsert(["c"], [a])),
    "search_batch": ("vectors", lambda col, a: col.search_batch([a])),
}
NOT_REAL = [
    (np.array([1 + 2j, 3]), "complex128"),
    (np.array([1, 2], dtype=np.complex64), "complex64"),
    (np.array([True, False]), "bool"),
    (np.array([1, None]), "object"),
    (np.array(["1", "2"]), "<U1"),
]


@pytest.mark.parametrize("case", ARRAY_CALLS.values(), ids=ARRAY_CALLS.keys())
@pytest.mark.parametrize("bad,dtype", NOT_REAL, ids=[d for _, d in NOT_REAL])
def test_vectors_hold_real_numbers(db, case, bad, dtype):
    name, call = case
    col = _collection(db)
    pattern = rf"^{name} must hold real numbers \(an integer or floating dtype\), got dtype "
    with raises(InvalidTypeError, TypeError, pattern + dtype):
        call(col, bad)  # a complex one lost its imaginary part silently
    with raises(InvalidTypeError, TypeError, pattern):
        call(col, bad.tolist())  # a list of them is no better
    assert col.get("a")[0].tolist() == [1, 2] and len(col) == 2


@pytest.mark.parametrize("case", ARRAY_CALLS.values(), ids=ARRAY_CALLS.keys())
def test_ragged_vectors_are_refused(db, case):
    name, call = case
    col = _collection(db)
    with raises(InvalidArgumentError, ValueError, rf"^{name} is not an array of numbers"):
        call(col, [[1, 2], [3]] if name == "vectors" else [1, [2, 3]])


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.int64, np.float16, np.float64])
def test_real_dtypes_are_taken(db, dtype):
    col = _collection(db)
    col.insert("c", np.array([5, 6], dtype=dtype))
    col.upsert(["d"], np.array([[7, 8]], dtype=dtype))
    assert col.get("c")[0].tolist() == [5, 6] and col.get("d")[0].tolist() == [7, 8]
    assert col.search(np.array([5, 6], dtype=dtype), k=1)[0].id == "c"


# Each text argument other than ids: (name, call).
TEXT_CALLS = {
    "create name": ("name", lambda db, col, v: db.create_collection(v, dim=2)),
    "get name": ("name", lambda db, col, v: db.get_collection(v)),
    "drop name": ("name", lambda db, col, v: db.drop_collection(v)),
    "get_or_create name": ("name", lambda db, col, v: db.get_or_create_collection(v, 2)),
    "metric": ("metric", lambda db, col, v: db.create_collection("n", 2, metric=v)),
    "index": ("index", lambda db, col, v: db.create_collection("n", 2, index=v)),
    "quantization": ("quantization", lambda db, col, v: db.create_collection("n", 2,
                                                                             quantization=v)),
    "create_index field": ("field", lambda db, col, v: col.create_index(v, "int")),
    "create_index kind": ("kind", lambda db, col, v: col.create_index("n", v)),
    "drop_index field": ("field", lambda db, col, v: col.drop_index(v)),
}


@pytest.mark.parametrize("case", TEXT_CALLS.values(), ids=TEXT_CALLS.keys())
def test_text_arguments_are_str_of_valid_unicode(db, case):
    name, call = case
    col = _collection(db)
    for value in (5, None, b"docs", ["docs"]):
        got = type(value).__name__
        with raises(InvalidTypeError, TypeError, rf"^{name} must be a str, got {got}"):
            call(db, col, value)
    with raises(InvalidArgumentError, ValueError, rf"^{name} 'd\\ud800' is not valid Unicode "
                r"text: a lone surrogate U\+D800 at index 1"):
        call(db, col, "d\ud800")
    assert db.list_collections() == ["docs"] and col.list_indexes() == {}


FILTER_CALLS = {
    "search": lambda col, f: col.search([1, 2], filter=f),
    "search_batch": lambda col, f: col.search_batch([[1, 2]], filter=f),
    "count": lambda col, f: col.count(f),
    "get_where": lambda col, f: col.get_where(f),
    "ids": lambda col, f: col.ids(filter=f),
    "delete_many": lambda col, f: col.delete_many(filter=f),
    "Filter": lambda col, f: nearstore.Filter(f),
}


@pytest.mark.parametrize("call", FILTER_CALLS.values(), ids=FILTER_CALLS.keys())
def test_filters_are_dicts_or_text_of_valid_unicode(db, call):
    col = _collection(db)
    for value in (5, b"{}", ["n"]):
        with raises(InvalidTypeError, TypeError, r"^a filter is a dict"):
            call(col, value)
    with raises(InvalidArgumentError, ValueError, r"^filter .* is not valid Unicode text"):
        call(col, '{"n": "\ud800"}')
    assert len(col) == 2


def test_filter_matches_checks_its_arguments():
    f = nearstore.Filter({"n": 1})
    with raises(InvalidTypeError, TypeError, r"^id must be a str, got int 5"):
        f.matches({"n": 1}, 5)
    with raises(InvalidTypeError, TypeError, r"^metadata must be a dict"):
        f.matches([1])
    assert f.matches({"n": 1}, "a") and not f.matches(None)


FLAG_CALLS = {
    "search with_metadata": ("with_metadata", lambda col, v: col.search([1, 2], with_metadata=v)),
    "search_batch with_metadata": (
        "with_metadata", lambda col, v: col.search_batch([[1, 2]], with_metadata=v)),
    "get_where with_vectors": ("with_vectors", lambda col, v: col.get_where({}, with_vectors=v)),
}


@pytest.mark.parametrize("case", FLAG_CALLS.values(), ids=FLAG_CALLS.keys())
def test_flags_are_true_or_false(db, case):
    name, call = case
    col = _collection(db)
    for value in (1, 0, "yes", "", None, [True]):
        with raises(InvalidTypeError, TypeError, rf"^{name} must be True or False, got "):
            call(col, value)
    assert call(col, np.bool_(False)) == call(col, False)


def test_metadata_with_a_lone_surrogate_is_refused(db):
    col = _collection(db)
    pattern = r"^metadata .* is not valid Unicode text: a lone surrogate U\+DC00"
    for call in (lambda: col.insert("c", [1, 2], {"t": "\udc00"}),
                 lambda: col.upsert(["c"], [[1, 2]], [{"\udc00": 1}]),
                 lambda: col.update("a", metadata={"t": ["x\udc00"]})):
        with raises(InvalidArgumentError, ValueError, pattern):
            call()
    assert col.get("a")[1] == {"n": 1} and len(col) == 2


def test_metadatas_is_one_per_id_not_a_single_dict(db):
    col = _collection(db)
    for value, tname in (({"n": 3}, "dict"), ("{}", "str"), (7, "int")):
        with raises(InvalidTypeError, TypeError, rf"^metadatas must be a list of dicts .*, got "
                    rf"{tname}"):
            col.upsert(["c"], [[1, 2]], value)
    assert len(col) == 2


def test_delete_many_without_arguments_says_what_it_needs(db):
    col = _collection(db)
    with raises(InvalidArgumentError, ValueError,
                r"^delete_many needs ids .* or filter= .*; got neither"):
        col.delete_many()  # said "not both"
    with raises(InvalidArgumentError, ValueError, r"either ids or filter=, not both"):
        col.delete_many(["a"], filter={})
    assert len(col) == 2


def test_info_after_drop_raises(db):
    col = _collection(db)
    db.drop_collection("docs")
    with raises(ClosedError, RuntimeError, r"collection 'docs' was dropped"):
        col.info()  # answered as if alive
    assert (col.name, col.dim, col.metric) == ("docs", 2, "l2")  # what it was stays readable


@pytest.mark.parametrize("name", ["", "a/b", "..", "x" * 129, "sp ace"])
@pytest.mark.parametrize("call", ["get_collection", "drop_collection"])
def test_a_name_no_collection_can_have_is_refused_as_such(db, name, call):
    """Both faces say the name is wrong (the server refused it in the path; in-process it was
    looked up and not found)."""
    with raises(InvalidArgumentError, ValueError, r"collection name"):
        getattr(db, call)(name)


def test_unknown_index_settings_are_named(db):
    with raises(InvalidArgumentError, ValueError, r"unknown collection settings \['ef'\]"):
        db.get_or_create_collection("docs", 2, ef=3)


# --------------------------------------------------------------------------------------------
# A collection keeps its database open
# --------------------------------------------------------------------------------------------


def test_a_collection_keeps_its_database_open(tmp_path):
    with nearstore.open(tmp_path / "db") as db:
        db.create_collection("docs", dim=2).insert("a", [1, 2])
    col = nearstore.open(tmp_path / "db").get_collection("docs")  # gave ClosedError
    gc.collect()
    assert [h.id for h in col.search([1, 2], k=1)] == ["a"]
    col.insert("b", [3, 4])
    assert nearstore.open().create_collection("m", dim=2).count() == 0  # in memory too
    del col
    gc.collect()  # the last reference gone, the database is closed and its lock released
    with nearstore.open(tmp_path / "db") as db:
        assert sorted(db.get_collection("docs").ids()) == ["a", "b"]


def test_close_still_closes_a_database_with_live_collections(tmp_path):
    db = nearstore.open(tmp_path / "db")
    col = db.create_collection("docs", dim=2)
    db.close()
    with raises(ClosedError, RuntimeError, r"belongs to a closed database"):
        col.insert("a", [1, 2])
    with nearstore.open(tmp_path / "db") as again:  # the lock was released by close()
        assert again.list_collections() == ["docs"]


def test_a_remote_collection_keeps_its_database_usable(remote_server):
    with nearstore.connect(remote_server.url) as db:
        db.create_collection("kept", dim=2).insert("a", [1, 2])
    try:
        col = nearstore.connect(remote_server.url).get_collection("kept")
        gc.collect()
        assert [h.id for h in col.search([1, 2], k=1)] == ["a"]
    finally:
        with nearstore.connect(remote_server.url) as db:
            db.drop_collection("kept")


# --------------------------------------------------------------------------------------------
# open and connect
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,cls,pattern",
    [
        ({"threads": 2**31}, InvalidArgumentError, r"^threads must be at most 2147483647 "
                                                   r"\(0: every core\), got 2147483648"),
        ({"threads": 1.0}, InvalidTypeError, r"^threads must be an integer"),
        ({"threads": True}, InvalidTypeError, r"^threads must be an integer"),
        ({"memtable_max_bytes": 2**64}, InvalidArgumentError, r"^memtable_max_bytes must be at "
                                                              r"most 18446744073709551615"),
        ({"memtable_max_bytes": 1.5}, InvalidTypeError, r"^memtable_max_bytes must be an integer"),
        ({"sync": "no"}, InvalidTypeError, r"^sync must be True or False, got str 'no'"),
        ({"sync": 0}, InvalidTypeError, r"^sync must be True or False, got int 0"),
        ({"path": 5}, InvalidTypeError, r"^path must be a str or os.PathLike"),
        ({"path": b"db"}, InvalidTypeError, r"^path must be a str or os.PathLike"),
        ({"path": "a\0b"}, InvalidArgumentError, r"^path may not hold a NUL character"),
        ({"path": "d\udc80"}, InvalidArgumentError, r"^path .* is not valid Unicode text"),
    ],
)
def test_open_checks_its_arguments(tmp_path, kwargs, cls, pattern):
    kwargs.setdefault("path", tmp_path / "db")
    with pytest.raises(cls, match=pattern) as ei:
        nearstore.open(**kwargs)
    check_error(ei, TypeError if cls is InvalidTypeError else ValueError)
    assert not (tmp_path / "db").exists()


@pytest.mark.parametrize(
    "kwargs,cls,pattern",
    [
        ({"url": 5}, InvalidTypeError, r"^url must be a str, got int 5"),
        ({"api_key": 5}, InvalidTypeError, r"^api_key must be a str, got int 5"),
        ({"api_key": "k\udc80"}, InvalidArgumentError, r"^api_key .* is not valid Unicode"),
        ({"api_key": "k€y"}, InvalidArgumentError, r"api-key header must be Latin-1 text"),
        ({"timeout": "5"}, InvalidTypeError, r"^timeout must be a number of seconds, got str"),
        ({"timeout": True}, InvalidTypeError, r"^timeout must be a number of seconds, got bool"),
        ({"timeout": 0}, InvalidArgumentError, r"^timeout must be a positive number"),
        ({"timeout": float("nan")}, InvalidArgumentError, r"^timeout must be a positive number"),
        ({"verify": 1}, InvalidTypeError, r"^verify must be True, False, a CA file's path"),
    ],
)
def test_connect_checks_its_arguments(kwargs, cls, pattern):
    kwargs.setdefault("url", "http://127.0.0.1:9")
    with pytest.raises(cls, match=pattern):
        nearstore.connect(**kwargs)


def test_invalid_type_error_is_both_a_value_and_a_type_error():
    assert issubclass(InvalidTypeError, InvalidArgumentError)
    assert issubclass(InvalidTypeError, TypeError) and issubclass(InvalidTypeError, ValueError)
    assert "InvalidTypeError" in nearstore.__all__
