"""Hypothesis strategies for the filter tests: documents whose fields hold every kind of value
(often missing, sometimes nested), and filters over those fields using every operator."""

from __future__ import annotations

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
