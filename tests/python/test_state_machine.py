"""A stateful property test: random interleavings of every write, read, reopen and maintenance
call, checked step by step against a plain dict + numpy brute-force model.

Hypothesis prints the falsifying sequence of steps (and, with print_blob, the
@reproduce_failure blob) when a run fails; failing examples are replayed from .hypothesis/.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np
import pytest
from brute_force import assert_hits_match, stored_vector
from filter_reference import matches as reference_matches
from filter_strategies import FIELDS, documents, filters
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

import nearstore
from nearstore import InvalidArgumentError

MAX_DIM = 8
IDS = [f"id{i}" for i in range(5)] + ["é", "Z", "a-b.c", "x" * 512]  # few: ids collide


# Small integers make exact ties (and identical points) common; the floats cover the rest.
components = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-100, 100, width=32, allow_subnormal=False),
)
raw_vectors = st.lists(components, min_size=MAX_DIM, max_size=MAX_DIM)
metadatas = st.one_of(
    st.none(),
    documents,  # the fields that filters read
    st.dictionaries(
        st.text(max_size=3),
        st.one_of(st.integers(-5, 5), st.text(max_size=4), st.booleans(), st.none()),
        max_size=2,
    ),
)
ids = st.sampled_from(IDS)

# The machine checks logic, not the disk (test_persistence.py does): on a RAM file system its
# many fsyncs cost nothing, which keeps the file well under a minute.
TMP_ROOT = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class NearstoreMachine(RuleBasedStateMachine):
    # ids written so far (maybe deleted since): reads, updates and deletes draw from them often
    written = Bundle("written")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="nearstore-sm-", dir=TMP_ROOT)
        self.db = None
        self.col = None
        self.model: dict[str, tuple[np.ndarray, dict]] = {}
        self.indexes: dict[str, str] = {}  # payload indexes: field -> kind

    # ---- helpers -----------------------------------------------------------------------

    def vec(self, raw):
        return np.asarray(raw[: self.dim], dtype=np.float32)

    def valid(self, v) -> bool:
        return not (self.metric == "cosine" and not np.any(v))

    def points(self):
        return {i: v for i, (v, _) in self.model.items()}

    def metas(self):
        return {i: m for i, (_, m) in self.model.items()}

    def check_point(self, id_, got):
        if id_ not in self.model:
            assert got is None, f"{id_!r} should be absent, got {got}"
            return
        assert got is not None, f"{id_!r} is missing"
        want_v, want_m = self.model[id_]
        vec, meta = got
        assert vec.dtype == np.float32 and vec.shape == (self.dim,)
        np.testing.assert_allclose(vec, want_v, rtol=1e-6, atol=1e-7)
        assert meta == want_m

    # ---- setup ---------------------------------------------------------------------------

    @initialize(
        dim=st.integers(3, MAX_DIM),
        metric=st.sampled_from(["cosine", "l2", "dot"]),
        sync=st.booleans(),
    )
    def open_db(self, dim, metric, sync):
        self.dim, self.metric, self.sync = dim, metric, sync
        self.db = nearstore.open(self.dir, sync=sync)
        self.col = self.db.create_collection("c", dim=dim, metric=metric)

    def teardown(self) -> None:
        if self.db is not None:
            self.db.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # ---- writes --------------------------------------------------------------------------

    @rule(target=written, id_=ids, raw=raw_vectors, meta=metadatas)
    def insert(self, id_, raw, meta):
        v = self.vec(raw)
        if not self.valid(v):
            with pytest.raises(InvalidArgumentError, match="zero norm"):
                self.col.insert(id_, v, meta)
            return multiple()
        self.col.insert(id_, v, meta)
        self.model[id_] = (stored_vector(v, self.metric), meta or {})
        return id_

    @rule(
        target=written,
        batch=st.lists(st.tuples(ids, raw_vectors, metadatas), max_size=6),
        as_lists=st.booleans(),
    )
    def upsert(self, batch, as_lists):
        vecs = [self.vec(r) for _, r, _ in batch]
        arr = [v.tolist() for v in vecs] if as_lists else np.array(vecs, dtype=np.float64)
        if not batch:
            arr = []
        if not all(self.valid(v) for v in vecs):
            with pytest.raises(InvalidArgumentError, match="zero norm"):
                self.col.upsert([b[0] for b in batch], arr, [b[2] for b in batch])
            return multiple()  # atomic: nothing stored
        self.col.upsert([b[0] for b in batch], arr, [b[2] for b in batch])
        for (id_, _, meta), v in zip(batch, vecs):  # a repeated id: the last one wins
            self.model[id_] = (stored_vector(v, self.metric), meta or {})
        return multiple(*{b[0] for b in batch})

    @rule(
        batch=st.lists(st.tuples(ids, raw_vectors), min_size=1, max_size=5),
        bad_at=st.integers(0, 4),
        bad=st.sampled_from(["nan", "inf", "dim", "id"]),
    )
    def upsert_bad_batch_changes_nothing(self, batch, bad_at, bad):
        bad_at %= len(batch)
        batch_ids = [b[0] for b in batch]
        vecs = np.array([self.vec(r) for _, r in batch], dtype=np.float32)
        if bad == "nan":
            vecs[bad_at, 0] = np.nan
        elif bad == "inf":
            vecs[bad_at, -1] = -np.inf
        elif bad == "dim":
            vecs = np.hstack([vecs, np.ones((len(batch), 1), dtype=np.float32)])
        else:
            batch_ids[bad_at] = ""
        with pytest.raises(InvalidArgumentError):
            self.col.upsert(batch_ids, vecs)

    @rule(
        id_=st.one_of(written, ids, st.just("never")),
        raw=st.one_of(st.none(), raw_vectors),
        meta=metadatas,
    )
    def update(self, id_, raw, meta):
        v = None if raw is None else self.vec(raw)
        if v is not None and not self.valid(v):
            with pytest.raises(InvalidArgumentError, match="zero norm"):
                self.col.update(id_, vector=v, metadata=meta)
            return
        existed = self.col.update(id_, vector=v, metadata=meta)
        assert existed == (id_ in self.model)
        if existed:
            old_v, old_m = self.model[id_]
            self.model[id_] = (
                old_v if v is None else stored_vector(v, self.metric),
                old_m if meta is None else meta,
            )

    @rule(id_=st.one_of(written, ids))
    def delete(self, id_):
        assert self.col.delete(id_) == (id_ in self.model)
        self.model.pop(id_, None)

    @rule(del_ids=st.lists(st.one_of(written, ids, st.just("never")), max_size=6))
    def delete_many(self, del_ids):
        want = len(set(del_ids) & set(self.model))
        assert self.col.delete_many(del_ids) == want
        for i in del_ids:
            self.model.pop(i, None)

    # ---- reads ---------------------------------------------------------------------------

    @rule(
        raws=st.lists(raw_vectors, min_size=1, max_size=3),
        k=st.integers(1, 16),
        batch=st.booleans(),
    )
    def search(self, raws, k, batch):
        qs = np.array([self.vec(r) for r in raws], dtype=np.float32)
        call = (
            (lambda: self.col.search_batch(qs, k=k))
            if batch
            else (lambda: [self.col.search(q, k=k) for q in qs])
        )
        if not all(self.valid(q) for q in qs):
            with pytest.raises(InvalidArgumentError, match="zero norm"):
                call()
            return
        results = call()
        assert len(results) == len(qs)
        for q, hits in zip(qs, results):
            assert_hits_match(hits, self.points(), q, self.metric, k, self.metas())

    @rule(
        get_ids=st.lists(st.one_of(written, ids, st.just("never")), min_size=1, max_size=5),
        many=st.booleans(),
    )
    def get(self, get_ids, many):
        got = self.col.get_many(get_ids) if many else [self.col.get(i) for i in get_ids]
        assert len(got) == len(get_ids)
        for i, g in zip(get_ids, got):
            self.check_point(i, g)

    # ---- filters and payload indexes -----------------------------------------------------

    def passing(self, flt) -> list[str]:
        return sorted(i for i, (_, m) in self.model.items() if reference_matches(flt, m, i))

    @rule(raw=raw_vectors, k=st.integers(1, 16), flt=filters, batch=st.booleans())
    def filtered_search(self, raw, k, flt, batch):
        q = self.vec(raw)
        if not self.valid(q):
            return
        hits = (
            self.col.search_batch(q[None], k=k, filter=flt)[0]
            if batch
            else self.col.search(q, k=k, filter=flt)
        )
        passing = set(self.passing(flt))
        points = {i: v for i, v in self.points().items() if i in passing}
        assert_hits_match(hits, points, q, self.metric, k, self.metas())

    @rule(flt=filters)
    def filtered_count_and_ids(self, flt):
        passing = self.passing(flt)
        assert self.col.count(filter=flt) == len(passing)
        assert list(self.col.ids(page_size=2, filter=flt)) == passing
        got = self.col.get_where(flt, limit=3, with_vectors=False)
        assert [(i, m) for i, _, m in got] == [(i, self.model[i][1]) for i in passing[:3]]

    @rule(flt=filters.filter(lambda f: f != {}))
    def delete_by_filter(self, flt):
        doomed = self.passing(flt)
        assert self.col.delete_many(filter=flt) == len(doomed)
        for i in doomed:
            del self.model[i]

    @rule(field=st.sampled_from(FIELDS), kind=st.sampled_from(["keyword", "int", "float", "bool"]))
    def create_index(self, field, kind):
        if self.indexes.get(field, kind) != kind:
            with pytest.raises(nearstore.AlreadyExistsError):
                self.col.create_index(field, kind)
            return
        self.col.create_index(field, kind)
        self.indexes[field] = kind

    @rule(field=st.sampled_from(FIELDS))
    def drop_index(self, field):
        assert self.col.drop_index(field) == (field in self.indexes)
        self.indexes.pop(field, None)

    # ---- lifecycle and maintenance -------------------------------------------------------

    @rule()
    def reopen(self):
        """Close and open the same directory again: everything acknowledged must be there."""
        self._reopen()

    def _reopen(self):
        self.db.close()
        self.db = None
        self.db = nearstore.open(self.dir, sync=self.sync)
        assert self.db.list_collections() == ["c"]
        self.col = self.db.get_collection("c")
        assert (self.col.dim, self.col.metric) == (self.dim, self.metric)

    # Maintenance, sometimes followed at once by a reopen: what it wrote must recover.

    @rule(then_reopen=st.booleans())
    def flush(self, then_reopen):
        self.col.flush()
        if then_reopen:
            self._reopen()

    @rule(then_reopen=st.booleans())
    def compact(self, then_reopen):
        self.col.compact()
        if then_reopen:
            self._reopen()

    @precondition(lambda self: self.col is not None)
    @invariant()
    def count_and_ids_agree_with_the_model(self):
        assert len(self.col) == self.col.count() == len(self.model)
        assert list(self.col.ids(page_size=3)) == sorted(self.model)
        assert self.col.list_indexes() == self.indexes


NearstoreMachine.TestCase.settings = settings(
    max_examples=75,
    stateful_step_count=30,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
TestNearstoreMachine = NearstoreMachine.TestCase
