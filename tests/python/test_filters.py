"""The filter language (docs/FILTERS.md): the engine's evaluator against the pure-Python
reference (filter_reference.py) on filters and documents that hypothesis generates, and bad
filters refused with the path to the fault."""

from __future__ import annotations

import json

import nearstore
import pytest
from filter_reference import matches as reference_matches
from hypothesis import given, settings
from hypothesis import strategies as st

FIELDS = ["a", "b", "tags", "n.x", "n.y"]
scalars = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5, 2.0]),
    st.sampled_from(["x", "y", "2"]),
    st.booleans(),
)
values = st.one_of(scalars, st.none(), st.lists(scalars, max_size=3))
documents = st.fixed_dictionaries(
    {},
    optional={
        "a": values,
        "b": values,
        "tags": values,
        "n": st.one_of(values, st.fixed_dictionaries({}, optional={"x": values, "y": values})),
    },
)

numbers = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, -1.5, 2.0]))
conditions = st.one_of(
    scalars,  # equality
    st.tuples(st.sampled_from(["$eq", "$ne", "$contains"]), scalars),
    st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), numbers),
    st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(scalars, max_size=3)),
    st.tuples(st.just("$exists"), st.booleans()),
).map(lambda c: {c[0]: c[1]} if isinstance(c, tuple) else c)
field_filters = st.dictionaries(st.sampled_from(FIELDS), conditions, min_size=0, max_size=3)


def _combine(children):
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda fs: {"$and": fs}),
        st.lists(children, min_size=1, max_size=3).map(lambda fs: {"$or": fs}),
        children.map(lambda f: {"$not": f}),
    )


filters = st.recursive(field_filters, _combine, max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(filters, st.lists(documents, min_size=1, max_size=8))
def test_engine_agrees_with_the_reference(flt, docs):
    compiled = nearstore.Filter(flt)
    for doc in docs:
        assert compiled.matches(doc) == reference_matches(flt, doc), (flt, doc)


def test_filter_text_and_dict_are_the_same():
    text = '{"a": {"$gte": 2}, "$or": [{"tags": {"$contains": "x"}}, {"b": false}]}'
    doc = {"a": 3, "tags": ["x"]}
    assert nearstore.Filter(text).matches(doc) == nearstore.Filter(json.loads(text)).matches(doc)
    assert nearstore.Filter(text).matches(doc)
    assert not nearstore.Filter(text).matches({"a": "3", "tags": ["x"]})  # typed
    assert nearstore.Filter({}).matches(None)


@pytest.mark.parametrize(
    "flt, message",
    [
        ({"year": {"$between": [1, 2]}}, "filter at year.$between: unknown operator"),
        ({"tag": {"$in": "a"}}, "filter at tag.$in: $in expects a list"),
        ({"year": {"$gt": "2024"}}, 'filter at year.$gt: $gt expects a number, got "2024"'),
        ({"$or": [{"a": 1}, {"b": {"$lt": None}}]}, "filter at $or[1].b.$lt"),
        ("{not json", "filter is not valid JSON"),
    ],
)
def test_bad_filters_are_refused(flt, message):
    with pytest.raises(nearstore.InvalidArgumentError) as err:
        nearstore.Filter(flt)
    assert message in str(err.value)
