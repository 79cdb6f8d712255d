"""Filtered-benchmark adapters for the database peers that store metadata themselves: Chroma and
LanceDB. Each stores the four metadata columns beside the vectors and filters with its own filter
language on its own stored values, with the payload indexes the engine offers, and is configured
as in the unfiltered benchmark (bench/ann/engines_db.py; bench/README.md, "The peers"): the
shared M / ef_construction, cosine, swept over the same ef values. Neither engine can keep one
query on one thread (measured in bench/ann/engines_db.py): a query's work spreads over their
runtime threads, so their "one thread" figures are not strictly that.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import numpy as np
from adapters import FilteredEngine
from engine import DEFAULT_EF_CONSTRUCTION, DEFAULT_M, ef_sweep
from filtered_data import FilterSpec


class Chroma(FilteredEngine):
    """Chroma 1.x: PersistentClient with telemetry off, HNSW with max_neighbors = M and the
    shared ef_construction, no embedding function (embeddings passed), metadata as ints
    ({"cat10": 3, ..., "num": 123456}) filtered by query(where=...): {"cat100": 42}, or
    {"$and": [{"num": {"$gte": lo}}, {"num": {"$lt": hi}}]}. Chroma's default schema keeps an
    inverted index on every int key, so there is no payload index to ask for.

    ef_search is collection configuration, not a query argument, and an index already loaded
    keeps its old ef: set_knob() stores the new one with modify() and reopens the client, which
    reloads the index, then warms it with one query (as the unfiltered adapter does)."""

    name = "chromadb"
    package = "chromadb"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import chromadb
        from chromadb.config import Settings

        self._chromadb = chromadb
        self._settings = Settings(anonymized_telemetry=False)
        self._client: Any = None
        self._col: Any = None
        self._ef = ef_sweep()[0]

    def _open(self) -> None:
        self._client = self._chromadb.PersistentClient(
            path=str(self.workdir), settings=self._settings
        )

    def build(self, base: np.ndarray, meta: dict[str, np.ndarray]) -> None:
        self._open()
        hnsw = {
            "space": "cosine",
            "max_neighbors": DEFAULT_M,
            "ef_construction": DEFAULT_EF_CONSTRUCTION,
            "ef_search": self._ef,
            "num_threads": self.threads,
        }
        self._col = self._client.create_collection(
            "bench", configuration={"hnsw": hnsw}, embedding_function=None
        )
        columns = {name: meta[name].tolist() for name in ("cat10", "cat100", "cat1000", "num")}
        metas = [dict(zip(columns, values)) for values in zip(*columns.values())]
        batch = self._client.get_max_batch_size()
        for start in range(0, len(base), batch):
            stop = min(len(base), start + batch)
            self._col.add(
                ids=[str(i) for i in range(start, stop)],
                embeddings=base[start:stop],
                metadatas=metas[start:stop],
            )

    def set_knob(self, knob: dict[str, Any]) -> None:
        if knob["ef"] == self._ef:
            return
        self._col.modify(configuration={"hnsw": {"ef_search": knob["ef"]}})
        self._client.close()  # the last client of the path stops its system and drops the index
        self._open()
        self._col = self._client.get_collection("bench", embedding_function=None)
        self._ef = knob["ef"]
        self._col.query(
            query_embeddings=np.zeros((1, self.dim), dtype=np.float32), n_results=1, include=[]
        )

    @staticmethod
    def _where(spec: FilterSpec | None) -> dict[str, Any] | None:
        if spec is None:
            return None
        if spec.kind == "eq":
            return {spec.field: spec.value}
        return {"$and": [{spec.field: {"$gte": spec.lo}}, {spec.field: {"$lt": spec.hi}}]}

    def search(self, query: np.ndarray, k: int, spec: FilterSpec | None) -> np.ndarray:
        result = self._col.query(
            query_embeddings=query.reshape(1, -1), n_results=k, where=self._where(spec), include=[]
        )
        return np.array([int(i) for i in result["ids"][0]], dtype=np.int64)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


class LanceDb(FilteredEngine):
    """LanceDB with an IVF_HNSW_SQ index as in the unfiltered benchmark (the shared m /
    ef_construction, one partition per 1,048,576 rows, every partition probed, the sweep going on
    with refine_factor=4 at the larger ef), the metadata as columns of the table (cat10 / cat100 /
    cat1000 int32, num int64) with Lance's scalar indexes on them: BITMAP on the categories (few
    distinct values) and BTREE on num (mostly distinct), as LanceDB advises. Filters are SQL
    predicates ("cat100 = 42", "num >= lo AND num < hi") applied before the vector search
    (prefilter, the async API's default), so a query gets k passing rows whenever k pass.
    Queries go through the async API on an event loop of this thread (the sync API adds
    hand-offs to a background loop per query)."""

    name = "lancedb"
    package = "lancedb"
    _TARGET_PARTITION_ROWS = 1_048_576
    _REFINE = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import lancedb

        self._lancedb = lancedb
        self._loop = asyncio.new_event_loop()
        self._db: Any = None
        self._table: Any = None
        self._nprobes = 1
        self._knob: dict[str, Any] = {"ef": ef_sweep()[0]}

    def _run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    def build(self, base: np.ndarray, meta: dict[str, np.ndarray]) -> None:
        import pyarrow as pa
        from lancedb.index import Bitmap, BTree, HnswSq

        n = len(base)
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1)), self.dim)
        data = pa.table({
            "row": pa.array(np.arange(n, dtype=np.int64)),
            "vector": vectors,
            "cat10": pa.array(meta["cat10"]),
            "cat100": pa.array(meta["cat100"]),
            "cat1000": pa.array(meta["cat1000"]),
            "num": pa.array(meta["num"]),
        })
        self._nprobes = max(1, math.ceil(n / self._TARGET_PARTITION_ROWS))
        config = HnswSq(
            distance_type="cosine", num_partitions=self._nprobes, m=DEFAULT_M,
            ef_construction=DEFAULT_EF_CONSTRUCTION,
        )
        self._db = self._run(self._lancedb.connect_async(str(self.workdir)))
        self._table = self._run(self._db.create_table("bench", data))
        self._run(self._table.create_index("vector", config=config))
        for field in ("cat10", "cat100", "cat1000"):
            self._run(self._table.create_index(field, config=Bitmap()))
        self._run(self._table.create_index("num", config=BTree()))

    def knobs(self) -> list[dict[str, Any]]:
        plain = [{"ef": e} for e in ef_sweep()]
        return plain + [{"ef": e, "refine_factor": self._REFINE} for e in (64, 128, 256, 512)]

    def set_knob(self, knob: dict[str, Any]) -> None:
        self._knob = knob

    @staticmethod
    def _where(spec: FilterSpec) -> str:
        if spec.kind == "eq":
            return f"{spec.field} = {spec.value}"
        return f"{spec.field} >= {spec.lo} AND {spec.field} < {spec.hi}"

    def search(self, query: np.ndarray, k: int, spec: FilterSpec | None) -> np.ndarray:
        q = self._table.query().nearest_to(query).distance_type("cosine")
        # Lance refuses ef < k (k is multiplied by refine_factor first).
        q = q.nprobes(self._nprobes).ef(
            max(self._knob["ef"], k * self._knob.get("refine_factor", 1))
        )
        if "refine_factor" in self._knob:
            q = q.refine_factor(self._knob["refine_factor"])
        if spec is not None:
            q = q.where(self._where(spec))
        # _distance is selected explicitly: leaving it out logs a deprecation warning per query.
        table = self._run(q.select(["row", "_distance"]).limit(k).to_arrow())
        return table["row"].to_numpy().astype(np.int64)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = self._table = None
        self._loop.close()
