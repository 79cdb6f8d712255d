"""nearstore.Database, and the two ways to get one: open (in-process) and connect (remote)."""

from __future__ import annotations

import json
import math
import os
import ssl
from typing import Any

from . import _args, _core
from ._args import INT32_MAX, UINT32_MAX, UINT64_MAX
from ._engine import EngineDatabase
from .collection import Collection
from .errors import InvalidArgumentError, InvalidTypeError, NotFoundError

# The index settings of create_collection, with their defaults.
_INDEX_DEFAULTS: dict[str, Any] = {
    "index": "flat",
    "m": 16,
    "ef_construction": 200,
    "ef_search": 64,
    "quantization": "none",
    "rerank": 0,
}


def _index_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The index settings given, checked: names known, texts str, numbers integers of 32 bits
    (the engine checks their ranges)."""
    unknown = set(settings) - set(_INDEX_DEFAULTS)
    if unknown:
        raise InvalidArgumentError(
            f"unknown collection settings {sorted(unknown)}; expected "
            f"{', '.join(sorted(_INDEX_DEFAULTS))}"
        )
    return {
        key: _args.text(key, value)
        if isinstance(_INDEX_DEFAULTS[key], str)
        else _args.integer(key, value, 0, UINT32_MAX)
        for key, value in settings.items()
    }


def _canonical_metric(metric: str) -> str:
    return {"euclidean": "l2", "ip": "dot"}.get(metric, metric)


class Database:
    """A directory of collections (or an in-memory one, or a remote one). Use as a context
    manager. Safe to use from several threads.

    ``close()``, or leaving the ``with`` block, closes it at once: its collections then raise
    ClosedError. Unclosed, it stays open while this object or any Collection from it is
    referenced, and closes when the last of them is garbage-collected.
    """

    def __init__(self, core: EngineDatabase) -> None:
        self._core = core

    @property
    def path(self) -> str | None:
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
        s = _index_settings(
            {"index": index, "m": m, "ef_construction": ef_construction, "ef_search": ef_search,
             "quantization": quantization, "rerank": rerank}
        )
        core = self._core.create_collection(
            _args.text("name", name),
            _args.integer("dim", dim, 0, UINT32_MAX),
            _args.text("metric", metric),
            s["index"],
            s["m"],
            s["ef_construction"],
            s["ef_search"],
            s["quantization"],
            s["rerank"],
        )
        return Collection(core, self)

    def get_collection(self, name: str) -> Collection:
        """The collection of that name (NotFoundError when there is none)."""
        return Collection(self._core.get_collection(_args.text("name", name)), self)

    def get_or_create_collection(
        self, name: str, dim: int, metric: str = "cosine", **index: Any
    ) -> Collection:
        """The existing collection (which must have this dim and metric, and the index settings
        given, if any), or a new one made with them (``index``, ``m``, ``ef_construction``,
        ``ef_search``, ``quantization``, ``rerank`` as in :meth:`create_collection`)."""
        settings = _index_settings(index)
        asked = {
            "dim": _args.integer("dim", dim, 0, UINT32_MAX),
            "metric": _canonical_metric(_args.text("metric", metric)),
            **settings,
        }
        try:
            col = self.get_collection(name)
        except NotFoundError:
            return self.create_collection(name, dim, metric, **settings)
        info = col.info()
        differ = {k: v for k, v in asked.items() if info[k] != v}
        if differ:
            have = ", ".join(f"{k}={info[k]!r}" for k in differ)
            want = ", ".join(f"{k}={v!r}" for k, v in differ.items())
            raise InvalidArgumentError(f"collection '{name}' exists with {have}; asked for {want}")
        return col

    def list_collections(self) -> list[str]:
        """The names of the collections, sorted."""
        return [c["name"] for c in self._core.list_collections()]

    def drop_collection(self, name: str) -> None:
        """Deletes the collection and its points (NotFoundError when there is none); its
        Collection objects then raise ClosedError."""
        self._core.drop_collection(_args.text("name", name))

    def close(self) -> None:
        """Closes the database now (closing twice is harmless)."""
        self._core.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Database(path={self.path!r})"


def verify(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Checks every file of the database in directory ``path`` -- each checksum, each segment
    against the MANIFEST, each log record -- without opening it: it takes no lock and writes
    nothing, so it may run while another process has the database open.

    Returns the report ``nearstore verify --json`` prints: ``{"path", "ok", "counts": {"ok",
    "note", "warning", "damaged"}, "files": [{"file", "status", "detail"}]}``; ``ok`` is False
    when any file is damaged (status ``"DAMAGED"``). Raises InvalidArgumentError when ``path``
    is not a nearstore database.
    """
    text = _path(path)
    if text is None:
        raise InvalidTypeError("path must name a database directory, got None")
    report: dict[str, Any] = json.loads(_core.verify(text))
    return report


def _path(path: str | os.PathLike[str] | None) -> str | None:
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidTypeError(
            f"path must be a str or os.PathLike (or None: in memory), got {type(path).__name__}"
        )
    text = os.fspath(path)
    if not isinstance(text, str):  # a PathLike of bytes
        raise InvalidTypeError(f"path must name a directory as str, got {type(text).__name__}")
    if "\0" in text:
        raise InvalidArgumentError(f"path may not hold a NUL character, got {text!r}")
    _args.unicode("path", text)
    return text


def open(  # noqa: A001
    path: str | os.PathLike[str] | None = None,
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
    return Database(
        _core.Database.open(
            _path(path),
            _args.flag("sync", sync),
            _args.integer("threads", threads, 0, INT32_MAX, " (0: every core)"),
            _args.integer(
                "memtable_max_bytes", memtable_max_bytes, 0, UINT64_MAX, " (0: the default)"
            ),
        )
    )


def connect(
    url: str,
    api_key: str | None = None,
    *,
    timeout: float = 30.0,
    verify: bool | str | ssl.SSLContext = True,
) -> Database:
    """The database served by ``nearstore serve`` at ``url`` (``"http://host:port"``), with
    exactly the API of :func:`open`'s: same methods, results and exceptions, plus
    :class:`PermissionDeniedError` (the key) and :class:`UnavailableError` (the network, a
    server shutting down or too busy). ``api_key`` is sent with every request. ``timeout`` is
    in seconds (a positive number). For https, ``verify`` is True (the system's trusted
    certificates), a CA file's path, an ``ssl.SSLContext``, or False (no check). Keep-alive
    connections, one per calling thread; the object is safe to share between threads.
    ``path`` is the URL.
    """
    from .remote import RemoteDatabase

    if api_key is not None:
        _args.text("api_key", api_key)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InvalidTypeError(
            f"timeout must be a number of seconds, got {type(timeout).__name__}"
        )
    if not math.isfinite(timeout) or timeout <= 0:
        raise InvalidArgumentError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not isinstance(verify, (bool, str, ssl.SSLContext)):
        raise InvalidTypeError(
            "verify must be True, False, a CA file's path or an ssl.SSLContext, got "
            f"{type(verify).__name__}"
        )
    return Database(RemoteDatabase(_args.text("url", url), api_key, float(timeout), verify))
