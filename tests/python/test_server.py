"""`nearstore serve` over its native /v1/ face, end to end through real HTTP on loopback:
answers against numpy brute force, API keys, bad input (each answered with its status while
the server stays up), metrics in Prometheus' format, and SIGTERM under load losing nothing
acknowledged."""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from server_process import ServerProcess

import nearstore

RW = "rw-key-0123456789abcdef"
RO = "ro-key-0123456789abcdef"
LIMITED = "limited-0123456789abcdef"
LIMITS = {"max_body_bytes": 1 << 20, "max_header_bytes": 8192, "max_batch_points": 500,
          "request_timeout_ms": 1500, "max_limit": 1000}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("served") / "db"
    config = {"api_keys": [{"key": RW}, {"key": RO, "access": "read-only"},
                           {"key": LIMITED, "collections": ["limited"]}], **LIMITS}
    proc = ServerProcess(path, config=config)
    yield proc
    assert proc.stop() == 0, proc.log()


def client(server: ServerProcess, key: str | None = RW, **headers: str) -> httpx.Client:
    if key is not None:
        headers.setdefault("api-key", key)
    return httpx.Client(base_url=server.url, headers=headers, timeout=30, trust_env=False)


def ok(response: httpx.Response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


def error(response: httpx.Response, status: int, *parts: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    for p in parts:
        assert p in body["error"]["message"], body


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int, mask=None) -> list[int]:
    d = ((vectors - query) ** 2).sum(axis=1)
    if mask is not None:
        d = np.where(mask, d, np.inf)
    order = np.argsort(d, kind="stable")[:k]
    return [int(i) for i in order if np.isfinite(d[i])]


def test_native_api_answers_like_brute_force(server: ServerProcess) -> None:
    rng = np.random.default_rng(3)
    n, dim = 300, 16
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    cats = np.arange(n) % 5
    with client(server) as c:
        info = ok(c.post("/v1/collections", json={"name": "docs", "dim": dim, "metric": "l2"}))
        assert info["name"] == "docs" and info["dim"] == dim and info["count"] == 0
        for start in (0, 150):
            points = [{"id": f"p{i}", "vector": vectors[i].tolist(),
                       "metadata": {"cat": int(cats[i]), "tag": f"t{i % 3}"}}
                      for i in range(start, start + 150)]
            assert ok(c.post("/v1/collections/docs/upsert", json={"points": points})) == {
                "upserted": 150}
        assert ok(c.get("/v1/collections/docs"))["count"] == n

        queries = rng.standard_normal((20, dim)).astype(np.float32)
        for q in queries:
            hits = ok(c.post("/v1/collections/docs/search", json={"vector": q.tolist(), "k": 10}))
            got = [int(h["id"][1:]) for h in hits["hits"]]
            assert got == brute_force(vectors, q, 10)
            want = np.sqrt(((vectors[got] - q) ** 2).sum(axis=1))
            np.testing.assert_allclose([h["distance"] for h in hits["hits"]], want, rtol=1e-4)
            assert hits["hits"][0]["metadata"]["cat"] == int(cats[got[0]])
            filtered = ok(c.post("/v1/collections/docs/search",
                                 json={"vector": q.tolist(), "k": 10, "filter": {"cat": 2}}))
            assert [int(h["id"][1:]) for h in filtered["hits"]] == brute_force(
                vectors, q, 10, cats == 2)
        batch = ok(c.post("/v1/collections/docs/search_batch",
                          json={"vectors": queries[:5].tolist(), "k": 7, "with_vectors": True}))
        for q, hits in zip(queries[:5], batch["results"]):
            assert [int(h["id"][1:]) for h in hits] == brute_force(vectors, q, 7)
            np.testing.assert_allclose(hits[0]["vector"], vectors[int(hits[0]["id"][1:])])

        assert ok(c.post("/v1/collections/docs/count", json={"filter": {"cat": {"$in": [1, 3]}}})
                  ) == {"count": int(((cats == 1) | (cats == 3)).sum())}
        got = ok(c.post("/v1/collections/docs/get", json={"ids": ["p7", "nope"]}))["points"]
        assert got[1] is None and got[0]["id"] == "p7"
        np.testing.assert_allclose(got[0]["vector"], vectors[7])
        assert got[0]["metadata"] == {"cat": int(cats[7]), "tag": "t1"}

        assert ok(c.post("/v1/collections/docs/update",
                         json={"id": "p7", "metadata": {"cat": 9}})) == {"updated": True}
        assert ok(c.post("/v1/collections/docs/update", json={"id": "zz", "metadata": {}})) == {
            "updated": False}
        assert ok(c.post("/v1/collections/docs/delete", json={"ids": ["p1", "p1", "zz"]})) == {
            "deleted": [True, False, False]}
        deleted = ok(c.post("/v1/collections/docs/delete", json={"filter": {"cat": 4}}))
        assert deleted == {"deleted": int((cats == 4).sum())}
        alive = {f"p{i}" for i in range(n) if cats[i] != 4 and i != 1}

        ok(c.post("/v1/collections/docs/indexes", json={"field": "tag", "kind": "keyword"}))
        assert ok(c.get("/v1/collections/docs/indexes")) == {"indexes": {"tag": "keyword"}}
        ok(c.post("/v1/collections/docs/flush"))
        ok(c.post("/v1/collections/docs/compact"))
        assert ok(c.post("/v1/collections/docs/count", json={"filter": {"tag": "t0"}}))[
            "count"] == sum(1 for i in range(n) if f"p{i}" in alive and i % 3 == 0)
        assert ok(c.post("/v1/collections/docs/indexes/drop", json={"field": "tag"})) == {
            "dropped": True}

        seen, after = [], None
        while True:
            body = {"limit": 64, **({"after": after} if after else {})}
            page = ok(c.post("/v1/collections/docs/scroll", json=body))
            seen += [p["id"] for p in page["points"]]
            after = page["next_after"]
            if after is None:
                break
        assert seen == sorted(alive)
        names = [col["name"] for col in ok(c.get("/v1/collections"))["collections"]]
        assert "docs" in names


def test_api_keys(server: ServerProcess) -> None:
    with client(server, key=None) as anon:
        error(anon.get("/v1/collections"), 401, "needs an API key")
        assert ok(anon.get("/healthz")) == {"status": "ok"}
        assert ok(anon.get("/readyz")) == {"status": "ok"}
        error(anon.get("/metrics"), 401)
    with client(server, key="wrong-key-0123456789abcdef") as wrong:
        error(wrong.get("/v1/collections"), 401, "not valid")
    with client(server, key=None, authorization=f"Bearer {RW}") as bearer:
        ok(bearer.post("/v1/collections", json={"name": "limited", "dim": 2}))
        ok(bearer.post("/v1/collections", json={"name": "other", "dim": 2}))
    with client(server, key=RO) as ro:
        ok(ro.get("/v1/collections/limited"))
        ok(ro.post("/v1/collections/limited/count", json={}))
        error(ro.post("/v1/collections/limited/upsert", json={"points": []}), 403, "may not write")
        error(ro.post("/v1/collections", json={"name": "x", "dim": 2}), 403)
    with client(server, key=LIMITED) as limited:
        point = {"id": "a", "vector": [1.0, 2.0]}
        ok(limited.post("/v1/collections/limited/upsert", json={"points": [point]}))
        error(limited.post("/v1/collections/other/count", json={}), 403, "'other'")
        error(limited.get("/v1/collections"), 403)
        error(limited.delete("/v1/collections/other"), 403)
    with client(server) as rw:
        assert ok(rw.post("/v1/collections/other/count", json={})) == {"count": 0}


def test_connect_keys_and_reachability(server: ServerProcess) -> None:
    with nearstore.connect(server.url, api_key=RO) as db:
        db.list_collections()
        with pytest.raises(nearstore.PermissionDeniedError, match="may not write"):
            db.create_collection("refused", dim=2)
        with pytest.raises(PermissionError):  # the built-in it also derives from
            db.drop_collection("docs")
    with nearstore.connect(server.url) as db, pytest.raises(nearstore.PermissionDeniedError):
        db.list_collections()
    with nearstore.connect(server.url, api_key=LIMITED) as db:
        col = db.get_or_create_collection("limited", dim=2)
        col.insert("b", [0.5, 0.5], {"n": 1})
        hit = col.search([0.5, 0.5], k=1)[0]
        assert (hit.id, hit.metadata) == ("b", {"n": 1}) and abs(hit.distance) < 1e-6
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    with nearstore.connect(f"http://127.0.0.1:{port}", timeout=2) as db:
        with pytest.raises(nearstore.UnavailableError, match="cannot reach"):
            db.list_collections()
        with pytest.raises(ConnectionError):
            db.get_collection("x")


def test_connect_keeps_one_connection_per_thread(server: ServerProcess) -> None:
    """Each thread's calls share one keep-alive connection: the server's access log shows one
    client address per thread (a new connection per call costs a TCP handshake each)."""
    with nearstore.connect(server.url, api_key=RW) as db:
        col = db.get_or_create_collection("keepalive", dim=4)
        col.upsert(["a", "b"], np.eye(4, dtype=np.float32)[:2])

        def searches() -> None:
            for _ in range(15):
                assert col.search([1, 0, 0, 0], k=1)[0].id == "a"

        threads = [threading.Thread(target=searches) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        searches()  # this thread's connection, used again after create and upsert

    def remotes() -> dict[str, int]:
        counts: dict[str, int] = {}
        for line in server.log().splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("path", "").startswith("/v1/collections/keepalive"):
                counts[entry["remote"]] = counts.get(entry["remote"], 0) + 1
        return counts

    # A request's line is logged once its response is written, which is also when the client
    # may read it and go on: the last line can come a moment after the last answer (this test
    # read the log too early about one run in five). Wait for all 47, then count.
    deadline = time.monotonic() + 10
    while sum(remotes().values()) < 47 and time.monotonic() < deadline:
        time.sleep(0.01)
    # This thread: collection, upsert and 15 searches; the two others: 15 searches each.
    assert sorted(remotes().values()) == [15, 15, 17], remotes()


def raw_request(server: ServerProcess, data: bytes, *, pause: float = 0.0,
                rest: bytes = b"") -> tuple[int, bytes]:
    """Sends bytes on a fresh connection (then, after `pause`, `rest`); the response status."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(data)
        if pause:
            time.sleep(pause)
        if rest:
            try:
                s.sendall(rest)
            except OSError:
                pass
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    reply = b"".join(chunks)
    return int(reply.split(b" ", 2)[1]), reply


def test_bad_input_gets_its_status_and_the_server_stays_up(server: ServerProcess) -> None:
    with client(server) as c:
        ok(c.post("/v1/collections", json={"name": "bad", "dim": 3}))
        s = "/v1/collections/bad/search"
        cases = [
            (c.post(s, content=b'{"vector": [1, 2,'), 400, "not valid JSON"),
            (c.post(s, content=b"[" * 5000), 400, "deeper than"),
            (c.post(s, content=b""), 400, "needs a JSON object"),
            (c.post(s, json=[1, 2]), 400, "must be a JSON object"),
            (c.post(s, json={"vector": "x"}), 400, "'vector' must be a list"),
            (c.post(s, json={"vector": [1, "a", 3]}), 400, "'vector[1]' must be a number"),
            (c.post(s, json={"vector": [1, 2, 1e300]}), 400, "outside the range of a float32"),
            (c.post(s, json={"vector": [1, 2]}), 400, "dimension"),
            (c.post(s, json={"vector": [1, 2, 3], "k": 0}), 400, "k must be 1..100000, got 0"),
            (c.post(s, json={"vector": [1, 2, 3], "k": "5"}), 400, "'k' must be an integer"),
            (c.post(s, json={"vector": [1, 2, 3], "k": 5000}), 400, "1..1000 on this server"),
            (c.post(s, json={"vector_f32": "abc"}), 400, "length is not a multiple of 4"),
            (c.post(s, json={"vector_f32": "AAAAAAA="}), 400, "not a whole number of float32"),
            (c.post(s, json={"vector": [1, 2, 3], "kk": 1}), 400, "unknown field 'kk'"),
            (c.post(s, json={"vector": [1, 2, 3], "filter": {"x": {"$bad": 1}}}), 400, "$bad"),
            (c.post(s, json={"vector": [1, 2, 3], "filter": [1]}), 400, "filter object"),
            (c.post("/v1/collections/bad/upsert",
                    json={"points": [{"id": str(i), "vector": [1, 2, 3]} for i in range(501)]}),
             400, "max_batch_points"),
            (c.post("/v1/collections/bad/upsert", json={"points": [{"id": "a"}]}), 400,
             "'points[0].vector' is required"),
            (c.post("/v1/collections/bad/upsert",
                    json={"points": [{"id": "a", "vector": [1, 2, 3], "metadata": [1]}]}), 400,
             "'points[0].metadata' must be a JSON object"),
            (c.post("/v1/collections/nope/search", json={"vector": [1]}), 404, "'nope'"),
            (c.post("/v1/collections/%2e%2e/count", json={}), 400, "not a valid collection name"),
            (c.post("/v1/collections", json={"name": "a/b", "dim": 3}), 400, "letters, digits"),
            (c.post("/v1/collections/%2e%2e%2fx/count", json={}), 400, "not a valid"),
            (c.post("/v1/collections", json={"name": "bad", "dim": 3}), 409, "already exists"),
            (c.get("/v1/nothing"), 404, "no route"),
            (c.get(s), 405, "GET is not allowed"),
            (c.post(s, content=b"x" * ((1 << 20) + 1)), 413, "max_body_bytes"),
        ]
        for response, status, part in cases:
            error(response, status, part)
            assert ok(c.get("/healthz")) == {"status": "ok"}

    header = f"POST /v1/collections/bad/count HTTP/1.1\r\nHost: x\r\napi-key: {RW}\r\n"
    status, _ = raw_request(server, (header + "X-Big: " + "y" * 20000 + "\r\n\r\n").encode())
    assert status == 431
    # A body announced and never finished: 408 after request_timeout_ms.
    status, reply = raw_request(server, (header + "Content-Length: 100\r\n\r\n{\"fi").encode())
    assert status == 408, reply
    # Garbage instead of HTTP.
    status, _ = raw_request(server, b"HELLO\r\n\r\n")
    assert status == 400
    # A body larger than allowed, announced: refused before it is read.
    status, _ = raw_request(server, (header + f"Content-Length: {10 << 20}\r\n\r\n").encode())
    assert status == 413
    with client(server) as c:
        assert ok(c.get("/healthz")) == {"status": "ok"}


def test_metrics_in_prometheus_format(server: ServerProcess) -> None:
    with client(server) as c:
        ok(c.post("/v1/collections", json={"name": "metered", "dim": 2}))
        ok(c.post("/v1/collections/metered/upsert",
                  json={"points": [{"id": str(i), "vector": [i, 1]} for i in range(7)]}))
        for _ in range(3):
            ok(c.post("/v1/collections/metered/search", json={"vector": [1, 1], "k": 2}))
        text = c.get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = families["nearstore_http_requests"]
    searches = [s for s in requests.samples
                if s.labels.get("route") == "/v1/collections/{collection}/search"
                and s.labels.get("status") == "200"]
    assert searches and searches[0].value >= 3
    duration = families["nearstore_http_request_duration_seconds"]
    counts = [s for s in duration.samples if s.name.endswith("_count")
              and s.labels["route"] == "/v1/collections/{collection}/search"]
    assert counts and counts[0].value >= 3
    points = {s.labels["collection"]: s.value
              for s in families["nearstore_collection_points"].samples}
    assert points["metered"] == 7
    wal = {s.labels["collection"]: s.value
           for s in families["nearstore_collection_wal_bytes"].samples}
    assert wal["metered"] > 7 * 2 * 4  # the seven points are in the log, not yet sealed


def test_sigterm_drains_and_loses_nothing_acknowledged(tmp_path: Path) -> None:
    path = tmp_path / "db"
    server = ServerProcess(path, "--worker-threads", "2")
    acked: list[set[str]] = [set() for _ in range(3)]
    stop = threading.Event()
    failures: list[str] = []

    def writer(w: int) -> None:
        with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as c:
            i = 0
            while not stop.is_set():
                ids = [f"w{w}-{i}-{j}" for j in range(20)]
                try:
                    r = c.post("/v1/collections/load/upsert", json={"points": [
                        {"id": x, "vector": [float(w), float(i), 1.0]} for x in ids]})
                except httpx.TransportError:
                    return  # the server closed the connection while draining
                if r.status_code == 200:
                    acked[w].update(ids)
                elif r.status_code != 503:
                    failures.append(r.text)
                i += 1

    def searcher() -> None:
        with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as c:
            while not stop.is_set():
                try:
                    r = c.post("/v1/collections/load/search", json={"vector": [1, 2, 3], "k": 5})
                except httpx.TransportError:
                    return
                if r.status_code not in (200, 503):
                    failures.append(r.text)

    with httpx.Client(base_url=server.url, trust_env=False) as c:
        ok(c.post("/v1/collections", json={"name": "load", "dim": 3, "metric": "l2"}))
    threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
    threads += [threading.Thread(target=searcher) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    assert server.stop(signal.SIGTERM) == 0, server.log()
    stop.set()
    for t in threads:
        t.join(30)
    assert not failures, failures[:3]
    assert "drained" in server.stdout_rest()
    total = set().union(*acked)
    assert len(total) > 100, "the load did not run"
    with nearstore.open(str(path)) as db:
        col = db.get_collection("load")
        got = col.get_many(sorted(total))
        missing = [x for x, p in zip(sorted(total), got) if p is None]
        assert not missing, f"{len(missing)} acknowledged points lost, e.g. {missing[:3]}"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made here (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls(tmp_path: Path) -> None:
    import ssl

    cert, key = self_signed_certificate(tmp_path)
    trusted = ssl.create_default_context(cafile=str(cert))
    server = ServerProcess(tmp_path / "db", "--tls-cert", str(cert), "--tls-key", str(key),
                           "--api-key", RW)
    try:
        assert server.url.startswith("https://")
        with httpx.Client(base_url=server.url, verify=trusted, headers={"api-key": RW},
                          trust_env=False) as c:
            ok(c.post("/v1/collections", json={"name": "secure", "dim": 2}))
            ok(c.post("/v1/collections/secure/upsert",
                      json={"points": [{"id": "a", "vector": [1, 0]}]}))
            hits = ok(c.post("/v1/collections/secure/search", json={"vector": [1, 0]}))
            assert [h["id"] for h in hits["hits"]] == ["a"]
            error(httpx.post(server.url + "/v1/collections/secure/count", json={},
                             verify=trusted, trust_env=False), 401)
        # A client that does not trust the certificate gets no answer, nor does plain HTTP.
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/healthz", trust_env=False)
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url.replace("https://", "http://") + "/healthz", trust_env=False,
                      timeout=5)
    finally:
        assert server.stop() == 0, server.log()


def test_connections_over_the_limit_get_429(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "db", "--max-connections", "2")
    try:
        host, port = server.url.removeprefix("http://").split(":")
        held = [socket.create_connection((host, int(port)), timeout=10) for _ in range(2)]
        time.sleep(0.2)  # both accepted
        status, reply = raw_request(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 429 and b"max_connections" in reply
        for s in held:
            s.close()
        time.sleep(0.2)
        with client(server, key=None) as c:
            assert ok(c.get("/healthz")) == {"status": "ok"}
    finally:
        assert server.stop() == 0, server.log()


def test_bad_tls_files_are_refused_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(RuntimeError, match="TLS certificate file"):
        ServerProcess(tmp_path / "db", "--tls-cert", str(missing), "--tls-key", str(missing))


def test_openapi_is_served_valid_and_routes_what_it_describes(server: ServerProcess) -> None:
    from openapi_spec_validator import validate

    repo = Path(__file__).resolve().parents[2]
    with client(server) as c:
        spec = ok(c.get("/openapi.json"))
        validate(spec)
        assert spec == json.loads((repo / "api" / "openapi.json").read_text())
        sys.path.insert(0, str(repo / "api"))
        import generate_openapi

        assert generate_openapi.render() == (repo / "api" / "openapi.json").read_text(), (
            "api/openapi.json is not generate_openapi.py's output: run python3 "
            "api/generate_openapi.py")
        # Every path and method described is routed (an unknown collection is the engine's 404,
        # not the router's "no route"; nothing answers 405).
        for path, methods in spec["paths"].items():
            for method in methods:
                r = c.request(method.upper(), path.replace("{collection}", "nosuch"),
                              content=b"{}" if method == "post" else None)
                assert r.status_code != 405, (method, path)
                if r.status_code == 404:  # the router's 404 is {"error": {"code": "NotFound", ...}}
                    assert "no route" not in r.text, (method, path)


def test_second_server_on_a_served_directory_is_refused(server: ServerProcess, tmp_path: Path
                                                        ) -> None:
    db_path = Path(server.log_path.as_posix().removesuffix(".server.log"))
    with pytest.raises(RuntimeError, match="locked"):
        ServerProcess(db_path, log_path=tmp_path / "second.log")
