"""The engine over HTTP: the same calls as the in-process engine (nearstore._core), made on a
`nearstore serve` server's native /v1/ routes (docs/SERVER.md).

``nearstore.connect(url)`` wraps these in the very classes ``nearstore.open`` returns
(Database, Collection), so a remote database has exactly the embedded API: same methods, same
arguments, same results (numpy vectors, Hit tuples, dicts) and the same exceptions, raised from
the server's error codes. Keep-alive connections (http_connection.py), one per calling thread; a
Database is safe to share between threads.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import numpy as np

from . import errors
from .http_connection import ConnectionLost, HttpConnection


def _json(body: Any) -> bytes:
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
    except ValueError as e:  # NaN or infinity
        raise errors.InvalidArgumentError(f"cannot send a value that is not finite: {e}") from None


def _f32(array: np.ndarray) -> str:
    """float32 values as the server's "..._f32" fields take them: base64 of their bytes."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode()


class _Http:
    """Keep-alive HTTP/1.1 connections to one server, one per calling thread
    (http_connection.py: one send per request, responses parsed by httptools). Thread-safe:
    threads never share a connection. A request that fails on a reused connection before any
    answer (the server closed it while idle) is sent once more on a fresh one: a closed idle
    connection carried no request."""

    def __init__(self, url: str, api_key: str | None, timeout: float, verify: Any) -> None:
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise errors.InvalidArgumentError(
                f"expected a URL like http://host:port or https://host:port, got {url!r}")
        self.url = url.rstrip("/")
        self.closed = False
        self._host = parsed.hostname
        self._port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self._prefix = parsed.path.rstrip("/")
        self._timeout = timeout
        self._tls: ssl.SSLContext | None = None
        if parsed.scheme == "https":
            if isinstance(verify, ssl.SSLContext):
                self._tls = verify
            elif verify is False:
                self._tls = ssl._create_unverified_context()  # noqa: S323 - asked for
            else:
                self._tls = ssl.create_default_context(
                    cafile=verify if isinstance(verify, str) else None)
        headers = {"content-type": "application/json"}
        if api_key is not None:
            headers["api-key"] = api_key
        self._headers = _header_lines(headers)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[HttpConnection] = []

    def _connection(self) -> HttpConnection:
        """This thread's open connection (a new one when it has none or it was closed)."""
        conn: HttpConnection | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        conn = HttpConnection(self._host, self._port, self._timeout, self._tls)
        self._local.conn = conn
        with self._lock:
            self._all = [c for c in self._all if not c.closed] + [conn]
        return conn

    def _send(self, method: str, path: str, content: bytes | None,
              headers: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                conn = self._connection()
                reused = conn.served > 0
                return conn.request(method, self._prefix + path, content, headers)
            except ConnectionLost as e:
                if attempt == 0 and reused and e.before_response:
                    continue
                raise errors.UnavailableError(
                    f"cannot reach the server at {self.url}: {e}") from None
            except OSError as e:
                raise errors.UnavailableError(
                    f"cannot reach the server at {self.url}: {e}") from None
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body: Any = None,
             headers: bytes | None = None) -> Any:
        if self.closed:
            raise errors.ClosedError(f"database '{self.url}' is closed")
        status, data = self._send(method, path, None if body is None else _json(body),
                                  self._headers if headers is None else
                                  self._headers + headers)
        if status < 400:
            return json.loads(data)
        try:
            err = json.loads(data)["error"]
            code, message = err["code"], err["message"]
        except (ValueError, KeyError, TypeError):
            code, message = "", data[:200].decode(errors="replace")
        cls = errors.BY_CODE_NAME.get(code, errors.InternalError)
        raise cls(f"{message} (HTTP {status})" if cls is errors.InternalError and not code
                  else message)

    def close(self) -> None:
        self.closed = True
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


def _header_lines(headers: dict[str, str]) -> bytes:
    """Header lines as sent; a value holding a line break (which would forge headers) is
    refused."""
    lines = []
    for name, value in headers.items():
        if any(c in value for c in "\r\n\0"):
            raise errors.InvalidArgumentError(f"the {name} header may not hold line breaks")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise errors.InvalidArgumentError(
                f"the {name} header must be Latin-1 text, got {value[:60]!r}") from None
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("latin-1")


T = TypeVar("T")


def _object(answer: Any) -> dict[str, Any]:
    """A JSON answer that must be an object."""
    if not isinstance(answer, dict):
        raise errors.InternalError(f"the server answered {str(answer)[:100]}; expected an object")
    return answer


def _field(answer: Any, key: str, kind: type[T]) -> T:
    """``answer[key]``, which must be of type ``kind``: a server that answers something else
    gets an InternalError naming the field, not a TypeError later."""
    value = _object(answer).get(key)
    if not isinstance(value, kind):
        raise errors.InternalError(
            f"the server's answer has {key!r} = {str(value)[:100]}; expected {kind.__name__}")
    return value


def _meta(metadata: Any) -> dict[str, Any]:
    """A point's metadata as parsed from the answer ({} when the server left it out)."""
    return metadata if isinstance(metadata, dict) else {}


def _vector(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


class RemoteCollection:
    """nearstore._core.Collection's calls, over HTTP."""

    def __init__(self, http: _Http, info: dict[str, Any]) -> None:
        self._http = http
        self.name: str = info["name"]
        self.dim: int = info["dim"]
        self.metric: str = info["metric"]
        self._path = f"/v1/collections/{quote(self.name, safe='')}"
        # Sent with every call: the server refuses it, as in-process, once this collection was
        # dropped, even if another was created under its name since.
        self._headers = _header_lines({"x-nearstore-collection": str(info["incarnation"])})

    def _call(self, method: str, route: str, body: Any = None) -> Any:
        path = f"{self._path}/{route}" if route else self._path
        return self._http.call(method, path, body, self._headers)

    def _post(self, route: str, body: Any = None) -> Any:
        return self._call("POST", route, {} if body is None else body)

    def upsert(self, ids: list[str], vectors: np.ndarray, metadata: list[str]) -> None:
        body: dict[str, Any] = {"ids": ids, "vectors_f32": _f32(vectors),
                                "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0}
        if metadata:
            body["metadata_json"] = metadata
        if body["dim"] == 0:
            body["dim"] = self.dim
        self._post("upsert", body)

    def get(self, id: str) -> tuple[np.ndarray, dict[str, Any]] | None:  # noqa: A002
        return self.get_many([id])[0]

    def get_many(self, ids: list[str]) -> list[tuple[np.ndarray, dict[str, Any]] | None]:
        points = self._post("get", {"ids": ids})["points"]
        return [None if p is None else (_vector(p["vector"]), _meta(p["metadata"]))
                for p in points]

    def update(self, id: str, vector: np.ndarray | None,  # noqa: A002
               metadata: str | None) -> bool:
        body: dict[str, Any] = {"id": id}
        if vector is not None:
            body["vector_f32"] = _f32(vector)
        if metadata is not None:
            body["metadata_json"] = metadata
        return _field(self._post("update", body), "updated", bool)

    def delete_many(self, ids: list[str]) -> list[bool]:
        return _field(self._post("delete", {"ids": ids}), "deleted", list)

    def delete_where(self, filter: str) -> int:  # noqa: A002
        return _field(self._post("delete", {"filter": filter}), "deleted", int)

    def count(self) -> int:
        return _field(self._post("count"), "count", int)

    def count_where(self, filter: str) -> int:  # noqa: A002
        return _field(self._post("count", {"filter": filter} if filter else {}), "count", int)

    def _scroll(self, after: str, limit: int, filter: str, with_vectors: bool,  # noqa: A002
                with_metadata: bool) -> tuple[list[dict[str, Any]], str]:
        body: dict[str, Any] = {"limit": limit, "with_vectors": with_vectors,
                                "with_metadata": with_metadata}
        if after:
            body["after"] = after
        if filter:
            body["filter"] = filter
        page = self._post("scroll", body)
        return page["points"], page["next_after"] or ""

    def scroll(self, after: str, limit: int, filter: str) -> tuple[list[str], str]:  # noqa: A002
        points, nxt = self._scroll(after, limit, filter, False, False)
        return [p["id"] for p in points], nxt

    def scroll_points(self, after: str, limit: int, filter: str,  # noqa: A002
                      with_vectors: bool) -> tuple[list[tuple[str, Any, dict[str, Any]]], str]:
        points, nxt = self._scroll(after, limit, filter, with_vectors, True)
        return [(p["id"], _vector(p["vector"]) if with_vectors else None, _meta(p["metadata"]))
                for p in points], nxt

    def create_index(self, field: str, kind: str) -> None:
        self._post("indexes", {"field": field, "kind": kind})

    def drop_index(self, field: str) -> bool:
        return _field(self._post("indexes/drop", {"field": field}), "dropped", bool)

    def list_indexes(self) -> dict[str, str]:
        return _field(self._call("GET", "indexes"), "indexes", dict)

    def _search_body(self, k: int, with_metadata: bool, ef: int, rerank: int,
                     filter: str) -> dict[str, Any]:  # noqa: A002
        body: dict[str, Any] = {"k": k, "with_metadata": with_metadata}
        if ef:
            body["ef"] = ef
        if rerank:
            body["rerank"] = rerank
        if filter:
            body["filter"] = filter
        return body

    @staticmethod
    def _hits(hits: list[dict[str, Any]]) -> list[tuple[str, float, dict[str, Any]]]:
        return [(h["id"], float(h["distance"]), _meta(h.get("metadata"))) for h in hits]

    def search(self, query: np.ndarray, k: int, with_metadata: bool, ef: int, rerank: int,
               filter: str) -> list[tuple[str, float, dict[str, Any]]]:  # noqa: A002
        body = self._search_body(k, with_metadata, ef, rerank, filter)
        body["vector_f32"] = _f32(query)
        return self._hits(self._post("search", body)["hits"])

    def search_batch(self, queries: np.ndarray, k: int, with_metadata: bool, ef: int,
                     rerank: int, filter: str) -> list[list[tuple[str, float, dict[str, Any]]]]:  # noqa: A002
        body = self._search_body(k, with_metadata, ef, rerank, filter)
        body["vectors_f32"] = _f32(queries)
        body["dim"] = int(queries.shape[1])
        return [self._hits(r) for r in self._post("search_batch", body)["results"]]

    def info(self) -> dict[str, Any]:
        return _object(self._call("GET", ""))

    def flush(self) -> None:
        self._post("flush")

    def compact(self) -> None:
        self._post("compact")


def _collection_path(name: str) -> str:
    """The route of the collection ``name``; the server refuses a name no collection can have,
    as the engine does, but an empty one would name no route at all."""
    if not name:
        raise errors.InvalidArgumentError("collection name must not be empty, got ''")
    return f"/v1/collections/{quote(name, safe='')}"


class RemoteDatabase:
    """nearstore._core.Database's calls, over HTTP."""

    def __init__(self, url: str, api_key: str | None, timeout: float, verify: Any) -> None:
        self._http = _Http(url, api_key, timeout, verify)
        self.path = self._http.url

    def create_collection(self, name: str, dim: int, metric: str, index: str, m: int,
                          ef_construction: int, ef_search: int, quantization: str,
                          rerank: int) -> RemoteCollection:
        info = self._http.call("POST", "/v1/collections", {
            "name": name, "dim": dim, "metric": metric, "index": index, "m": m,
            "ef_construction": ef_construction, "ef_search": ef_search,
            "quantization": quantization, "rerank": rerank})
        return RemoteCollection(self._http, info)

    def get_collection(self, name: str) -> RemoteCollection:
        return RemoteCollection(self._http, self._http.call("GET", _collection_path(name)))

    def list_collections(self) -> list[dict[str, Any]]:
        return _field(self._http.call("GET", "/v1/collections"), "collections", list)

    def drop_collection(self, name: str) -> None:
        self._http.call("DELETE", _collection_path(name))

    def close(self) -> None:
        self._http.close()
