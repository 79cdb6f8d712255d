"""nearstore.Collection: the points of one collection, on either face (in-process or remote)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, Optional, Union

import numpy as np
import numpy.typing as npt

from . import _args
from ._args import INT32_MAX, UINT32_MAX, UINT64_MAX
from ._engine import EngineCollection, RawHit, RawMetadata, RawPoint
from .errors import InvalidArgumentError, InvalidTypeError
from .filters import FilterLike, filter_text

VectorLike = Union[npt.ArrayLike, Sequence[float]]
Metadata = Optional[dict[str, Any]]
Point = tuple[npt.NDArray[np.float32], dict[str, Any]]

# Points a get_where or ids() call asks the engine for at a time.
_PAGE = 1000


class Hit(NamedTuple):
    """One search result; unpacks as ``(id, distance, metadata)``. ``metadata`` is None when
    the search was asked not to fetch it (``with_metadata=False``)."""

    id: str
    distance: float
    metadata: dict[str, Any] | None


def _hits(raw: Sequence[RawHit], with_metadata: bool) -> list[Hit]:
    if not with_metadata:
        return [Hit(i, d, None) for i, d, _ in raw]
    return [Hit(i, d, _metadata(m)) for i, d, m in raw]


_NO_METADATA = ("", "{}")


def _metadata(m: RawMetadata) -> dict[str, Any]:
    """A point's metadata from the engine: its JSON text in-process, or a dict already parsed
    (a remote database's, which arrived inside the server's JSON answer). Points without
    metadata store "{}": the parser is skipped for them (a search is a few tens of
    microseconds, and json.loads costs about one per hit)."""
    if isinstance(m, dict):
        return m
    if m in _NO_METADATA:
        return {}
    parsed: dict[str, Any] = json.loads(m)
    return parsed


def _point(p: RawPoint | None) -> Point | None:
    return None if p is None else (p[0], _metadata(p[1]))


def _k(k: object) -> int:
    return _args.integer("k", k, -INT32_MAX - 1, INT32_MAX)


def _ef(ef: object) -> int:
    return _args.integer("ef", ef, 0, UINT32_MAX, " (0: the collection's ef_search)")


def _rerank(rerank: object) -> int:
    return _args.integer("rerank", rerank, 0, UINT32_MAX, " (0: the collection's rerank)")


class Collection:
    """A named set of points of one dimension and metric. Safe to use from several threads.

    A collection keeps the database it came from open while it is referenced, so
    ``nearstore.open(path).get_collection(name)`` is usable on its own; ``Database.close()``
    (or leaving its ``with`` block) still closes the database at once, and every call on its
    collections then raises ClosedError.
    """

    def __init__(self, core: EngineCollection, database: object) -> None:
        self._core = core
        self._database = database  # held only to keep it open (see the class comment)

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def dim(self) -> int:
        return self._core.dim

    @property
    def metric(self) -> str:
        return self._core.metric

    def insert(self, id: str, vector: VectorLike, metadata: Metadata = None) -> None:  # noqa: A002
        """Stores a point, replacing any point with the same id."""
        self._core.upsert(
            [_args.text("id", id)],
            _args.vector("vector", vector).reshape(1, -1),
            [_args.metadata("metadata", metadata)],
        )

    def upsert(
        self,
        ids: Iterable[str],
        vectors: VectorLike,
        metadatas: Iterable[Metadata] | None = None,
    ) -> None:
        """Stores many points atomically (all or none); for a repeated id the last one wins.
        ``ids`` is a list (any iterable) of str, ``vectors`` an (n, dim) array, ``metadatas``
        one dict (or None) per id, or None for none."""
        id_list = _args.id_list("ids", ids)
        arr = _args.matrix("vectors", vectors)
        texts: list[str] = []
        if metadatas is not None:
            if isinstance(metadatas, (dict, str, bytes)) or not isinstance(metadatas, Iterable):
                raise InvalidTypeError(
                    "metadatas must be a list of dicts (one per id, None for none) or None, "
                    f"got {type(metadatas).__name__}"
                )
            texts = [_args.metadata("metadata", m) for m in metadatas]
            if len(texts) != len(id_list):
                raise InvalidArgumentError(
                    f"got {len(texts)} metadatas for {len(id_list)} ids; expected one per id "
                    "or None"
                )
        if arr.shape[0] == 0 and not id_list:
            return
        self._core.upsert(id_list, arr, texts)

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
        with_metadata = _args.flag("with_metadata", with_metadata)
        raw = self._core.search(
            _args.vector("vector", vector),
            _k(k),
            with_metadata,
            _ef(ef),
            _rerank(rerank),
            filter_text(filter),
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
        arr = _args.matrix("vectors", vectors)
        options = (_k(k), _args.flag("with_metadata", with_metadata), _ef(ef), _rerank(rerank))
        text = filter_text(filter)
        if arr.shape[0] == 0:
            return []
        raw = self._core.search_batch(arr, *options, text)
        return [_hits(r, options[1]) for r in raw]

    def get(self, id: str) -> Point | None:  # noqa: A002
        """``(vector, metadata)`` of the point, or None. Cosine vectors come back normalised."""
        return _point(self._core.get(_args.text("id", id)))

    def get_many(self, ids: Iterable[str]) -> list[Point | None]:
        """``(vector, metadata)`` or None per id, in the order of ``ids`` (a list of str)."""
        return [_point(g) for g in self._core.get_many(_args.id_list("ids", ids))]

    def update(
        self,
        id: str,  # noqa: A002
        vector: VectorLike | None = None,
        metadata: Metadata = None,
    ) -> bool:
        """Replaces the vector and/or metadata given; False (and no change) when id is absent."""
        return self._core.update(
            _args.text("id", id),
            None if vector is None else _args.vector("vector", vector),
            None if metadata is None else _args.metadata("metadata", metadata),
        )

    def delete(self, id: str) -> bool:  # noqa: A002
        """True when the point existed."""
        return self._core.delete_many([_args.text("id", id)])[0]

    def delete_many(
        self,
        ids: Iterable[str] | None = None,
        *,
        filter: FilterLike = None,  # noqa: A002
    ) -> int:
        """Deletes atomically the points with these ids, or the points passing ``filter``
        (``{}`` deletes all); returns how many were deleted. A bad filter changes nothing."""
        if ids is None and filter is None:
            raise InvalidArgumentError(
                "delete_many needs ids (a list of str) or filter= (a filter, {} for every "
                "point); got neither"
            )
        if ids is not None and filter is not None:
            raise InvalidArgumentError("delete_many takes either ids or filter=, not both")
        if filter is not None:
            return self._core.delete_where(filter_text(filter))
        return sum(self._core.delete_many(_args.id_list("ids", ids)))

    def count(self, filter: FilterLike = None) -> int:  # noqa: A002
        """The number of points, or of the points passing ``filter``."""
        if filter is None:
            return self._core.count()
        return self._core.count_where(filter_text(filter))

    def get_where(
        self,
        filter: FilterLike,  # noqa: A002
        limit: int | None = None,
        *,
        with_vectors: bool = True,
    ) -> list[tuple[str, npt.NDArray[np.float32] | None, dict[str, Any]]]:
        """``(id, vector, metadata)`` of the points passing ``filter``, in ascending id order,
        at most ``limit`` of them (None: all). ``with_vectors=False`` gives None vectors."""
        text = filter_text(filter)
        most = None if limit is None else _args.integer("limit", limit, 0, UINT64_MAX,
                                                        " (None: every point)")
        with_vectors = _args.flag("with_vectors", with_vectors)
        out: list[tuple[str, npt.NDArray[np.float32] | None, dict[str, Any]]] = []
        after = ""
        while most is None or len(out) < most:
            want = _PAGE if most is None else min(_PAGE, most - len(out))
            page, after = self._core.scroll_points(after, want, text, with_vectors)
            out.extend((i, v, _metadata(m)) for i, v, m in page)
            if not after:
                break
        return out

    def create_index(self, field: str, kind: str) -> None:
        """A payload index on metadata field ``field`` (a dotted path) of kind ``"keyword"``,
        ``"int"``, ``"float"`` or ``"bool"``, built now over the existing points. Filters on
        the field are then answered from it (docs/FILTERS.md, "Payload indexes")."""
        self._core.create_index(_args.text("field", field), _args.text("kind", kind))

    def drop_index(self, field: str) -> bool:
        """True when there was an index on ``field``."""
        return self._core.drop_index(_args.text("field", field))

    def list_indexes(self) -> dict[str, str]:
        """``{field: kind}`` of the payload indexes."""
        return dict(self._core.list_indexes())

    def __len__(self) -> int:
        return self._core.count()

    def ids(self, page_size: int = _PAGE, *, filter: FilterLike = None) -> Iterator[str]:  # noqa: A002
        """Every id in ascending order (of the points passing ``filter``), ``page_size`` at a
        time from the engine. The arguments are checked now, not at the first ``next()``."""
        size = _args.integer("page_size", page_size, 1, UINT64_MAX)
        return self._ids(size, filter_text(filter))

    def _ids(self, page_size: int, text: str) -> Iterator[str]:
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
        """The collection's settings and sizes (ClosedError once dropped or closed)."""
        return self._core.info()

    def __repr__(self) -> str:
        return f"Collection(name={self.name!r}, dim={self.dim}, metric={self.metric!r})"
