"""Search options that change what a search returns but not which points: with_metadata=False
gives the same ids and distances without metadata, for single and batch searches."""

from __future__ import annotations

import numpy as np
import pytest

import nearstore


@pytest.mark.parametrize("index", ["flat", "hnsw"])
def test_without_metadata_the_same_hits_come_back(db, index):
    rng = np.random.default_rng(3)
    data = rng.normal(size=(300, 8)).astype(np.float32)
    col = db.create_collection("c", 8, "l2", index=index)
    ids = [f"p{i}" for i in range(len(data))]
    col.upsert(ids, data, [{"n": i} if i % 2 else None for i in range(len(data))])
    queries = data[:5] + 0.01
    for q in queries:
        full = col.search(q, 7)
        bare = col.search(q, 7, with_metadata=False)
        assert [(h.id, h.distance) for h in bare] == [(h.id, h.distance) for h in full]
        assert all(h.metadata is None for h in bare)
        assert all(h.metadata == ({"n": int(h.id[1:])} if int(h.id[1:]) % 2 else {}) for h in full)
    full = col.search_batch(queries, 7)
    bare = col.search_batch(queries, 7, with_metadata=False)
    assert [[(h.id, h.distance) for h in hits] for hits in bare] == [
        [(h.id, h.distance) for h in hits] for hits in full
    ]
    assert all(h.metadata is None for hits in bare for h in hits)
    hit = bare[0][0]
    assert hit == (hit.id, hit.distance, None)  # still unpacks as (id, distance, metadata)
    assert isinstance(nearstore.Hit(*hit), nearstore.Hit)
