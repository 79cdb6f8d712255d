"""Engine adapters of the filtered benchmark: each loads the vectors with their metadata, and
searches with one engine-neutral FilterSpec (filtered_data.py) turned into the engine's own
filter. Every graph index gets the same M and ef_construction (bench/ann/engine.py) and is
swept over the same ef values.

Engines without a metadata store (hnswlib, FAISS) are handed the passing rows ready-made: a
boolean mask (hnswlib's filter callback reads it) or an IDSelectorBitmap (FAISS), computed once
per filter value outside the timed search. That is generous to them: an application would have
to find those rows itself. The databases (nearstore, and the peers in adapters_db.py) filter on
their own stored metadata, with payload indexes where the engine has them.

Each adapter: build(base, meta) once; knobs() the sweep; set_knob(knob); search(query, k, spec)
-> row ids (int64), one query on one thread; close().
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ann"))

from engine import DEFAULT_EF_CONSTRUCTION, DEFAULT_M, ef_sweep  # noqa: E402
from filtered_data import FilterSpec  # noqa: E402


class FilteredEngine:
    name = ""
    package = ""

    def __init__(self, dim: int, workdir: Path, threads: int) -> None:
        self.dim = dim
        self.workdir = workdir
        self.threads = threads

    def build(self, base: np.ndarray, meta: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_knob(self, knob: dict[str, Any]) -> None:
        raise NotImplementedError

    def prepare(self, spec: FilterSpec) -> None:
        """Called for each filter before any timed search with it (engines that are handed the
        passing rows build them here)."""

    def search(self, query: np.ndarray, k: int, spec: FilterSpec | None) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _MaskCache:
    """Per filter, a structure built from its boolean mask, made once (outside the timing)."""

    def __init__(self, meta: dict[str, np.ndarray], make: Callable[[np.ndarray], Any]) -> None:
        self._meta = meta
        self._make = make
        self._cache: dict[FilterSpec, Any] = {}

    def prepare(self, spec: FilterSpec) -> None:
        if spec not in self._cache:
            self._cache[spec] = self._make(spec.mask(self._meta))

    def __getitem__(self, spec: FilterSpec) -> Any:
        return self._cache[spec]


class Nearstore(FilteredEngine):
    """nearstore HNSW (SQ8 codes unless quantization says otherwise), metadata as JSON with a
    keyword index on each category and an int index on num; filters in nearstore's language.

    With quantization the sweep also goes over `rerank` (1, 2 and the default 4), nearstore's
    documented per-search knob, as LanceDB's is swept over refine_factor: a filtered walk pays
    for every candidate it keeps (it passes ~1/selectivity nodes to find each), so the depth of
    re-ranking matters there more than unfiltered."""

    name = "nearstore-hnsw-sq8"
    package = "nearstore"
    quantization = "sq8"

    def build(self, base: np.ndarray, meta: dict[str, np.ndarray]) -> None:
        import nearstore

        memtable = max(64 << 20, base.nbytes + (16 << 20))  # one segment, one graph
        self._db = nearstore.open(
            self.workdir / "db", sync=False, threads=self.threads, memtable_max_bytes=memtable
        )
        self._col = self._db.create_collection(
            "bench", dim=self.dim, metric="cosine", index="hnsw", m=DEFAULT_M,
            ef_construction=DEFAULT_EF_CONSTRUCTION, quantization=self.quantization,
        )
        ids = [str(i) for i in range(len(base))]
        metas = [
            {"cat10": f"c{a}", "cat100": f"c{b}", "cat1000": f"c{c}", "num": int(d)}
            for a, b, c, d in zip(meta["cat10"], meta["cat100"], meta["cat1000"], meta["num"])
        ]
        for start in range(0, len(base), 10_000):
            stop = start + 10_000
            self._col.upsert(ids[start:stop], base[start:stop], metas[start:stop])
        self._col.flush()
        for field in ("cat10", "cat100", "cat1000"):
            self._col.create_index(field, "keyword")
        self._col.create_index("num", "int")
        self._ef = 0
        self._rerank = 0

    def knobs(self) -> list[dict[str, Any]]:
        if self.quantization == "none":
            return super().knobs()
        return [{"ef": e, "rerank": r} for e in ef_sweep() for r in (1, 2, 4)]

    def set_knob(self, knob: dict[str, Any]) -> None:
        self._ef = knob["ef"]
        self._rerank = knob.get("rerank", 0)

    @staticmethod
    def _filter(spec: FilterSpec | None) -> dict[str, Any] | None:
        if spec is None:
            return None
        if spec.kind == "eq":
            return {spec.field: f"c{spec.value}"}
        return {spec.field: {"$gte": spec.lo, "$lt": spec.hi}}

    def search(self, query: np.ndarray, k: int, spec: FilterSpec | None) -> np.ndarray:
        hits = self._col.search(
            query, k, ef=self._ef, rerank=self._rerank, with_metadata=False,
            filter=self._filter(spec),
        )
        return np.fromiter((int(h.id) for h in hits), dtype=np.int64, count=len(hits))

    def close(self) -> None:
        self._db.close()


class NearstoreFloat(Nearstore):
    name = "nearstore-hnsw"
    quantization = "none"


class Hnswlib(FilteredEngine):
    """hnswlib's knn_query(filter=callable): the callback reads a precomputed boolean mask."""

    name = "hnswlib"
    package = "hnswlib"

    def build(self, base: np.ndarray, meta: dict[str, np.ndarray]) -> None:
        import hnswlib

        self._index = hnswlib.Index(space="ip", dim=self.dim)
        self._index.init_index(
            max_elements=len(base), M=DEFAULT_M, ef_construction=DEFAULT_EF_CONSTRUCTION,
            random_seed=100,
        )
        self._index.add_items(base, np.arange(len(base)), num_threads=self.threads)
        # A Python list indexes faster than a numpy array from the callback.
        self._masks = _MaskCache(meta, lambda m: m.tolist())

    def set_knob(self, knob: dict[str, Any]) -> None:
        self._index.set_ef(knob["ef"])

    def prepare(self, spec: FilterSpec) -> None:
        self._masks.prepare(spec)

    def search(self, query: np.ndarray, k: int, spec: FilterSpec | None) -> np.ndarray:
        if spec is None:
            ids, _ = self._index.knn_query(query, k=k, num_threads=1)
        else:
            mask = self._masks[spec]
            try:
                ids, _ = self._index.knn_query(
                    query, k=k, num_threads=1, filter=mask.__getitem__
                )
            except RuntimeError:  # fewer than k found: hnswlib refuses the whole query
                return np.empty(0, dtype=np.int64)
        return ids[0].astype(np.int64)


class FaissHnsw(FilteredEngine):
    """FAISS IndexHNSWFlat (inner product on normalised vectors) with SearchParametersHNSW(sel=
    IDSelectorBitmap) built from the passing rows."""

    name = "faiss-hnsw"
    package = "faiss-cpu"

    def build(self, base: np.ndarray, meta: dict[str, np.ndarray]) -> None:
        import faiss

        self._faiss = faiss
        faiss.omp_set_num_threads(self.threads)
        self._index = faiss.IndexHNSWFlat(self.dim, DEFAULT_M, faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = DEFAULT_EF_CONSTRUCTION
        self._index.add(base)
        faiss.omp_set_num_threads(1)  # one query, one thread

        def selector(mask: np.ndarray) -> Any:
            bits = np.packbits(mask, bitorder="little")
            return bits, faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))

        self._selectors = _MaskCache(meta, selector)
        self._ef = 64

    def set_knob(self, knob: dict[str, Any]) -> None:
        self._ef = knob["ef"]

    def prepare(self, spec: FilterSpec) -> None:
        self._selectors.prepare(spec)

    def search(self, query: np.ndarray, k: int, spec: FilterSpec | None) -> np.ndarray:
        faiss = self._faiss
        if spec is None:
            params = faiss.SearchParametersHNSW(efSearch=self._ef)
        else:
            params = faiss.SearchParametersHNSW(efSearch=self._ef, sel=self._selectors[spec][1])
        _, ids = self._index.search(query.reshape(1, -1), k, params=params)
        row = ids[0]
        return row[row >= 0].astype(np.int64)


# name -> "module:Class", imported only in the worker process that runs the engine
ENGINES: dict[str, str] = {
    "nearstore-hnsw-sq8": "adapters:Nearstore",
    "nearstore-hnsw": "adapters:NearstoreFloat",
    "hnswlib": "adapters:Hnswlib",
    "faiss-hnsw": "adapters:FaissHnsw",
    "chromadb": "adapters_db:Chroma",
    "lancedb": "adapters_db:LanceDb",
    "qdrant-edge": "adapters_edge:QdrantEdge",
    "zvec": "adapters_edge:Zvec",
}


def engine_class(name: str) -> type[FilteredEngine]:
    if name not in ENGINES:
        raise KeyError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
    module, cls = ENGINES[name].split(":")
    return getattr(importlib.import_module(module), cls)
