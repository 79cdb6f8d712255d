"""Hypothesis strategies for the filter tests: documents whose fields hold every kind of value
(often missing, sometimes nested, arrays of values and of documents), and filters over those
fields and over point ids using every operator."""

from __future__ import annotations

from hypothesis import strategies as st

FIELDS = ["a", "b", "tags", "n.x", "n.y"]
scalars = st.one_of(
    st.integers(-3, 3),
    st.sampled_from([0.5, -1.5, 2.0]),
    st.sampled_from(["x", "y", "2"]),
    st.booleans(),
)
elements = st.fixed_dictionaries({}, optional={"x": scalars, "y": scalars})
values = st.one_of(
    scalars,
    st.none(),
    st.lists(st.one_of(scalars, st.none()), max_size=3),
    st.lists(elements, max_size=2),
)
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
operands = st.one_of(scalars, st.none())
value_conditions = st.one_of(
    st.tuples(st.sampled_from(["$eq", "$ne", "$contains"]), operands),
    st.tuples(st.sampled_from(["$gt", "$gte", "$lt", "$lte"]), numbers),
    st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(operands, max_size=3)),
    st.tuples(st.just("$exists"), st.booleans()),
    st.tuples(st.just("$size"), st.integers(0, 3)),
)
conditions = st.one_of(
    operands,  # equality
    value_conditions,
    # $elemMatch on the elements as values, and on elements that are documents.
    st.lists(value_conditions, min_size=1, max_size=2).map(
        lambda cs: ("$elemMatch", {op: x for op, x in cs})
    ),
    st.dictionaries(st.sampled_from(["x", "y"]), operands, min_size=1, max_size=2).map(
        lambda f: ("$elemMatch", f)
    ),
).map(lambda c: {c[0]: c[1]} if isinstance(c, tuple) else c)
IDS = ["id0", "id1", "id2"]  # ids that $id conditions name (test_state_machine writes them)
id_conditions = st.one_of(
    st.sampled_from(IDS),
    st.tuples(st.sampled_from(["$eq", "$ne"]), st.sampled_from(IDS)).map(lambda c: {c[0]: c[1]}),
    st.tuples(st.sampled_from(["$in", "$nin"]), st.lists(st.sampled_from(IDS), max_size=2)).map(
        lambda c: {c[0]: c[1]}
    ),
)
field_filters = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), conditions, min_size=0, max_size=3),
    id_conditions.map(lambda c: {"$id": c}),
)


def _combine(children):
    return st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda fs: {"$and": fs}),
        st.lists(children, min_size=1, max_size=3).map(lambda fs: {"$or": fs}),
        children.map(lambda f: {"$not": f}),
    )


filters = st.recursive(field_filters, _combine, max_leaves=8)
