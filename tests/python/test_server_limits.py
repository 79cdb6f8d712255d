"""`nearstore serve`'s defences end to end, each on a server of its own: answers bounded by
max_response_bytes, API key settings that fail closed, integers checked at full width, and
HTTP/1.1 details (100 Continue, bodies in an encoding the server does not read)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import numpy as np
import pytest
from server_process import ServerProcess

import nearstore


@pytest.fixture
def small_answers(tmp_path: Path):
    """A server whose answers may take 200,000 bytes at most (set by the command-line flag)."""
    proc = ServerProcess(tmp_path / "db", "--max-response-bytes", "200000", "--no-access-log")
    yield proc
    assert proc.stop() == 0, proc.log()


def test_large_answers_to_small_requests_are_refused(small_answers: ServerProcess) -> None:
    with nearstore.connect(small_answers.url) as db:
        col = db.create_collection("big", dim=4)
        col.upsert(["a"], np.ones((1, 4), np.float32), [{"text": "x" * 60_000}])
        # One id repeated 300 times: one entry per id asked, refused at the limit (it used to
        # be answered with 300 copies of the point).
        got = col.get_many(["a", "missing", "a"])
        assert got[1] is None and got[0][1] == got[2][1] == {"text": "x" * 60_000}
        with pytest.raises(nearstore.InvalidArgumentError,
                           match=r"more than 200000 bytes.*max_response_bytes.*fewer ids"):
            col.get_many(["a"] * 300)

        many = db.create_collection("many", dim=2)
        many.upsert([str(i) for i in range(1000)], np.random.default_rng(1).random((1000, 2)))
        queries = np.ones((400, 2), np.float32)
        # 400 queries of k 1000 are refused on what they ask for, before any search.
        with pytest.raises(nearstore.InvalidArgumentError,
                           match=r"400 queries of k 1000 would take more than 200000 bytes"):
            many.search_batch(queries, k=1000)
        assert [len(r) for r in many.search_batch(queries[:3], k=5)] == [5, 5, 5]


def test_qdrant_answers_are_bounded_too(small_answers: ServerProcess) -> None:
    with httpx.Client(base_url=small_answers.url, timeout=30, trust_env=False) as c:
        assert c.put("/collections/q", json={"vectors": {"size": 512, "distance": "Dot"}}
                     ).status_code == 200
        points = [{"id": i, "vector": [0.5] * 512, "payload": {"i": i}} for i in range(300)]
        assert c.put("/collections/q/points", json={"points": points}).status_code == 200
        for path, body in [
            ("/collections/q/points", {"ids": list(range(300)), "with_vector": True}),
            ("/collections/q/points/scroll", {"limit": 300, "with_vector": True}),
            ("/collections/q/points/query", {"query": [1] * 512, "limit": 300,
                                             "with_vector": True}),
            ("/collections/q/points/query/batch",
             {"searches": [{"query": [1] * 512, "limit": 100, "with_vector": True}] * 3}),
        ]:
            r = c.post(path, json=body)
            assert r.status_code == 400, (path, r.text[:300])
            assert "max_response_bytes" in r.json()["status"]["error"], (path, r.text[:300])
        r = c.post("/collections/q/points/scroll", json={"limit": 300})
        assert r.status_code == 200 and len(r.json()["result"]["points"]) == 300, r.text[:300]


@pytest.mark.parametrize(("args", "config", "why"), [
    # An empty list of collections used to give full read-write access to every collection.
    ((), '{"api_keys": [{"key": "limited-0123456789abcdef", "collections": []}]}',
     "collections is empty, which would grant no collection"),
    ((), '{"api_keys": []}', '"api_keys" is empty'),
    # JSON parsers keep the last of two members of one name: this read as read-write.
    ((), '{"api_keys": [{"key": "a-long-key-0123456789", "access": "read-only", '
         '"access": "read-write"}]}', '"access" is given twice'),
    (("--api-key", " " * 16), None, "begins or ends with a space"),
    (("--read-only-key", "a-long-key-0123456789\t"), None, "control character"),
])
def test_key_settings_that_would_fail_open_are_refused_at_start(
        tmp_path: Path, args: tuple[str, ...], config: str | None, why: str) -> None:
    if config is not None:
        (tmp_path / "keys.json").write_text(config)
        args = ("--config", str(tmp_path / "keys.json"))
    with pytest.raises(RuntimeError, match="server did not start") as failure:
        ServerProcess(tmp_path / "db", *args)
    assert why in str(failure.value), failure.value
    assert "0123456789" not in str(failure.value).split("log:", 1)[1]  # the key is not shown


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory):
    """A server with the default settings."""
    proc = ServerProcess(tmp_path_factory.mktemp("plain") / "db", "--no-access-log")
    yield proc
    assert proc.stop() == 0, proc.log()


@pytest.mark.parametrize("k", [4294967301, 2**64 - 1, -(2**32) + 1, 2**31])
def test_k_is_checked_at_full_width(plain: ServerProcess, k: int) -> None:
    """k = 2**32 + 5 used to be searched as k = 5."""
    with httpx.Client(base_url=plain.url, timeout=30, trust_env=False) as c:
        c.post("/v1/collections", json={"name": "k", "dim": 2})
        assert c.post("/v1/collections/k/upsert", json={"points": [
            {"id": str(i), "vector": [i, 1]} for i in range(9)]}).status_code == 200
        for route, body in [("search", {"vector": [1, 0]}),
                            ("search_batch", {"vectors": [[1, 0]]})]:
            r = c.post(f"/v1/collections/k/{route}", json={**body, "k": k})
            assert r.status_code == 400, (route, r.text)
            assert r.json()["error"]["message"] == f"k must be 1..100000, got {k}", (route, r.text)


def test_expect_continue_is_answered_and_encoded_bodies_refused(plain: ServerProcess) -> None:
    """curl sends Expect: 100-continue before a body over 1 MiB and waited a second for an
    answer that never came; a gzip body was read as if plain."""
    host, port = plain.url.removeprefix("http://").split(":")
    body = b'{"name": "expect", "dim": 2}'
    head = (b"POST /v1/collections HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n" % len(body))
    with socket.create_connection((host, int(port)), timeout=0.5) as s:
        s.sendall(head + b"Expect: 100-continue\r\n\r\n")
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"  # within 0.5 s
        s.settimeout(10)
        s.sendall(body)
        assert s.recv(100).startswith(b"HTTP/1.1 201 ")
    chunked = (head.replace(b"Content-Length: %d" % len(body), b"Transfer-Encoding: gzip, chunked")
               + b"\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    for request, status in [(head + b"Content-Encoding: gzip\r\n\r\n" + body, b"415"),
                            (chunked, b"501")]:
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(request)
            assert s.recv(4096).startswith(b"HTTP/1.1 " + status + b" "), request
