"""A numpy brute-force reference for nearstore's exact search, and a tolerant comparison.

Distances: cosine -> 1 - cos, l2 -> Euclidean distance, dot -> -dot; smaller is closer; ties
broken by id. The reference computes in float64 from the float32 vectors the engine stores
(normalised for cosine), so engine and reference differ only by float32 rounding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

RTOL = 1e-5
ATOL = 1e-5


def stored_vector(vector: Any, metric: str) -> np.ndarray:
    """The float32 vector the engine keeps for `vector` (normalised for cosine)."""
    v = np.asarray(vector, dtype=np.float32)
    if metric == "cosine":
        v64 = v.astype(np.float64)
        v = (v64 / np.linalg.norm(v64)).astype(np.float32)
    return v


def distances(stored: np.ndarray, query: Any, metric: str) -> np.ndarray:
    """Reference distances (float64) from each row of `stored` to `query`."""
    x = np.asarray(stored, dtype=np.float64).reshape(-1, np.asarray(query).shape[-1])
    q = np.asarray(query, dtype=np.float32).astype(np.float64)
    if metric == "cosine":
        qn = q / np.linalg.norm(q)
        xn = x / np.linalg.norm(x, axis=1, keepdims=True)
        return 1.0 - xn @ qn
    if metric == "l2":
        return np.sqrt(((x - q) ** 2).sum(axis=1))
    if metric == "dot":
        return -(x @ q)
    raise ValueError(metric)


def reference_ranking(
    points: Mapping[str, np.ndarray], query: Any, metric: str
) -> list[tuple[str, float]]:
    """Every (id, distance), closest first, ties broken by id."""
    if not points:
        return []
    ids = sorted(points)
    d = distances(np.stack([points[i] for i in ids]), query, metric)
    order = sorted(range(len(ids)), key=lambda j: (d[j], ids[j]))
    return [(ids[j], float(d[j])) for j in order]


def tol(d: float) -> float:
    return ATOL + RTOL * abs(d)


def assert_hits_match(
    hits: Sequence[Any],
    points: Mapping[str, np.ndarray],
    query: Any,
    metric: str,
    k: int,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Checks `hits` against brute force over `points`, tolerating float32 near-ties.

    - the number of hits is min(k, len(points)), without duplicate ids;
    - each hit's distance is the reference distance of that id (within tolerance);
    - the distance list equals the reference top-k distance list (within tolerance);
    - hits come sorted by (distance, id) exactly (the engine's own distances);
    - every point strictly closer than the k-th distance (beyond tolerance) is among the hits
      (so ids may only differ from the reference where distances tie within tolerance);
    - if `metadata` is given, each hit carries the metadata of its id.
    """
    ref = reference_ranking(points, query, metric)
    ref_dist = dict(ref)
    n = min(k, len(ref))
    assert len(hits) == n, f"expected {n} hits, got {len(hits)}"
    got_ids = [h.id for h in hits]
    assert len(set(got_ids)) == len(got_ids), f"duplicate ids in {got_ids}"
    for h in hits:
        assert h.id in ref_dist, f"hit {h.id!r} is not a live point"
        assert isinstance(h.distance, float)
        assert abs(h.distance - ref_dist[h.id]) <= tol(ref_dist[h.id]), (
            f"distance of {h.id!r}: engine {h.distance}, reference {ref_dist[h.id]}"
        )
        if metadata is not None:
            assert h.metadata == metadata[h.id], f"metadata of {h.id!r}"
    for (_rid, rd), h in zip(ref[:n], hits):
        assert abs(h.distance - rd) <= tol(rd), (
            f"top-{n} distances differ: engine {[x.distance for x in hits]}, reference "
            f"{[d for _, d in ref[:n]]}"
        )
    keys = [(h.distance, h.id) for h in hits]
    assert keys == sorted(keys), f"hits not sorted by (distance, id): {keys}"
    if n:
        kth = ref[n - 1][1]
        must = {i for i, d in ref if d < kth - tol(kth)}
        missing = must - set(got_ids)
        assert not missing, f"points closer than the k-th distance are missing: {missing}"
