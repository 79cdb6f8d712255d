"""Synthetic metadata for a benchmark dataset, the filters of the filtered benchmark, and their
exact ground truth.

Every row gets three categories of 10, 100 and 1,000 values (uniform, independent of the
vector) and a uniform integer in [0, 1,000,000). Each filter case gives query i its own filter
value (category i mod cardinality, a range starting at a value derived from i), so a run is not
one lucky value. Selectivity is the share of rows passing; the ground truth is the exact k
nearest among the passing rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

NUM_MAX = 1_000_000
CATEGORIES = {"cat10": 10, "cat100": 100, "cat1000": 1000}


@dataclass(frozen=True)
class FilterSpec:
    """One engine-neutral filter: field == value (a category code), or lo <= field < hi."""

    kind: str  # "eq" or "range"
    field: str
    value: int = 0
    lo: int = 0
    hi: int = 0

    def mask(self, meta: dict[str, np.ndarray]) -> np.ndarray:
        column = meta[self.field]
        if self.kind == "eq":
            return column == self.value
        return (column >= self.lo) & (column < self.hi)


def _range_1pct(i: int) -> FilterSpec:
    lo = (i * 7919 % 99) * 10_000
    return FilterSpec("range", "num", lo=lo, hi=lo + 10_000)


# case name -> (selectivity, filter of query i); None = unfiltered
CASES: dict[str, tuple[float, object | None]] = {
    "unfiltered": (1.0, None),
    "50% range": (0.5, lambda i: FilterSpec("range", "num", lo=0, hi=NUM_MAX // 2)),
    "10% keyword": (0.1, lambda i: FilterSpec("eq", "cat10", value=i % 10)),
    "1% keyword": (0.01, lambda i: FilterSpec("eq", "cat100", value=i % 100)),
    "1% range": (0.01, _range_1pct),
    "0.1% keyword": (0.001, lambda i: FilterSpec("eq", "cat1000", value=i % 1000)),
}


def filter_for(case: str, i: int) -> FilterSpec | None:
    make = CASES[case][1]
    return None if make is None else make(i)  # type: ignore[operator]


def metadata(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    meta = {name: rng.integers(0, card, n).astype(np.int32) for name, card in CATEGORIES.items()}
    meta["num"] = rng.integers(0, NUM_MAX, n).astype(np.int64)
    return meta


def ground_truth(
    base: np.ndarray, queries: np.ndarray, meta: dict[str, np.ndarray], case: str, k: int,
    cache: Path,
) -> tuple[np.ndarray, np.ndarray]:
    """(ids, distances) of the exact k nearest passing rows per query, cached in `cache`
    (-1 / inf pad a query with fewer than k passing rows). Cosine data is normalised, so the
    distance is 1 - dot; l2 data would need another formula, and is refused."""
    name = case.replace("%", "pct").replace(" ", "-")
    ids_file, dist_file = cache / f"filtered-gt-{name}-ids.npy", cache / f"filtered-gt-{name}-d.npy"
    if ids_file.exists() and dist_file.exists():
        return np.load(ids_file), np.load(dist_file)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    dist = np.full((len(queries), k), np.inf, dtype=np.float32)
    for i, q in enumerate(queries):
        spec = filter_for(case, i)
        rows = np.arange(len(base)) if spec is None else np.flatnonzero(spec.mask(meta))
        d = 1.0 - base[rows] @ q
        take = min(k, len(rows))
        best = np.argpartition(d, take - 1)[:take] if take < len(rows) else np.arange(len(rows))
        best = best[np.argsort(d[best], kind="stable")]
        ids[i, :take] = rows[best]
        dist[i, :take] = d[best]
    np.save(ids_file, ids)
    np.save(dist_file, dist)
    return ids, dist
