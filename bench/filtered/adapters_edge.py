"""Filtered-benchmark adapters of the two in-process databases with a payload store of their own:
Qdrant Edge and zvec. Each keeps the metadata as its own payload (scalar fields), indexes it with
its own payload index, and filters with its own filter; the graph settings, thresholds and the
one-thread search are those of the unfiltered adapters (bench/ann/engines_db.py), except where a
docstring says why not. How each is driven fairly is in bench/README.md ("The peers").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from adapters import FilteredEngine
from engine import DEFAULT_EF_CONSTRUCTION, DEFAULT_M
from filtered_data import CATEGORIES, FilterSpec

_BATCH = 1024  # rows per write call (zvec refuses more documents per insert)


class QdrantEdge(FilteredEngine):
    """Qdrant's engine in-process (qdrant-edge-py): one EdgeShard, the shared m / ef_construct,
    hnsw_ef per query (SearchParams), max_search_threads=1 so that a query stays on one thread,
    and one indexed segment (default_segment_number=1, max_segment_size above the data,
    indexing_threshold=1 KB) so that a query walks one graph, as in the other engines.

    Payload {"cat10", "cat100", "cat1000", "num"} as integers, with Qdrant's integer payload
    index on each: lookup (MatchValue) for the categories, range (RangeFloat bounds, which
    Qdrant applies to integer fields) for num. The indexes are created on the empty shard, before
    the points and optimize(), so that the HNSW build sees them: Qdrant then adds the extra
    per-value links of its filterable HNSW for every indexed value (or range block) larger than
    full_scan_threshold. Those links cost build time: about 2.7 times the build without the
    indexes (measured on 30,000 rows with the threshold scaled alike).

    full_scan_threshold keeps Qdrant's default of 10,000 KB (6,666 vectors at d=384), unlike the
    unfiltered adapter that lowers it for tiny data sets: here it is the query planner's switch,
    and its default is Qdrant's best. A filter whose payload-index cardinality estimate is below
    it is answered exactly, from the index's matching points, without the graph; above it, the
    graph is searched with the filter checked on the way. Lowered, it would force the graph on
    selective filters (where it loses recall) and make the build add links for every small value.
    """

    name = "qdrant-edge"
    package = "qdrant-edge-py"
    _FULL_SCAN_KB = 10_000  # Qdrant's default

    def build(self, base: np.ndarray, meta: dict[str, np.ndarray]) -> None:
        import qdrant_edge as qe

        self._qe = qe
        data_kb = base.nbytes // 1024
        config = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=self.dim, distance=qe.Distance.Cosine),
            hnsw_config=qe.HnswIndexConfig(
                m=DEFAULT_M, ef_construct=DEFAULT_EF_CONSTRUCTION,
                full_scan_threshold=self._FULL_SCAN_KB, max_indexing_threads=self.threads,
            ),
            optimizers=qe.EdgeOptimizersConfig(
                default_segment_number=1, indexing_threshold=1,
                max_segment_size=max(2 * data_kb, 1 << 20),
            ),
            max_search_threads=1,
        )
        self._shard = qe.EdgeShard.create(str(self.workdir / "shard"), config)
        for field in CATEGORIES:
            self._shard.update(qe.UpdateOperation.create_field_index(
                field, qe.IntegerIndexParams(lookup=True, range=False)
            ))
        self._shard.update(qe.UpdateOperation.create_field_index(
            "num", qe.IntegerIndexParams(lookup=False, range=True)
        ))
        columns = [(name, meta[name].tolist()) for name in (*CATEGORIES, "num")]
        for start in range(0, len(base), _BATCH):
            rows = base[start : start + _BATCH]
            points = [
                qe.Point(i, row.tolist(), {name: values[i] for name, values in columns})
                for i, row in enumerate(rows, start)
            ]
            self._shard.update(qe.UpdateOperation.upsert_points(points))
        self._shard.optimize()  # builds HNSW; before it every search is brute force
        self._shard.flush()
        info = self._shard.info()
        if info.indexed_vectors_count < len(base):
            raise RuntimeError(
                f"qdrant-edge indexed {info.indexed_vectors_count} of {len(base)} vectors"
            )
        self._params = qe.SearchParams()

    def set_knob(self, knob: dict[str, Any]) -> None:
        self._params = self._qe.SearchParams(hnsw_ef=knob["ef"])

    def _filter(self, spec: FilterSpec | None) -> Any:
        qe = self._qe
        if spec is None:
            return None
        if spec.kind == "eq":
            condition = qe.FieldCondition(key=spec.field, match=qe.MatchValue(spec.value))
        else:
            condition = qe.FieldCondition(
                key=spec.field, range=qe.RangeFloat(gte=spec.lo, lt=spec.hi)
            )
        return qe.Filter(must=[condition])

    def search(self, query: np.ndarray, k: int, spec: FilterSpec | None) -> np.ndarray:
        request = self._qe.QueryRequest(
            limit=k, query=self._qe.Query.Nearest(query.tolist()), filter=self._filter(spec),
            params=self._params, with_vector=False, with_payload=False,
        )
        return np.fromiter((p.id for p in self._shard.query(request)), dtype=np.int64)

    def close(self) -> None:
        self._shard.close()


class Zvec(FilteredEngine):
    """zvec (Alibaba): an HNSW index with the shared M / ef_construction, built by optimize();
    ef per query (HnswQueryParam); use_contiguous_memory=True as in the unfiltered adapter.

    The metadata are scalar fields of the schema (INT32 categories, INT64 num), each with zvec's
    inverted index (InvertIndexParam; range optimisation on num), and a query carries zvec's
    filter expression ("cat100 = 42", "num >= lo and num < hi"). zvec plans a filtered query
    itself: a filter passing under brute_force_by_keys_ratio of the rows (default 0.1) is
    answered exactly over the matching rows, a looser one by the graph with the filter checked
    during the walk; the defaults are kept. The 10% keyword case sits on that switch: categories
    holding just under 10% of the rows are scanned (about 4 ms a query on WordNet), those just
    over it take the graph (under 1 ms), so that case's QPS is a mix of the two.

    Searches use query_internal_ids(), zvec's low-latency path (it takes the filter too, and
    needs the collection reopened read-only), then resolve_internal_ids() to get the keys back,
    as an application would. A query runs on the calling thread (checked per OS thread)."""

    name = "zvec"
    package = "zvec"

    def build(self, base: np.ndarray, meta: dict[str, np.ndarray]) -> None:
        import zvec

        self._zvec = zvec
        path = str(self.workdir / "collection")
        index = zvec.HnswIndexParam(
            metric_type=zvec.MetricType.COSINE, m=DEFAULT_M,
            ef_construction=DEFAULT_EF_CONSTRUCTION, use_contiguous_memory=True,
        )
        vector = zvec.VectorSchema(
            "v", zvec.DataType.VECTOR_FP32, dimension=self.dim, index_param=index
        )
        fields = [
            zvec.FieldSchema(name, zvec.DataType.INT32, index_param=zvec.InvertIndexParam())
            for name in CATEGORIES
        ]
        fields.append(zvec.FieldSchema(
            "num", zvec.DataType.INT64,
            index_param=zvec.InvertIndexParam(enable_range_optimization=True),
        ))
        col = zvec.create_and_open(
            path, zvec.CollectionSchema(name="bench", fields=fields, vectors=vector)
        )
        columns = [(name, meta[name].tolist()) for name in (*CATEGORIES, "num")]
        for start in range(0, len(base), _BATCH):
            stop = min(len(base), start + _BATCH)
            statuses = col.insert([
                zvec.Doc(
                    id=str(i), vectors={"v": base[i]},
                    fields={name: values[i] for name, values in columns},
                )
                for i in range(start, stop)
            ])
            failed = [s for s in statuses if not s.ok()]
            if failed:
                raise RuntimeError(f"zvec insert of rows {start}..{stop - 1} failed: {failed[0]}")
        col.optimize(zvec.OptimizeOption(concurrency=self.threads))
        col.close()
        self._col = zvec.open(path, zvec.CollectionOption(read_only=True))
        self._param = zvec.HnswQueryParam()

    def set_knob(self, knob: dict[str, Any]) -> None:
        self._param = self._zvec.HnswQueryParam(ef=knob["ef"])

    @staticmethod
    def _filter(spec: FilterSpec | None) -> str | None:
        if spec is None:
            return None
        if spec.kind == "eq":
            return f"{spec.field} = {spec.value}"
        return f"{spec.field} >= {spec.lo} and {spec.field} < {spec.hi}"

    def search(self, query: np.ndarray, k: int, spec: FilterSpec | None) -> np.ndarray:
        ids = self._col.query_internal_ids(
            self._zvec.Query("v", vector=query, param=self._param), topk=k,
            filter=self._filter(spec),
        )
        keys = self._col.resolve_internal_ids(ids[ids >= 0])  # -1 pads a short result
        return np.array([int(key) for key in keys if key is not None], dtype=np.int64)

    def close(self) -> None:
        self._col.close()
