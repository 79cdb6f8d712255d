"""JSON nested past the engine's depth limit (64 levels) is refused with a clear error on every
path that parses JSON text, in-process and over HTTP, and nothing already stored is lost. Before
the limit, 100,000 levels of metadata (a 600 KB request) crashed the process."""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import pytest
from server_process import ServerProcess

import nearstore

DEEP = 100_000


def nested_text(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


def nested_dict(levels: int) -> dict:
    d: dict = {"a": 1}
    for _ in range(levels - 1):
        d = {"a": d}
    return d


@pytest.mark.parametrize("levels", [65, DEEP])
def test_core_refuses_deep_metadata_text(levels):
    with nearstore.open() as db:
        col = db.create_collection("c", dim=2, metric="l2")
        col.insert("kept", [1.0, 2.0], {"x": 1})
        vectors = np.ones((1, 2), dtype=np.float32)
        with pytest.raises(nearstore.InvalidArgumentError, match="nests deeper than 64 levels"):
            col._core.upsert(["a"], vectors, [nested_text(levels)])
        assert len(col) == 1 and col.get("kept")[1] == {"x": 1}


def test_deep_metadata_and_filters_are_refused_on_both_faces(db):
    col = db.create_collection("c", dim=2, metric="l2")
    col.insert("ok", [1.0, 2.0], nested_dict(64))  # exactly the limit is fine
    assert col.get("ok")[1] == nested_dict(64)
    with pytest.raises(nearstore.InvalidArgumentError, match="nests deeper than 64 levels"):
        col.insert("a", [1.0, 2.0], nested_dict(65))
    with pytest.raises(nearstore.InvalidArgumentError, match="nests deeper than 64"):
        col.search([1.0, 2.0], k=1, filter='{"$and": [' * 200 + "{}" + "]}" * 200)
    assert [h.id for h in col.search([1.0, 2.0], k=5)] == ["ok"]


def test_server_survives_deep_json_in_text_fields(tmp_path):
    server = ServerProcess(tmp_path / "db", "--no-access-log")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            r = c.post("/v1/collections", json={"name": "c", "dim": 2, "metric": "l2"})
            assert r.status_code == 201, r.text
            point = {"id": "kept", "vector": [1, 2], "metadata": {"x": 1}}
            assert c.post("/v1/collections/c/upsert", json={"points": [point]}).status_code == 200
            bomb = nested_text(DEEP)  # ~600 KB
            f32 = base64.b64encode(np.array([1, 2], dtype="<f4").tobytes()).decode()
            r = c.post("/v1/collections/c/upsert", json={
                "ids": ["a"], "vectors_f32": f32, "dim": 2, "metadata_json": [bomb]})
            assert r.status_code == 400 and "nests deeper than 64" in r.text, r.text[:300]
            r = c.post("/v1/collections/c/update", json={"id": "kept", "metadata_json": bomb})
            assert r.status_code == 400 and "nests deeper than 64" in r.text, r.text[:300]
            r = c.post("/v1/collections/c/search",
                       json={"vector": [1, 2], "k": 1, "filter": "[" * 30000 + "]" * 30000})
            assert r.status_code == 400 and "nests deeper than 64" in r.text, r.text[:300]
            # A body nested too deep itself is refused before it is built.
            r = c.post("/v1/collections/c/search", content=b"[" * DEEP)
            assert r.status_code == 400 and "nests deeper than" in r.text
            # The server is alive and lost nothing.
            r = c.post("/v1/collections/c/get", json={"ids": ["kept"]})
            assert r.status_code == 200 and json.loads(r.text)["points"][0]["metadata"] == {"x": 1}
    finally:
        assert server.stop() == 0, server.log()
