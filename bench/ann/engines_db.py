"""Adapters for the in-process vector databases: zvec, Qdrant Edge, Chroma, LanceDB, Milvus Lite.

How each peer is driven fairly is in bench/README.md ("The peers"); every graph index gets the same
M and ef_construction (engine.DEFAULT_M / DEFAULT_EF_CONSTRUCTION unless the suite says otherwise).
Each database keeps its files in `workdir`, so the default disk_bytes() (the directory's size)
holds, except for Qdrant's sparse preallocated files (see QdrantEdge.disk_bytes). Nothing here
reaches the network (checked in a network namespace with loopback only): no embedding model is ever
loaded (vectors are always passed explicitly), Chroma's telemetry is off, and Milvus Lite's gRPC
server listens on 127.0.0.1 inside this process.

Threads of search() (one query per call), as measured per OS thread on this machine:
    zvec         runs the query on the calling thread; releases the GIL, so the default
                 search_batch (a thread pool over search()) uses every core.
    qdrant-edge  max_search_threads=1 keeps a query on one thread; the binding holds the GIL, so
                 no thread pool helps and its batch call (query_batch) is single-threaded too.
    chromadb     no thread setting for queries: most of the work is on the calling thread, a
                 fifth of it on Chroma's runtime threads. NOT limited to one thread.
    lancedb      no thread setting per query: a query hops between Lance's runtime threads (about
                 one core in all, but spread over several threads). NOT limited to one thread.
    milvus-lite  a pure-Python server (FAISS underneath) behind gRPC in this process: the query
                 runs on a server thread, and gRPC's polling threads burn CPU too. NOT limited.
"""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
from engine import DEFAULT_EF_CONSTRUCTION, DEFAULT_M, Engine, ef_sweep


def _graph_params(params: dict[str, Any]) -> tuple[int, int]:
    return int(params.get("M", DEFAULT_M)), int(
        params.get("ef_construction", DEFAULT_EF_CONSTRUCTION)
    )


def _allocated_bytes(path: Path) -> int:
    """Bytes of disk the files under `path` occupy (holes in sparse files not counted)."""
    return sum(
        f.lstat().st_blocks * 512 for f in path.rglob("*") if f.is_file() and not f.is_symlink()
    )


# ---- zvec ----------------------------------------------------------------------------------------


class Zvec(Engine):
    """zvec (Alibaba): an HNSW index with the shared M / ef_construction (zvec's own defaults are
    m=50, ef_construction=500), built by optimize(); ef per query (HnswQueryParam).

    Searches use query_internal_ids(), zvec's documented low-latency path for dense queries (it
    needs the collection reopened read-only), then resolve_internal_ids() to get the keys back, as
    an application would. use_contiguous_memory=True (one arena for the graph) is zvec's own option
    for search throughput; it costs peak memory, which the runner measures."""

    name = "zvec"
    package = "zvec"
    _INSERT_BATCH = 1024  # zvec refuses more documents per insert() call

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import zvec

        self._zvec = zvec
        self._path = str(self.workdir / "collection")
        self._col: Any = None
        self._param: Any = zvec.HnswQueryParam(ef=ef_sweep()[0])

    def build(self, base: np.ndarray) -> None:
        zvec = self._zvec
        m, efc = _graph_params(self.params)
        metric = zvec.MetricType.COSINE if self.metric == "cosine" else zvec.MetricType.L2
        index = zvec.HnswIndexParam(
            metric_type=metric, m=m, ef_construction=efc, use_contiguous_memory=True
        )
        vector = zvec.VectorSchema(
            "v", zvec.DataType.VECTOR_FP32, dimension=self.dim, index_param=index
        )
        col = zvec.create_and_open(self._path, zvec.CollectionSchema(name="bench", vectors=vector))
        for start in range(0, len(base), self._INSERT_BATCH):
            stop = min(len(base), start + self._INSERT_BATCH)
            statuses = col.insert(
                [zvec.Doc(id=str(i), vectors={"v": base[i]}) for i in range(start, stop)]
            )
            failed = [s for s in statuses if not s.ok()]
            if failed:
                raise RuntimeError(f"zvec insert of rows {start}..{stop - 1} failed: {failed[0]}")
        col.optimize(zvec.OptimizeOption(concurrency=self.threads))
        col.close()
        self._col = zvec.open(self._path, zvec.CollectionOption(read_only=True))

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._param = self._zvec.HnswQueryParam(ef=knob["ef"])

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        ids = self._col.query_internal_ids(
            self._zvec.Query("v", vector=query, param=self._param), topk=k
        )
        keys = self._col.resolve_internal_ids(ids[ids >= 0])  # -1 pads a short result
        return np.array([int(key) for key in keys if key is not None], dtype=np.int64)

    def close(self) -> None:
        if self._col is not None:
            self._col.close()
            self._col = None


# ---- Qdrant Edge ---------------------------------------------------------------------------------


class QdrantEdge(Engine):
    """Qdrant's engine in-process (qdrant-edge-py): EdgeShard with the shared m / ef_construct,
    hnsw_ef per query (SearchParams).

    Qdrant skips HNSW for small data, so both thresholds are lowered: indexing_threshold=1 KB (a
    segment below it is never indexed) and full_scan_threshold=10 KB of vectors (below it a search
    scans), so HNSW serves every size we run (80 points at d=32). One indexed segment
    (default_segment_number=1, and max_segment_size above the data) so that a query walks one
    graph, as in the other engines; max_search_threads=1 keeps a query on one thread."""

    name = "qdrant-edge"
    package = "qdrant-edge-py"
    _UPSERT_BATCH = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import qdrant_edge

        self._qe = qdrant_edge
        self._shard: Any = None
        self._params: Any = qdrant_edge.SearchParams(hnsw_ef=ef_sweep()[0])

    def build(self, base: np.ndarray) -> None:
        qe = self._qe
        m, efc = _graph_params(self.params)
        distance = qe.Distance.Cosine if self.metric == "cosine" else qe.Distance.Euclid
        data_kb = len(base) * self.dim * 4 // 1024
        config = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=self.dim, distance=distance),
            hnsw_config=qe.HnswIndexConfig(
                m=m, ef_construct=efc, full_scan_threshold=10, max_indexing_threads=self.threads
            ),
            optimizers=qe.EdgeOptimizersConfig(
                default_segment_number=1,
                indexing_threshold=1,
                max_segment_size=max(2 * data_kb, 1 << 20),
            ),
            max_search_threads=1,
        )
        self._shard = qe.EdgeShard.create(str(self.workdir / "shard"), config)
        for start in range(0, len(base), self._UPSERT_BATCH):
            rows = base[start : start + self._UPSERT_BATCH]
            points = [qe.Point(start + i, row.tolist()) for i, row in enumerate(rows)]
            self._shard.update(qe.UpdateOperation.upsert_points(points))
        self._shard.optimize()  # builds HNSW; before it every search is brute force
        self._shard.flush()
        info = self._shard.info()
        if info.indexed_vectors_count < len(base):
            raise RuntimeError(
                f"qdrant-edge indexed {info.indexed_vectors_count} of {len(base)} vectors"
            )

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._params = self._qe.SearchParams(hnsw_ef=knob["ef"])

    def _request(self, query: np.ndarray, k: int) -> Any:
        return self._qe.QueryRequest(
            limit=k,
            query=self._qe.Query.Nearest(query.tolist()),
            params=self._params,
            with_vector=False,
            with_payload=False,
        )

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        return np.fromiter(
            (p.id for p in self._shard.query(self._request(query, k))), dtype=np.int64
        )

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        # The binding holds the GIL, so a thread pool gains nothing; query_batch is the engine's
        # cheaper batch call (still one thread with one segment: its parallelism is per segment).
        batch = self._qe.QueryBatchRequest([self._request(q, k) for q in queries])
        return [
            np.fromiter((p.id for p in hits), dtype=np.int64)
            for hits in self._shard.query_batch(batch)
        ]

    def disk_bytes(self) -> int:
        # Qdrant preallocates sparse files (32 MB WAL and payload pages, mostly holes): their
        # apparent size is not disk used, so the blocks allocated are counted instead.
        return _allocated_bytes(self.workdir)

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None


# ---- Chroma --------------------------------------------------------------------------------------


class Chroma(Engine):
    """Chroma (an hnswlib fork in Rust): PersistentClient with telemetry off, HNSW with
    max_neighbors = M and the shared ef_construction, no embedding function (embeddings passed).

    ef_search is collection configuration, not a query argument: collection.modify(configuration=
    {"hnsw": {"ef_search": e}}) stores it, but an index already loaded keeps its old ef (checked:
    recall does not move), so set_query_knob() reopens the client, which reloads the index with the
    new ef, and warms it with one query."""

    name = "chromadb"
    package = "chromadb"
    one_thread = False  # see the module docstring

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

    def build(self, base: np.ndarray) -> None:
        m, efc = _graph_params(self.params)
        self._open()
        hnsw = {
            "space": "cosine" if self.metric == "cosine" else "l2",
            "max_neighbors": m,
            "ef_construction": efc,
            "ef_search": self._ef,
            "num_threads": self.threads,
        }
        self._col = self._client.create_collection(
            "bench", configuration={"hnsw": hnsw}, embedding_function=None
        )
        batch = self._client.get_max_batch_size()
        for start in range(0, len(base), batch):
            rows = base[start : start + batch]
            self._col.add(ids=[str(i) for i in range(start, start + len(rows))], embeddings=rows)

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
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

    def _query(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        result = self._col.query(query_embeddings=queries, n_results=k, include=[])
        return [np.array([int(i) for i in ids], dtype=np.int64) for ids in result["ids"]]

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        return self._query(query.reshape(1, -1), k)[0]

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        # A multi-query call runs on one thread but releases the GIL: one chunk per core.
        chunks = np.array_split(queries, max(1, min(self.threads, len(queries))))
        with ThreadPoolExecutor(len(chunks)) as pool:
            return [ids for part in pool.map(lambda c: self._query(c, k), chunks) for ids in part]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


# ---- LanceDB -------------------------------------------------------------------------------------


class LanceHnswSq(Engine):
    """LanceDB with an IVF_HNSW_SQ index: the shared m / ef_construction, vectors searched on
    8-bit scalar-quantised codes; ef (and nprobes) per query.

    num_partitions = ceil(n / 1,048,576), Lance's own default target partition size: one HNSW
    graph up to a million rows, as LanceDB recommends for HNSW (each partition is a separate graph,
    only worth it to cap the memory of training), and every partition is probed. SQ codes cap the
    recall, so the sweep goes on with refine_factor=4 (the 4k best re-ranked on the float32
    vectors, Lance's own remedy) at the larger ef. Queries go through LanceDB's async API on an
    event loop of this thread: the sync API adds six hand-offs to a background loop per query
    (2.6 times the latency here); the results are the same."""

    name = "lancedb"
    package = "lancedb"
    one_thread = False  # see the module docstring
    _TARGET_PARTITION_ROWS = 1_048_576
    _REFINE = 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import lancedb

        self._lancedb = lancedb
        self._loop = asyncio.new_event_loop()
        self._db: Any = None
        self._table: Any = None
        self._distance: Literal["cosine", "l2"] = "cosine" if self.metric == "cosine" else "l2"
        self._nprobes = 1
        self._knob: dict[str, Any] = {"ef": ef_sweep()[0]}

    def _run(self, coroutine: Any) -> Any:
        return self._loop.run_until_complete(coroutine)

    def build(self, base: np.ndarray) -> None:
        import pyarrow as pa
        from lancedb.index import HnswSq

        m, efc = _graph_params(self.params)
        n = len(base)
        vectors = pa.FixedSizeListArray.from_arrays(pa.array(base.reshape(-1)), self.dim)
        data = pa.table({"row": pa.array(np.arange(n, dtype=np.int64)), "vector": vectors})
        self._nprobes = max(1, math.ceil(n / self._TARGET_PARTITION_ROWS))
        config = HnswSq(
            distance_type=self._distance, num_partitions=self._nprobes, m=m, ef_construction=efc
        )
        self._db = self._run(self._lancedb.connect_async(str(self.workdir)))
        self._table = self._run(self._db.create_table("bench", data))
        self._run(self._table.create_index("vector", config=config))

    def query_knobs(self) -> list[dict[str, Any]]:
        plain = [{"ef": e} for e in ef_sweep()]
        return plain + [{"ef": e, "refine_factor": self._REFINE} for e in (64, 128, 256, 512)]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._knob = knob

    def _query(self, vectors: Any, k: int) -> Any:
        query = self._table.query().nearest_to(vectors).distance_type(self._distance)
        # Lance refuses ef < k (k is multiplied by refine_factor first).
        query = query.nprobes(self._nprobes).ef(
            max(self._knob["ef"], k * self._knob.get("refine_factor", 1))
        )
        if "refine_factor" in self._knob:
            query = query.refine_factor(self._knob["refine_factor"])
        # _distance is selected explicitly: leaving it out logs a deprecation warning per query.
        return self._run(query.select(["row", "_distance"]).limit(k).to_arrow())

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        return self._query(query, k)["row"].to_numpy().astype(np.int64)

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        # Several vectors in one query: Lance runs them on its runtime's threads and tags each row
        # with query_index; rows are put back in query order, nearest first.
        table = self._query(list(queries), k)
        which = table["query_index"].to_numpy()
        rows = table["row"].to_numpy().astype(np.int64)
        order = np.lexsort((table["_distance"].to_numpy(), which))
        which, rows = which[order], rows[order]
        bounds = np.searchsorted(which, np.arange(len(queries) + 1))
        return [rows[bounds[i] : bounds[i + 1]] for i in range(len(queries))]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = self._table = None
        self._loop.close()


# ---- Milvus Lite ---------------------------------------------------------------------------------


class MilvusIvfFlat(Engine):
    """Milvus Lite through pymilvus' MilvusClient on a local .db path: IVF_FLAT, nprobe per query.

    milvus-lite 3.x is pure Python over FAISS, served over gRPC by a thread of this process
    (127.0.0.1 only). Each search call also does O(n) Python work (a validity mask over every row,
    for deletes and duplicates) whatever nprobe is, so one query per call is slow on large sets:
    that is the engine, not the adapter. Milvus indexes each segment separately (at most 100,000
    rows), so nlist = 4·sqrt(rows of a segment), i.e. 4·sqrt(n) up to 100K rows."""

    name = "milvus-lite"
    package = "milvus-lite"
    one_thread = False  # see the module docstring
    _SEGMENT_ROWS = 100_000  # milvus_lite.constants.MAX_SEGMENT_ROWS
    _INSERT_BYTES = 16 << 20  # rows per insert: well below the 256 MB gRPC message limit
    _BATCH_QUERIES = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        try:
            from pymilvus import MilvusClient
        except ImportError as e:
            raise RuntimeError(f"milvus-lite: pymilvus is needed to drive Milvus Lite ({e})") from e
        self._path = str(self.workdir / "milvus.db")
        try:  # a .db path makes pymilvus start Milvus Lite's server in this process (127.0.0.1)
            self._client: Any = MilvusClient(self._path)
        except Exception as e:
            raise RuntimeError(
                f"milvus-lite: the local server for {self._path} did not start ({e})"
            ) from e
        self._nlist = 1
        self._search_params: dict[str, Any] = {"params": {"nprobe": 1}}

    def build(self, base: np.ndarray) -> None:
        from pymilvus import DataType, MilvusClient

        n = len(base)
        self._nlist = max(1, round(4 * math.sqrt(min(n, self._SEGMENT_ROWS))))
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        index = self._client.prepare_index_params()
        metric = "COSINE" if self.metric == "cosine" else "L2"
        index.add_index(
            field_name="vector",
            index_type="IVF_FLAT",
            metric_type=metric,
            params={"nlist": self._nlist},
        )
        self._client.create_collection("bench", schema=schema, index_params=index)  # created loaded
        batch = max(1, min(10_000, self._INSERT_BYTES // (4 * self.dim)))
        for start in range(0, n, batch):
            rows = base[start : start + batch]
            self._client.insert(
                "bench", [{"id": start + i, "vector": row} for i, row in enumerate(rows)]
            )
        self._client.flush(
            "bench"
        )  # seals the memtable (searched by brute force) into indexed segments
        deadline = time.monotonic() + 600
        while True:
            state = self._client.describe_index("bench", "vector")
            if state.get("indexed_rows", 0) >= n and not state.get("pending_index_rows", 0):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"milvus-lite: index not finished after 600 s: {state}")
            time.sleep(0.5)

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"nprobe": p} for p in (1, 2, 4, 8, 16, 32, 64, 128) if p <= self._nlist]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._search_params = {"params": {"nprobe": knob["nprobe"]}}

    def _search(self, queries: list[np.ndarray], k: int) -> list[np.ndarray]:
        # output_fields=["id"]: with none named, Milvus Lite sends every field back, vector
        # included.
        hits = self._client.search(
            "bench", data=queries, limit=k, search_params=self._search_params, output_fields=["id"]
        )
        return [np.fromiter((h["id"] for h in one), dtype=np.int64) for one in hits]

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        return self._search([query], k)[0]

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        # Many queries per call: the O(n) per-call cost is paid once, and FAISS (OpenMP) may spread
        # the queries over the cores; the rest of the call is Python on one server thread.
        out: list[np.ndarray] = []
        for start in range(0, len(queries), self._BATCH_QUERIES):
            out.extend(self._search(list(queries[start : start + self._BATCH_QUERIES]), k))
        return out

    def close(self) -> None:
        if self._client is None:
            return
        self._client.close()
        self._client = None
        try:  # stop the in-process server and release the data directory's lock
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(self._path)
        except ImportError:
            pass
