"""nearstore: an embedded vector database with a C++ engine.

>>> import nearstore
>>> with nearstore.open("my-db") as db:
...     docs = db.get_or_create_collection("docs", dim=384, metric="cosine")
...     docs.insert("doc-1", embedding, {"text": "hello"})
...     for hit in docs.search(query, k=3):
...         print(hit.id, hit.distance, hit.metadata)

Vectors are numpy arrays (float32 C-contiguous arrays cross without a copy; other dtypes and
lists are converted). Distances: cosine -> 1 - cos, l2 -> Euclidean, dot -> -dot; smaller is
closer. Searches and bulk writes release the GIL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, Optional, Union

import numpy as np
import numpy.typing as npt

from . import _core
from .errors import (
    AlreadyExistsError,
    BusyError,
    ClosedError,
    CorruptionError,
    Error,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    UnavailableError,
    BY_CODE_NAME,
)

# The engine raises by status code name through the one table (errors.py).
_core._set_error_classes(BY_CODE_NAME)

__all__ = [
    "open",
    "connect",
    "Database",
    "Collection",
    "Hit",
    "Filter",
    "Error",
    "InvalidArgumentError",
    "NotFoundError",
    "AlreadyExistsError",
    "CorruptionError",
    "StorageError",
    "BusyError",
    "ClosedError",
    "InternalError",
    "PermissionDeniedError",
    "UnavailableError",
]
__version__ = "0.1.0"

VectorLike = Union[npt.ArrayLike, Sequence[float]]
Metadata = Optional[dict[str, Any]]


class Hit(NamedTuple):
    """One search result; unpacks as ``(id, distance, metadata)``. ``metadata`` is None when
    the search was asked not to fetch it (``with_metadata=False``)."""

    id: str
    distance: float
    metadata: Optional[dict[str, Any]]


class Filter:
    """A filter in nearstore's filter language (docs/FILTERS.md), checked when made: a bad one
    raises InvalidArgumentError naming the faulty part. ``filter`` is a dict or JSON text."""

    def __init__(self, filter: Union[dict[str, Any], str]) -> None:  # noqa: A002
        self.text = filter if isinstance(filter, str) else json.dumps(filter)
        self._core = _core.Filter(self.text)

    def matches(self, metadata: Metadata, id: str = "") -> bool:
        """Whether a point with this metadata and id passes (the engine's own evaluation)."""
        return self._core.matches(json.dumps(metadata if metadata is not None else {}), id)


FilterLike = Union[dict[str, Any], str, Filter, None]


def _filter_text(f: FilterLike) -> str:
    """The JSON text of a filter ("" for None: every point); the engine parses and checks it."""
    if f is None:
        return ""
    if isinstance(f, Filter):
        return f.text
    if isinstance(f, str):
        return f
    if not isinstance(f, dict):
        raise InvalidArgumentError(
            f"a filter is a dict, JSON text or nearstore.Filter, got {type(f).__name__}"
        )
    try:
        return json.dumps(f, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"filter is not JSON-serialisable: {e}") from None


def _vector(v: VectorLike) -> np.ndarray:
    arr = np.ascontiguousarray(v, dtype=np.float32)
    if arr.ndim != 1:
        raise InvalidArgumentError(f"expected one vector (1-d), got an array of shape {arr.shape}")
    return arr


def _matrix(v: VectorLike) -> np.ndarray:
    arr = np.ascontiguousarray(v, dtype=np.float32)
    if arr.ndim == 1 and arr.size == 0:
        return arr.reshape(0, 0)
    if arr.ndim != 2:
        raise InvalidArgumentError(f"expected an (n, dim) array of vectors, got shape {arr.shape}")
    return arr


def _metadata_text(metadata: Metadata) -> str:
    if metadata is None:
        return "{}"
    if not isinstance(metadata, dict):
        raise InvalidArgumentError(
            f"metadata must be a dict (a JSON object), got {type(metadata).__name__}"
        )
    try:
        return json.dumps(metadata, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"metadata is not JSON-serialisable: {e}") from None


def _hits(raw: list[tuple[str, float, str]], with_metadata: bool = True) -> list[Hit]:
    if not with_metadata:
        return [Hit(i, d, None) for i, d, _ in raw]
    # Points without metadata store "{}": skip the parser for them (a search is a few tens of
    # microseconds, and json.loads costs about one per hit).
    return [Hit(i, d, _metadata(m)) for i, d, m in raw]


_NO_METADATA = ("", "{}")


def _metadata(m: Union[str, dict[str, Any]]) -> dict[str, Any]:
    """A point's metadata from the engine: its JSON text in-process, or a dict already parsed
    (a remote database's, which arrived inside the server's JSON answer)."""
    if isinstance(m, dict):
        return m
    return {} if m in _NO_METADATA else json.loads(m)


class Collection:
    """A named set of points of one dimension and metric. Safe to use from several threads."""

    def __init__(self, core: _core.Collection) -> None:
        self._core = core

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def dim(self) -> int:
        return self._core.dim

    @property
    def metric(self) -> str:
        return self._core.metric

    def insert(self, id: str, vector: VectorLike, metadata: Metadata = None) -> None:
        """Stores a point, replacing any point with the same id."""
        self._core.upsert([id], _vector(vector).reshape(1, -1), [_metadata_text(metadata)])

    def upsert(
        self,
        ids: Sequence[str],
        vectors: VectorLike,
        metadatas: Optional[Sequence[Metadata]] = None,
    ) -> None:
        """Stores many points atomically (all or none); for a repeated id the last one wins."""
        ids = list(ids)
        arr = _matrix(vectors)
        if metadatas is None:
            texts: list[str] = []
        else:
            texts = [_metadata_text(m) for m in metadatas]
            if len(texts) != len(ids):
                raise InvalidArgumentError(
                    f"got {len(texts)} metadatas for {len(ids)} ids; expected one per id or None"
                )
        if arr.shape[0] == 0 and not ids:
            return
        self._core.upsert(ids, arr, texts)

    def search(
        self,
        vector: VectorLike,
        k: int = 10,
        *,
        ef: int = 0,
        rerank: int = 0,
        with_metadata: bool = True,
        filter: FilterLike = None,  # noqa: A002
    ) -> list[Hit]:
        """The k nearest points, closest first (ties broken by id).

        ``filter`` (a dict, JSON text or Filter; docs/FILTERS.md): only points whose metadata
        passes; k hits whenever at least k points pass.
        ``ef`` (hnsw collections): the candidate list of this search, 0 = the collection's
        ``ef_search``; larger finds more of the true nearest points, more slowly.
        ``rerank`` (quantized collections): re-rank the best ``k * rerank`` on the float
        vectors in this search, 0 = the collection's ``rerank``.
        ``with_metadata=False`` returns ids and distances only (hits' metadata is None), which
        spares reading and parsing each hit's metadata.
        """
        raw = self._core.search(
            _vector(vector), k, bool(with_metadata), _ef(ef), _rerank(rerank), _filter_text(filter)
        )
        return _hits(raw, with_metadata)

    def search_batch(
        self,
        vectors: VectorLike,
        k: int = 10,
        *,
        ef: int = 0,
        rerank: int = 0,
        with_metadata: bool = True,
        filter: FilterLike = None,  # noqa: A002
    ) -> list[list[Hit]]:
        """One result list per row of ``vectors``, searched in parallel."""
        arr = _matrix(vectors)
        if arr.shape[0] == 0:
            return []
        raw = self._core.search_batch(
            arr, k, bool(with_metadata), _ef(ef), _rerank(rerank), _filter_text(filter)
        )
        return [_hits(r, with_metadata) for r in raw]

    def get(self, id: str) -> Optional[tuple[np.ndarray, dict[str, Any]]]:
        """``(vector, metadata)`` of the point, or None. Cosine vectors come back normalised."""
        got = self._core.get(id)
        if got is None:
            return None
        return got[0], _metadata(got[1])

    def get_many(self, ids: Iterable[str]) -> list[Optional[tuple[np.ndarray, dict[str, Any]]]]:
        return [
            None if g is None else (g[0], _metadata(g[1])) for g in self._core.get_many(list(ids))
        ]

    def update(
        self, id: str, vector: Optional[VectorLike] = None, metadata: Metadata = None
    ) -> bool:
        """Replaces the vector and/or metadata given; False (and no change) when id is absent."""
        return self._core.update(
            id,
            None if vector is None else _vector(vector),
            None if metadata is None else _metadata_text(metadata),
        )

    def delete(self, id: str) -> bool:
        """True when the point existed."""
        return self._core.delete_many([id])[0]

    def delete_many(
        self,
        ids: Optional[Iterable[str]] = None,
        *,
        filter: FilterLike = None,  # noqa: A002
    ) -> int:
        """Deletes atomically the points with these ids, or the points passing ``filter``
        (``{}`` deletes all); returns how many were deleted. A bad filter changes nothing."""
        if (ids is None) == (filter is None):
            raise InvalidArgumentError("delete_many takes either ids or filter=, not both")
        if filter is not None:
            return self._core.delete_where(_filter_text(filter))
        return sum(self._core.delete_many(list(ids)))  # type: ignore[arg-type]

    def count(self, filter: FilterLike = None) -> int:  # noqa: A002
        """The number of points, or of the points passing ``filter``."""
        if filter is None:
            return self._core.count()
        return self._core.count_where(_filter_text(filter))

    def get_where(
        self,
        filter: FilterLike,  # noqa: A002
        limit: Optional[int] = None,
        *,
        with_vectors: bool = True,
    ) -> list[tuple[str, Optional[np.ndarray], dict[str, Any]]]:
        """``(id, vector, metadata)`` of the points passing ``filter``, in ascending id order,
        at most ``limit`` of them (None: all). ``with_vectors=False`` gives None vectors."""
        text = _filter_text(filter)
        out: list[tuple[str, Optional[np.ndarray], dict[str, Any]]] = []
        after = ""
        while limit is None or len(out) < limit:
            want = 1000 if limit is None else min(1000, limit - len(out))
            page, after = self._core.scroll_points(after, want, text, bool(with_vectors))
            out.extend((i, v, _metadata(m)) for i, v, m in page)
            if not after:
                break
        return out

    def create_index(self, field: str, kind: str) -> None:
        """A payload index on metadata field ``field`` (a dotted path) of kind ``"keyword"``,
        ``"int"``, ``"float"`` or ``"bool"``, built now over the existing points. Filters on
        the field are then answered from it (docs/FILTERS.md, "Payload indexes")."""
        self._core.create_index(field, kind)

    def drop_index(self, field: str) -> bool:
        """True when there was an index on ``field``."""
        return self._core.drop_index(field)

    def list_indexes(self) -> dict[str, str]:
        """``{field: kind}`` of the payload indexes."""
        return dict(self._core.list_indexes())

    def __len__(self) -> int:
        return self._core.count()

    def ids(self, page_size: int = 1000, *, filter: FilterLike = None) -> Iterator[str]:  # noqa: A002
        """Every id in ascending order (of the points passing ``filter``), a page at a time."""
        text = _filter_text(filter)
        after = ""
        while True:
            page, after = self._core.scroll(after, page_size, text)
            yield from page
            if not after:
                return

    def flush(self) -> None:
        """Seals buffered points into a segment file now (normally automatic)."""
        self._core.flush()

    def compact(self) -> None:
        """Rewrites segments without deleted points now (normally automatic)."""
        self._core.compact()

    def info(self) -> dict[str, Any]:
        return self._core.info()

    def __repr__(self) -> str:
        return f"Collection(name={self.name!r}, dim={self.dim}, metric={self.metric!r})"


class Database:
    """A directory of collections (or an in-memory one). Use as a context manager."""

    def __init__(self, core: _core.Database) -> None:
        self._core = core

    @property
    def path(self) -> Optional[str]:
        return self._core.path or None

    def create_collection(
        self,
        name: str,
        dim: int,
        metric: str = "cosine",
        *,
        index: str = "flat",
        m: int = 16,
        ef_construction: int = 200,
        ef_search: int = 64,
        quantization: str = "none",
        rerank: int = 0,
    ) -> Collection:
        """A new collection. ``index="flat"`` searches exactly; ``index="hnsw"`` gives each
        sealed segment an HNSW graph with ``m`` links per node, built with a candidate list of
        ``ef_construction``, searched with ``ef_search`` unless a search says otherwise.

        ``quantization="sq8"`` (hnsw only) walks the graphs on 8-bit codes of the vectors and
        re-ranks the best ``k * rerank`` candidates on the float vectors; ``"binary"`` walks
        on 1 bit per dimension (for embedding models of many dimensions). ``rerank=0`` takes
        the quantization's default (4 for sq8, 20 for binary)."""
        numbers = (("m", m), ("ef_construction", ef_construction), ("ef_search", ef_search),
                   ("rerank", rerank))
        for key, value in numbers:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**32:
                raise InvalidArgumentError(f"{key} must be a non-negative integer, got {value!r}")
        return Collection(
            self._core.create_collection(
                name, dim, metric, index, m, ef_construction, ef_search, quantization, rerank
            )
        )

    def get_collection(self, name: str) -> Collection:
        return Collection(self._core.get_collection(name))

    def get_or_create_collection(
        self, name: str, dim: int, metric: str = "cosine", **index: Any
    ) -> Collection:
        """The existing collection (which must have this dim and metric, and the index settings
        given, if any), or a new one made with them (``index``, ``m``, ``ef_construction``,
        ``ef_search``, ``quantization``, ``rerank`` as in :meth:`create_collection`)."""
        settings = {"index", "m", "ef_construction", "ef_search", "quantization", "rerank"}
        unknown = set(index) - settings
        if unknown:
            raise InvalidArgumentError(
                f"unknown collection settings {sorted(unknown)}; expected {', '.join(sorted(settings))}"
            )
        try:
            col = self.get_collection(name)
        except NotFoundError:
            return self.create_collection(name, dim, metric, **index)
        info = col.info()
        asked = {"dim": dim, "metric": _canonical_metric(metric), **index}
        differ = {k: v for k, v in asked.items() if info[k] != v}
        if differ:
            have = ", ".join(f"{k}={info[k]!r}" for k in differ)
            want = ", ".join(f"{k}={v!r}" for k, v in differ.items())
            raise InvalidArgumentError(f"collection '{name}' exists with {have}; asked for {want}")
        return col

    def list_collections(self) -> list[str]:
        return [c["name"] for c in self._core.list_collections()]

    def drop_collection(self, name: str) -> None:
        self._core.drop_collection(name)

    def close(self) -> None:
        self._core.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database(path={self.path!r})"


def _ef(ef: int) -> int:
    if not isinstance(ef, int) or isinstance(ef, bool) or not 0 <= ef < 2**32:
        raise InvalidArgumentError(f"ef must be 0 (the collection's ef_search) or more, got {ef!r}")
    return ef


def _rerank(rerank: int) -> int:
    if not isinstance(rerank, int) or isinstance(rerank, bool) or not 0 <= rerank < 2**32:
        raise InvalidArgumentError(
            f"rerank must be 0 (the collection's rerank) or more, got {rerank!r}"
        )
    return rerank


def _canonical_metric(metric: str) -> str:
    return {"euclidean": "l2", "ip": "dot"}.get(metric, metric)


def open(  # noqa: A001
    path: Optional[str] = None,
    *,
    sync: bool = True,
    threads: int = 0,
    memtable_max_bytes: int = 0,
) -> Database:
    """Opens (creating if missing) the database in directory ``path``; no path = in memory.

    ``sync=False`` acknowledges writes before they are fsynced: they survive a crash of the
    process but not a power cut. ``threads`` caps the threads one search, and one index build,
    may use (0 = every core; 1 = the calling thread only, for applications that run many
    searches side by side). ``memtable_max_bytes`` (0 = 64 MiB) is how many bytes of vectors a
    collection buffers before sealing them into a segment: a bulk load into an hnsw collection
    that fits in one memtable gets one graph instead of one per 64 MiB.
    """
    import os

    for key, value in (("threads", threads), ("memtable_max_bytes", memtable_max_bytes)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidArgumentError(f"{key} must be 0 (the default) or more, got {value!r}")
    return Database(
        _core.Database.open(
            None if path is None else os.fspath(path), sync, threads, memtable_max_bytes
        )
    )


def connect(
    url: str,
    api_key: Optional[str] = None,
    *,
    timeout: float = 30.0,
    verify: Any = True,
) -> Database:
    """The database served by ``nearstore serve`` at ``url`` (``"http://host:port"``), with
    exactly the API of :func:`open`'s: same methods, results and exceptions, plus
    :class:`PermissionDeniedError` (the key) and :class:`UnavailableError` (the network, a
    server shutting down or too busy). ``api_key`` is sent with every request. For https,
    ``verify`` is True (the system's trusted certificates), a CA file's path, an
    ``ssl.SSLContext``, or False (no check). Keep-alive connections, one per calling thread;
    the object is safe to share between threads. ``path`` is the URL.
    """
    from .remote import RemoteDatabase

    return Database(RemoteDatabase(url, api_key, timeout, verify))  # type: ignore[arg-type]
