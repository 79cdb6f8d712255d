"""The real qdrant-client (PyPI) against `nearstore serve`'s Qdrant-compatible face, with the
code a Qdrant user writes: collections, upsert (list and batch), query with filters against
numpy brute force, retrieve, scroll, count, payload operations, payload indexes, deletes, and
ids of both of Qdrant's kinds round-tripping with their type; every kind of filter condition
(has_id, is_empty, is_null, nested, a[].b keys, dotted keys, ranges over arrays) against its
meaning written in Python; MMR against numpy; update_vectors, payload selectors and the
parameters the client sends; bad requests refused with 400 in Qdrant's shape."""

from __future__ import annotations

import uuid
import warnings

import numpy as np
import pytest
from server_process import ServerProcess

qdrant_client = pytest.importorskip("qdrant_client")  # in python/requirements-test.txt
from qdrant_client import QdrantClient, models  # noqa: E402

DIM = 8
CITIES = ["London", "Paris", "Berlin"]


KEY = "qdrant-test-key-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    proc = ServerProcess(tmp_path_factory.mktemp("qdrant") / "db", "--no-access-log",
                         "--api-key", KEY)
    yield proc
    assert proc.stop() == 0, proc.log()


def connect(url: str, api_key: str | None) -> QdrantClient:
    # The client checks the server's version in a thread of its own, which warns after any
    # catch_warnings here has ended (a wrong key cannot read the version): checked below, once.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Api key is used with an insecure connection" (http)
        return QdrantClient(url=url, api_key=api_key, timeout=30, https=False,
                            check_compatibility=False)


def test_the_client_finds_the_api_version_it_speaks(server: ServerProcess) -> None:
    """qdrant-client checks GET /'s version against its own and warns when they differ by more
    than a minor version: the server reports the Qdrant API level it follows. The client runs
    that check in a thread of its own; its two steps run here, so that the test waits for them."""
    from importlib.metadata import version

    from qdrant_client.common.version_check import get_server_version, is_compatible

    served = get_server_version(server.url, {"api-key": KEY}, None, 30)
    assert served is not None
    assert is_compatible(version("qdrant-client"), served), (version("qdrant-client"), served)
    # And a client made the usual way, its check on, warns of nothing meanwhile.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        c = QdrantClient(url=server.url, api_key=KEY, timeout=30, https=False)
        c.get_collections()
        c.close()
    assert not [w for w in caught if "version" in str(w.message)], [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def client(server: ServerProcess):
    c = connect(server.url, KEY)
    yield c
    c.close()


def data():
    rng = np.random.default_rng(9)
    vectors = rng.standard_normal((120, DIM)).astype(np.float32)
    ids = list(range(100)) + [str(uuid.UUID(int=int(rng.integers(1, 2**62)))) for _ in range(20)]
    payloads = [{"city": CITIES[i % 3], "n": i, "tags": ["a", "b"] if i % 4 == 0 else ["c"]}
                for i in range(120)]
    return ids, vectors, payloads


def cosine_order(vectors: np.ndarray, q: np.ndarray, mask=None) -> list[int]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ (q / np.linalg.norm(q))
    if mask is not None:
        sims = np.where(mask, sims, -np.inf)
    return [int(i) for i in np.argsort(-sims, kind="stable") if np.isfinite(sims[i])]


def test_the_qdrant_client_works_unchanged(client: QdrantClient) -> None:
    ids, vectors, payloads = data()
    client.create_collection("docs", vectors_config=models.VectorParams(
        size=DIM, distance=models.Distance.COSINE))
    assert client.collection_exists("docs") and not client.collection_exists("nope")
    client.upsert("docs", points=[models.PointStruct(id=ids[i], vector=vectors[i].tolist(),
                                                     payload=payloads[i]) for i in range(60)])
    client.upsert("docs", points=models.Batch(ids=ids[60:], vectors=vectors[60:].tolist(),
                                              payloads=payloads[60:]), wait=True)
    info = client.get_collection("docs")
    assert info.points_count == 120
    assert info.config.params.vectors.size == DIM
    assert info.config.params.vectors.distance == models.Distance.COSINE
    assert "docs" in [c.name for c in client.get_collections().collections]

    rng = np.random.default_rng(1)
    for q in rng.standard_normal((10, DIM)).astype(np.float32):
        res = client.query_points("docs", query=q.tolist(), limit=5, with_payload=True).points
        want = cosine_order(vectors, q)[:5]
        assert [p.id for p in res] == [ids[i] for i in want]
        unit = vectors[want] / np.linalg.norm(vectors[want], axis=1, keepdims=True)
        np.testing.assert_allclose([p.score for p in res], unit @ (q / np.linalg.norm(q)),
                                   rtol=1e-4, atol=1e-5)
        assert res[0].payload == payloads[want[0]]
        # must city London, must_not n >= 60, should tags a or n < 10 (one of them)
        flt = models.Filter(
            must=[models.FieldCondition(key="city", match=models.MatchValue(value="London"))],
            must_not=[models.FieldCondition(key="n", range=models.Range(gte=60))],
            should=[models.FieldCondition(key="tags", match=models.MatchAny(any=["a"])),
                    models.FieldCondition(key="n", range=models.Range(lt=10))])
        mask = np.array([p["city"] == "London" and p["n"] < 60 and
                         ("a" in p["tags"] or p["n"] < 10) for p in payloads])
        got = client.query_points("docs", query=q.tolist(), query_filter=flt, limit=4,
                                  with_payload=False).points
        assert [p.id for p in got] == [ids[i] for i in cosine_order(vectors, q, mask)[:4]]
        assert all(p.payload is None for p in got)

    batch = client.query_batch_points("docs", requests=[
        models.QueryRequest(query=vectors[3].tolist(), limit=3),
        models.QueryRequest(query=vectors[70].tolist(), limit=2, offset=1)])
    nearest = cosine_order(vectors, vectors[3])[:3]
    assert [p.id for p in batch[0].points] == [ids[i] for i in nearest]
    assert [p.id for p in batch[1].points] == [ids[i] for i in
                                               cosine_order(vectors, vectors[70])[1:3]]
    by_id = client.query_points("docs", query=5, limit=3).points
    assert 5 not in [p.id for p in by_id] and len(by_id) == 3

    got = client.retrieve("docs", ids=[7, ids[105], 999], with_vectors=True)
    assert [p.id for p in got] == [7, ids[105]]  # an int stays an int, a UUID a string
    assert isinstance(got[0].id, int) and isinstance(got[1].id, str)
    np.testing.assert_allclose(got[0].vector, vectors[7] / np.linalg.norm(vectors[7]), rtol=1e-5)

    seen, offset = [], None
    while True:
        page, offset = client.scroll("docs", limit=17, offset=offset, with_payload=False)
        seen += [p.id for p in page]
        if offset is None:
            break
    assert sorted(map(str, seen)) == sorted(map(str, ids)) and len(seen) == 120
    london = models.Filter(must=[models.FieldCondition(key="city",
                                                       match=models.MatchValue(value="London"))])
    assert client.count("docs", count_filter=london).count == 40
    assert client.count("docs").count == 120

    client.set_payload("docs", payload={"extra": 1}, points=[7])
    assert client.retrieve("docs", ids=[7])[0].payload == {**payloads[7], "extra": 1}
    client.overwrite_payload("docs", payload={"only": True}, points=[7])
    assert client.retrieve("docs", ids=[7])[0].payload == {"only": True}
    client.delete_payload("docs", keys=["n"], points=[8])
    assert "n" not in client.retrieve("docs", ids=[8])[0].payload

    client.create_payload_index("docs", field_name="city",
                                field_schema=models.PayloadSchemaType.KEYWORD)
    assert "city" in client.get_collection("docs").payload_schema
    assert client.count("docs", count_filter=london).count == 40

    client.delete("docs", points_selector=models.PointIdsList(points=[0, ids[110]]))
    client.delete("docs", points_selector=models.FilterSelector(filter=models.Filter(
        must=[models.FieldCondition(key="city", match=models.MatchValue(value="Berlin"))])))
    assert client.count("docs").count == 120 - 2 - sum(
        1 for i, p in enumerate(payloads) if p["city"] == "Berlin" and i not in (0, 110))

    assert client.delete_collection("docs")
    assert not client.collection_exists("docs")


TAGS = [None, "null", [], ["a"], ["a", "b"], "a"]  # None: missing


def shaped_payload(i: int) -> dict:
    """Payloads whose fields take every shape a Qdrant condition distinguishes."""
    p: dict = {"scores": [i % 5, i % 7], "meta": {"lang": "fr" if i % 3 == 0 else "en"}}
    tags = TAGS[i % len(TAGS)]
    if tags is not None:
        p["tags"] = None if tags == "null" else tags
    if i % 2 == 0:
        p["diet"] = [{"food": "meat", "likes": i % 4 == 0}, {"food": "fish", "likes": i % 3 == 0}]
    return p


# Qdrant conditions, each with what it means written out in Python.
CONDITIONS = [
    (models.HasIdCondition(has_id=[1, 5, 7, 58]), lambda i, p: i in (1, 5, 7, 58)),
    (models.IsEmptyCondition(is_empty=models.PayloadField(key="tags")),
     lambda i, p: p.get("tags") in (None, [])),
    (models.IsNullCondition(is_null=models.PayloadField(key="tags")),
     lambda i, p: "tags" in p and p["tags"] is None),
    (models.NestedCondition(nested=models.Nested(key="diet", filter=models.Filter(must=[
        models.FieldCondition(key="food", match=models.MatchValue(value="meat")),
        models.FieldCondition(key="likes", match=models.MatchValue(value=True))]))),
     lambda i, p: any(d["food"] == "meat" and d["likes"] for d in p.get("diet", []))),
    (models.FieldCondition(key="diet[].food", match=models.MatchValue(value="fish")),
     lambda i, p: "diet" in p),
    (models.FieldCondition(key="diet[].likes", match=models.MatchValue(value=True)),
     lambda i, p: any(d["likes"] for d in p.get("diet", []))),
    (models.FieldCondition(key="scores", range=models.Range(gte=6)),
     lambda i, p: any(s >= 6 for s in p["scores"])),
    (models.FieldCondition(key="meta.lang", match=models.MatchValue(value="fr")),
     lambda i, p: p["meta"]["lang"] == "fr"),
    (models.FieldCondition(key="tags", match=models.MatchValue(value="a")),
     lambda i, p: p.get("tags") == "a" or "a" in (p.get("tags") or [])),
]


def test_every_kind_of_condition_against_python(client: QdrantClient) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((60, DIM)).astype(np.float32)
    payloads = [shaped_payload(i) for i in range(60)]
    client.create_collection("shapes", vectors_config=models.VectorParams(
        size=DIM, distance=models.Distance.COSINE))
    client.upsert("shapes", points=models.Batch(ids=list(range(60)), vectors=vectors.tolist(),
                                                payloads=payloads))
    q = rng.standard_normal(DIM).astype(np.float32)
    combined = [
        (models.Filter(must=[c]), lambda i, p, f=f: f(i, p)) for c, f in CONDITIONS
    ] + [
        (models.Filter(must_not=[c]), lambda i, p, f=f: not f(i, p)) for c, f in CONDITIONS
    ] + [
        (models.Filter(must=[CONDITIONS[0][0]], should=[CONDITIONS[1][0], CONDITIONS[3][0]]),
         lambda i, p: CONDITIONS[0][1](i, p)
         and (CONDITIONS[1][1](i, p) or CONDITIONS[3][1](i, p))),
    ]
    for flt, want in combined:
        mask = np.array([want(i, payloads[i]) for i in range(60)])
        assert 0 < mask.sum() < 60, flt  # every condition splits the points
        assert client.count("shapes", count_filter=flt, exact=True).count == mask.sum(), flt
        got = client.query_points("shapes", query=q.tolist(), query_filter=flt, limit=60).points
        assert [p.id for p in got] == cosine_order(vectors, q, mask), flt
    # A page that starts at an offset checks that point against the filter too (ids as well).
    page, next_offset = client.scroll("shapes", scroll_filter=models.Filter(
        must=[models.HasIdCondition(has_id=[5, 7, 9])]), limit=2, offset=7)
    assert [p.id for p in page] == [7, 9] and next_offset is None
    with pytest.raises(Exception, match="not supported"):
        client.count("shapes", count_filter=models.Filter(must=[models.FieldCondition(
            key="tags", values_count=models.ValuesCount(gt=1))]))
    assert client.delete_collection("shapes")


def test_errors_come_back_in_qdrant_shape(client: QdrantClient) -> None:
    from qdrant_client.http.exceptions import UnexpectedResponse

    with pytest.raises(UnexpectedResponse) as e:
        client.get_collection("missing")
    assert e.value.status_code == 404 and "missing" in e.value.content.decode()
    client.create_collection("small", vectors_config=models.VectorParams(
        size=2, distance=models.Distance.EUCLID))
    with pytest.raises(UnexpectedResponse) as e:
        client.upsert("small", points=[models.PointStruct(id=1, vector=[1.0, 2.0, 3.0])])
    assert e.value.status_code == 400 and "dimension" in e.value.content.decode()
    client.upsert("small", points=[models.PointStruct(id=1, vector=[0.0, 0.0]),
                                   models.PointStruct(id=2, vector=[3.0, 4.0])])
    res = client.query_points("small", query=[0.0, 0.0], limit=2).points
    assert [(p.id, p.score) for p in res] == [(1, 0.0), (2, 5.0)]  # Euclid: the distance
    assert [p.id for p in client.query_points("small", query=[0.0, 0.0], limit=2,
                                              score_threshold=1.0).points] == [1]


def test_a_key_is_needed(server: ServerProcess) -> None:
    from qdrant_client.http.exceptions import UnexpectedResponse

    for key in (None, "wrong-key-0123456789abc"):
        with pytest.raises(UnexpectedResponse) as e:
            connect(server.url, key).get_collections()
        assert e.value.status_code == 401


def test_bad_requests_get_400_in_qdrant_shape(server: ServerProcess, client: QdrantClient) -> None:
    """Through the HTTP server: wrong types, unknown and unsupported fields, integers past their
    width and lists past max_batch_points are refused with 400 in Qdrant's error shape naming
    the field (a json type_error once escaped as a 500 in the native shape, and offset 2^64-1
    wrapped around the limit check)."""
    import httpx

    client.create_collection("raw", vectors_config=models.VectorParams(
        size=3, distance=models.Distance.COSINE))
    client.upsert("raw", points=[models.PointStruct(id=i, vector=[1.0, float(i), 0.0])
                                 for i in range(15)])
    headers = {"api-key": KEY}
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        for method, path, body, names in [
            ("POST", "/points/query", {"query": [1, 0, 0], "limit": "two"}, "'limit'"),
            ("POST", "/points/query", {"query": [1, 0, 0], "limit": 10, "offset": 2**64 - 1},
             "'offset'"),
            ("POST", "/points/query", {"query": [1, 0, 0], "params": {"hnsw_ef": "x"}},
             "'params.hnsw_ef'"),
            ("POST", "/points/query", {"query": [1, 0, 0], "score_threshold": "nan"},
             "'score_threshold'"),
            ("POST", "/points/query", {"query": [1, 0, 0], "with_payload": "yes"},
             "'with_payload'"),
            ("POST", "/points/query", {"query": [1, 0, 0], "using": "image"}, "'using'"),
            ("POST", "/points/query", {"query": [1, 0, 0], "prefetch": [{"query": [1, 0, 0]}]},
             "'prefetch'"),
            ("POST", "/points/query", {"query": [1, 0, 0], "limmit": 3}, "'limmit'"),
            ("POST", "/points/delete", {"points": list(range(100_001))}, "100001 entries"),
            ("PUT", "", {"vectors": {"size": 3, "distance": "Cosine"},
                         "sparse_vectors": {"text": {}}}, "'sparse_vectors'"),
        ]:
            r = http.request(method, "/collections/raw" + path, json=body)
            assert r.status_code == 400, (body, r.text)
            assert names in r.json()["status"]["error"], (body, r.text)
        page = http.post("/collections/raw/points/scroll", json={}).json()["result"]
        assert len(page["points"]) == 10 and page["next_page_offset"] is not None
    assert client.count("raw").count == 15
    assert client.delete_collection("raw")


def similarity(metric: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Qdrant's similarity of rows: cosine, dot product, or minus the squared distance."""
    if metric == "Cosine":
        return (a / np.linalg.norm(a, axis=-1, keepdims=True)) @ \
            (b / np.linalg.norm(b, axis=-1, keepdims=True)).T
    if metric == "Dot":
        return a @ b.T
    return -((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)


@pytest.mark.parametrize("metric", ["Cosine", "Dot", "Euclid"])
def test_mmr_against_brute_force(client: QdrantClient, metric: str) -> None:
    """query_points with NearestQuery(mmr=...) against Qdrant's MMR written in numpy over the
    brute-force nearest candidates; scores are the query's."""
    rng = np.random.default_rng(11)
    vectors = rng.standard_normal((80, DIM)).astype(np.float32)
    payloads = [{"g": i % 2} for i in range(80)]
    name = f"mmr_{metric.lower()}"
    client.create_collection(name, vectors_config=models.VectorParams(
        size=DIM, distance=models.Distance(metric)))
    client.upsert(name, points=models.Batch(ids=list(range(80)), vectors=vectors.tolist(),
                                            payloads=payloads))
    stored = vectors / np.linalg.norm(vectors, axis=1, keepdims=True) if metric == "Cosine" \
        else vectors
    for q in rng.standard_normal((4, DIM)).astype(np.float32):
        for diversity, candidates, flt in [(0.5, 20, None), (0.8, 30, 1), (0.1, 10, 0)]:
            keep = np.array([flt is None or p["g"] == flt for p in payloads])
            rel = similarity(metric, q[None, :], stored)[0]
            order = [int(i) for i in np.argsort(-rel, kind="stable") if keep[i]][:candidates]
            sim = similarity(metric, stored[order], stored[order])
            picked = [0]
            while len(picked) < 6:
                rest = [i for i in range(len(order)) if i not in picked]
                scores = [(1 - diversity) * rel[order[i]]
                          - diversity * max(sim[i][j] for j in picked) for i in rest]
                picked.append(rest[int(np.argmax(scores))])
            query_filter = None if flt is None else models.Filter(must=[models.FieldCondition(
                key="g", match=models.MatchValue(value=flt))])
            mmr = models.Mmr(diversity=diversity, candidates_limit=candidates)
            got = client.query_points(name, query=models.NearestQuery(nearest=q.tolist(), mmr=mmr),
                                      query_filter=query_filter, limit=6).points
            assert [p.id for p in got] == [order[i] for i in picked], (metric, diversity)
            plain = {p.id: p.score for p in client.query_points(
                name, query=q.tolist(), query_filter=query_filter, limit=candidates).points}
            assert [p.score for p in got] == [plain[p.id] for p in got]
    assert client.delete_collection(name)


def test_vectors_payload_selectors_and_parameters(client: QdrantClient) -> None:
    """update_vectors, with_payload include/exclude (dotted keys), delete_payload of a dotted
    key, the unnamed vector named "" in queries, and the parameters qdrant-client sends."""
    client.create_collection("misc", vectors_config={"": models.VectorParams(
        size=3, distance=models.Distance.EUCLID)})
    client.upsert("misc", points=[
        models.PointStruct(id=i, vector={"": [float(i), 0.0, 0.0]},
                           payload={"n": i, "meta": {"lang": "fr", "year": 2000 + i}})
        for i in range(5)], wait=True)
    client.update_vectors("misc", points=[models.PointVectors(id=4, vector={"": [0.5, 0.0, 0.0]})])
    got = client.query_points("misc", query=[0.4, 0.0, 0.0], using="", limit=2,
                              with_payload=models.PayloadSelectorInclude(include=["meta.lang"]),
                              search_params=models.SearchParams(hnsw_ef=16, exact=False),
                              consistency=models.ReadConsistencyType.MAJORITY, timeout=10).points
    assert [p.id for p in got] == [4, 0] and got[0].payload == {"meta": {"lang": "fr"}}
    assert got[0].score == pytest.approx(0.1, abs=1e-6)
    got = client.retrieve("misc", ids=[2], with_vectors=[""],
                          with_payload=models.PayloadSelectorExclude(exclude=["meta.year"]))
    assert got[0].payload == {"n": 2, "meta": {"lang": "fr"}} and got[0].vector == [2.0, 0.0, 0.0]
    client.delete_payload("misc", keys=["meta.lang"], points=[2], wait=True,
                          ordering=models.WriteOrdering.STRONG)
    assert client.retrieve("misc", ids=[2])[0].payload == {"n": 2, "meta": {"year": 2002}}
    assert client.delete_collection("misc", timeout=10)
