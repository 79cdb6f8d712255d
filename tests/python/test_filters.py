"""The filter language (docs/FILTERS.md): the engine's evaluator against the pure-Python
reference (filter_reference.py) on filters and documents that hypothesis generates, and bad
filters refused with the path to the fault."""

from __future__ import annotations

import json

import pytest
from filter_reference import matches as reference_matches
from filter_strategies import IDS, documents, filters
from hypothesis import given, settings
from hypothesis import strategies as st

import nearstore


@settings(max_examples=400, deadline=None)
@given(
    filters,
    st.lists(st.tuples(documents, st.sampled_from([*IDS, "other"])), min_size=1, max_size=8),
)
def test_engine_agrees_with_the_reference(flt, points):
    compiled = nearstore.Filter(flt)
    for doc, point_id in points:
        assert compiled.matches(doc, point_id) == reference_matches(flt, doc, point_id), (flt, doc)


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
