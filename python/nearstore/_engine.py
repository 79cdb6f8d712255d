"""The engine's calls as nearstore.Database and nearstore.Collection make them: the interface
that both faces implement, in-process (nearstore._core) and remote (remote.py).

The package checks every argument (_args.py) before it calls these, so an implementation may
take them as given: ids are lists of str, vectors C-contiguous float32 arrays, integers within
the engine's widths, filters and metadata JSON text ("" for no filter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, Union

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]
# A point's metadata: its JSON text in-process, a dict already parsed remotely (it came inside
# the server's JSON answer).
RawMetadata = Union[str, dict[str, Any]]
RawHit = tuple[str, float, RawMetadata]
RawPoint = tuple[Vector, RawMetadata]


class EngineCollection(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def dim(self) -> int: ...
    @property
    def metric(self) -> str: ...

    def upsert(self, ids: list[str], vectors: Vector, metadata: list[str]) -> None: ...
    def get(self, id: str) -> RawPoint | None: ...  # noqa: A002
    def get_many(self, ids: list[str]) -> Sequence[RawPoint | None]: ...
    def update(self, id: str, vector: Vector | None, metadata: str | None) -> bool: ...  # noqa: A002
    def delete_many(self, ids: list[str]) -> Sequence[bool]: ...
    def delete_where(self, filter: str) -> int: ...  # noqa: A002
    def count(self) -> int: ...
    def count_where(self, filter: str) -> int: ...  # noqa: A002
    def scroll(self, after: str, limit: int, filter: str) -> tuple[Sequence[str], str]: ...  # noqa: A002
    def scroll_points(
        self, after: str, limit: int, filter: str, with_vectors: bool  # noqa: A002
    ) -> tuple[Sequence[tuple[str, Vector | None, RawMetadata]], str]: ...
    def create_index(self, field: str, kind: str) -> None: ...
    def drop_index(self, field: str) -> bool: ...
    def list_indexes(self) -> Any: ...  # pairs or a dict: dict() of it is {field: kind}
    def search(
        self, query: Vector, k: int, with_metadata: bool, ef: int, rerank: int, filter: str  # noqa: A002
    ) -> Sequence[RawHit]: ...
    def search_batch(
        self, queries: Vector, k: int, with_metadata: bool, ef: int, rerank: int, filter: str  # noqa: A002
    ) -> Sequence[Sequence[RawHit]]: ...
    def info(self) -> dict[str, Any]: ...
    def flush(self) -> None: ...
    def compact(self) -> None: ...


class EngineDatabase(Protocol):
    @property
    def path(self) -> str: ...

    def create_collection(
        self,
        name: str,
        dim: int,
        metric: str,
        index: str,
        m: int,
        ef_construction: int,
        ef_search: int,
        quantization: str,
        rerank: int,
    ) -> EngineCollection: ...
    def get_collection(self, name: str) -> EngineCollection: ...
    def list_collections(self) -> Sequence[dict[str, Any]]: ...
    def drop_collection(self, name: str) -> None: ...
    def close(self) -> None: ...
