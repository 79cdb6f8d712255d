"""Adapters for nearstore and for the index libraries: FAISS, hnswlib, USearch, glass, Voyager.

How each peer is driven fairly is in bench/README.md ("The peers"); every graph index gets the same
M and ef_construction (engine.DEFAULT_M / DEFAULT_EF_CONSTRUCTION unless the suite says otherwise).
Libraries that keep their index in memory still save it to `workdir`, so that the index size on disk
is measured the same way for every engine.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from engine import DEFAULT_EF_CONSTRUCTION, DEFAULT_M, Engine, ef_sweep


def _graph_params(params: dict[str, Any]) -> tuple[int, int]:
    return int(params.get("M", DEFAULT_M)), int(
        params.get("ef_construction", DEFAULT_EF_CONSTRUCTION)
    )


class NearstoreFlat(Engine):
    """nearstore's exact search, on disk: rows are inserted in batches, then sealed into a segment.

    The thread cap of a nearstore database is set when it is opened, so the adapter reopens the
    directory with threads=1 for the single-thread searches and with every core for the batch."""

    name = "nearstore-flat"
    package = "nearstore"
    exact = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import nearstore

        self._nearstore = nearstore
        self._db = nearstore.open(self.workdir / "db", threads=self.threads)
        self._col = self._db.create_collection("bench", dim=self.dim, metric=self.metric)
        self._threads_open = self.threads
        self._ef = 0  # the hnsw subclass's knob; a flat collection ignores it
        self._rerank = 0  # the quantized subclasses' knob (0: the collection's)

    def build(self, base: np.ndarray) -> None:
        batch = 8192
        for start in range(0, len(base), batch):
            rows = base[start : start + batch]
            self._col.upsert([str(i) for i in range(start, start + len(rows))], rows)
        self._col.flush()  # seal the memtable: the searches run on the on-disk segment

    def _reopen(self, threads: int) -> None:
        """One process may hold the directory once; the thread cap is set when it is opened."""
        if self._threads_open == threads:
            return
        self._db.close()
        self._db = self._nearstore.open(self.workdir / "db", threads=threads)
        self._col = self._db.get_collection("bench")
        self._threads_open = threads

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        self._reopen(1)
        return np.fromiter(
            (
                int(h.id)
                for h in self._col.search(
                    query, k, ef=self._ef, rerank=self._rerank, with_metadata=False
                )
            ),
            dtype=np.int64,
            count=-1,
        )

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        self._reopen(self.threads)
        return [
            np.fromiter((int(h.id) for h in hits), dtype=np.int64)
            for hits in self._col.search_batch(
                queries, k, ef=self._ef, rerank=self._rerank, with_metadata=False
            )
        ]

    def close(self) -> None:
        self._db.close()


class NearstoreHnsw(NearstoreFlat):
    """nearstore's HNSW collection, on disk. The memtable is sized to hold the whole set, so that
    the flush seals one segment with one graph (as a bulk load should be done; by default every
    64 MiB of vectors would seal a segment with a graph of its own). Build time includes the
    write-ahead log (without fsync), the graph and the segment file."""

    name = "nearstore-hnsw"
    exact = False
    quantization = "none"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        Engine.__init__(self, *args, **kwargs)
        import nearstore

        self._nearstore = nearstore
        self._ef = 0
        self._rerank = 0

    def build(self, base: np.ndarray) -> None:
        m, efc = _graph_params(self.params)
        memtable = max(64 << 20, base.nbytes + (16 << 20))
        self._db = self._nearstore.open(
            self.workdir / "db", sync=False, threads=self.threads, memtable_max_bytes=memtable
        )
        self._col = self._db.create_collection(
            "bench",
            dim=self.dim,
            metric=self.metric,
            index="hnsw",
            m=m,
            ef_construction=efc,
            quantization=self.quantization,
        )
        self._threads_open = self.threads
        super().build(base)
        info = self._col.info()
        if info["indexed_rows"] != len(base) or info["segments"] != 1:
            raise RuntimeError(f"expected one segment with a graph of every row, got {info}")

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._ef = knob["ef"]


class NearstoreHnswSq8(NearstoreHnsw):
    """The same, walking the graph on SQ8 codes and re-ranking the best k * 4 on the float
    vectors (the walk's candidate list is then at least 40 for k = 10, whatever the ef)."""

    name = "nearstore-hnsw-sq8"
    quantization = "sq8"


class NearstoreHnswBinary(NearstoreHnsw):
    """The same on binary codes (1 bit per dimension). One knob, as for the other graphs: the
    walk keeps ef candidates and all of them are re-ranked on the float vectors (the search's
    rerank is ef / k, at least 1), so that small ef values are not all widened to the
    collection's default of k * 20."""

    name = "nearstore-hnsw-binary"
    quantization = "binary"

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._ef = knob["ef"]
        self._rerank = max(1, min(64, knob["ef"] // 10))


# ---- FAISS -------------------------------------------------------------------------------------


class _Faiss(Engine):
    package = "faiss-cpu"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import faiss

        self._faiss = faiss
        # FAISS's switch from its own SIMD loop to BLAS for exact distances. faiss-cpu 1.15.1
        # ships 128,000 (older releases: 20); measured here, the shipped value is 2.3x faster for
        # one query per call, while 20 is 10x faster for a batch of a thousand. Each mode gets the
        # value that is best for it.
        self._blas_threshold_one = faiss.cvar.distance_compute_blas_threshold
        self._blas_threshold_batch = 20
        # Cosine is inner product on the normalised vectors the datasets provide.
        self._faiss_metric = (
            faiss.METRIC_INNER_PRODUCT if self.metric == "cosine" else faiss.METRIC_L2
        )
        self._index: Any = None
        self._search_params: Any = None

    def build(self, base: np.ndarray) -> None:
        self._faiss.omp_set_num_threads(self.threads)
        self._index = self._make(np.ascontiguousarray(base))
        self._faiss.write_index(self._index, str(self.workdir / "index.faiss"))

    def _make(self, base: np.ndarray) -> Any:
        raise NotImplementedError

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        self._faiss.omp_set_num_threads(1)
        self._faiss.cvar.distance_compute_blas_threshold = self._blas_threshold_one
        _, ids = self._index.search(query.reshape(1, -1), k, params=self._search_params)
        return ids[0].astype(np.int64)

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        self._faiss.omp_set_num_threads(self.threads)
        self._faiss.cvar.distance_compute_blas_threshold = self._blas_threshold_batch
        _, ids = self._index.search(queries, k, params=self._search_params)
        return list(ids.astype(np.int64))


class FaissFlat(_Faiss):
    """IndexFlatIP / IndexFlatL2: FAISS's exact search (BLAS for batches of 20 queries or more)."""

    name = "faiss-flat"
    exact = True

    def _make(self, base: np.ndarray) -> Any:
        index = self._faiss.IndexFlat(self.dim, self._faiss_metric)
        index.add(base)
        return index


class FaissHnsw(_Faiss):
    """IndexHNSWFlat with the shared M / ef_construction; efSearch per query
    (SearchParametersHNSW)."""

    name = "faiss-hnsw"

    def _make(self, base: np.ndarray) -> Any:
        m, efc = _graph_params(self.params)
        index = self._faiss.IndexHNSWFlat(self.dim, m, self._faiss_metric)
        index.hnsw.efConstruction = efc
        index.add(base)
        return index

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._search_params = self._faiss.SearchParametersHNSW(efSearch=knob["ef"])


class FaissIvf(_Faiss):
    """IndexIVFFlat with nlist = 4·sqrt(n) lists (FAISS's own rule of thumb), swept over nprobe."""

    name = "faiss-ivf"

    def _make(self, base: np.ndarray) -> Any:
        self._nlist = int(self.params.get("nlist", max(1, round(4 * math.sqrt(len(base))))))
        quantizer = self._faiss.IndexFlat(self.dim, self._faiss_metric)
        index = self._faiss.IndexIVFFlat(quantizer, self.dim, self._nlist, self._faiss_metric)
        # Trained on a seeded sample, as FAISS recommends (at most 256 points per list).
        sample = base
        if len(base) > 256 * self._nlist:
            rng = np.random.default_rng(0)
            sample = base[np.sort(rng.choice(len(base), 256 * self._nlist, replace=False))]
        index.train(np.ascontiguousarray(sample))
        index.add(base)
        return index

    def query_knobs(self) -> list[dict[str, Any]]:
        nlist = getattr(self, "_nlist", 1 << 30)
        return [{"nprobe": p} for p in (1, 2, 4, 8, 16, 32, 64, 128, 256) if p <= nlist]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._search_params = self._faiss.SearchParametersIVF(nprobe=knob["nprobe"])


# ---- the HNSW libraries --------------------------------------------------------------------------


class Hnswlib(Engine):
    """hnswlib: `set_ef` is global state on the index; knn_query(num_threads=1) for one thread."""

    name = "hnswlib"
    package = "hnswlib"

    def build(self, base: np.ndarray) -> None:
        import hnswlib

        m, efc = _graph_params(self.params)
        # "ip" on normalised vectors ranks as cosine without hnswlib normalising a second time.
        self._index = hnswlib.Index(space="ip" if self.metric == "cosine" else "l2", dim=self.dim)
        self._index.init_index(max_elements=len(base), M=m, ef_construction=efc, random_seed=100)
        self._index.add_items(base, np.arange(len(base)), num_threads=self.threads)
        self._index.save_index(str(self.workdir / "index.bin"))

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._index.set_ef(knob["ef"])

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        ids, _ = self._index.knn_query(query, k=k, num_threads=1)
        return ids[0].astype(np.int64)

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        ids, _ = self._index.knn_query(queries, k=k, num_threads=self.threads)
        return list(ids.astype(np.int64))


class Usearch(Engine):
    """USearch: connectivity = M, expansion_add = ef_construction, expansion_search swept."""

    name = "usearch"
    package = "usearch"

    def build(self, base: np.ndarray) -> None:
        from usearch.index import Index

        m, efc = _graph_params(self.params)
        self._index = Index(
            ndim=self.dim,
            metric="ip" if self.metric == "cosine" else "l2sq",
            dtype="f32",
            connectivity=m,
            expansion_add=efc,
        )
        self._index.add(np.arange(len(base)), base, threads=self.threads)
        self._index.save(str(self.workdir / "index.usearch"))

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._index.expansion_search = knob["ef"]

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        return self._index.search(query, k, threads=1).keys.astype(np.int64)

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        return list(self._index.search(queries, k, threads=self.threads).keys.astype(np.int64))


class Glass(Engine):
    """glass (pyglass-portable): HNSW graph with R = 2M and L = ef_construction, searched on SQ8U
    codes and refined on the float32 vectors, after optimize() tunes its prefetch."""

    name = "glass"
    package = "pyglass-portable"

    def build(self, base: np.ndarray) -> None:
        import glass

        self._glass = glass
        m, efc = _graph_params(self.params)
        metric = "IP" if self.metric == "cosine" else "L2"
        glass.set_num_threads(self.threads)
        graph = glass.Index("HNSW", metric=metric, quant="SQ8U", R=2 * m, L=efc).build(base)
        graph.save(str(self.workdir / "graph.glass"))
        self._searcher = glass.Searcher(graph, base, metric, "SQ8U", "FP32")
        self._searcher.optimize(1)

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._searcher.set_ef(knob["ef"])

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        ids, _ = self._searcher.search(query, k)  # two rows: ids (as floats), distances
        return np.asarray(ids, dtype=np.int64)

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        ids, _ = self._searcher.batch_search(queries, k, self.threads)
        return list(np.asarray(ids, dtype=np.int64))


class Voyager(Engine):
    """Spotify's Voyager (an hnswlib descendant): M, ef_construction, query_ef per call."""

    name = "voyager"
    package = "voyager"

    def build(self, base: np.ndarray) -> None:
        import voyager

        m, efc = _graph_params(self.params)
        space = voyager.Space.InnerProduct if self.metric == "cosine" else voyager.Space.Euclidean
        self._index = voyager.Index(
            space, num_dimensions=self.dim, M=m, ef_construction=efc, random_seed=1
        )
        self._index.add_items(base, ids=list(range(len(base))), num_threads=self.threads)
        self._index.save(str(self.workdir / "index.voy"))
        self._ef = 10

    def query_knobs(self) -> list[dict[str, Any]]:
        return [{"ef": e} for e in ef_sweep()]

    def set_query_knob(self, knob: dict[str, Any]) -> None:
        self._ef = knob["ef"]

    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        ids, _ = self._index.query(query, k=k, num_threads=1, query_ef=self._ef)
        return ids.astype(np.int64)

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        ids, _ = self._index.query(queries, k=k, num_threads=self.threads, query_ef=self._ef)
        return list(ids.astype(np.int64))
