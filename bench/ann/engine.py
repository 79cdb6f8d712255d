"""The contract every engine adapter of the benchmark meets, and the registry of adapters.

An adapter drives one engine through its own Python package. The runner (runner.py) creates it
inside a fresh process, calls build() once, then for each point of the speed/recall sweep calls
set_query_knob() followed by many search() calls (one query per call, what an application does)
and one search_batch() over every query (the all-cores figure).

Rows are identified by their index in the base array (0..n-1) everywhere: adapters whose engine
wants string ids convert at the boundary. Distances are not compared, only ids.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

# Graph parameters shared by every graph index, so that their curves are comparable.
DEFAULT_M = 16
DEFAULT_EF_CONSTRUCTION = 200


class Engine(ABC):
    """One configured index of one engine.

    `metric` is "cosine" (vectors arrive normalised) or "l2"; `params` are the build parameters
    of this configuration (M, ef_construction, nlist...); `workdir` is an empty directory that
    the engine may use for its files (its size is reported as the index size on disk); `threads`
    is the number of cores the build and the all-cores search may use.
    """

    #: the name used on the command line and in the results, e.g. "hnswlib" or "faiss-ivf"
    name: str = ""
    #: the PyPI distribution whose version is reported
    package: str = ""
    #: True for exact (brute-force) search: no knob, recall 1
    exact: bool = False
    #: False where the engine's API cannot keep one query on one thread (the report marks it)
    one_thread: bool = True

    def __init__(
        self, metric: str, dim: int, params: dict[str, Any], workdir: Path, threads: int
    ) -> None:
        if metric not in ("cosine", "l2"):
            raise ValueError(f"metric {metric!r}: expected 'cosine' or 'l2'")
        self.metric = metric
        self.dim = dim
        self.params = params
        self.workdir = workdir
        self.threads = threads

    @abstractmethod
    def build(self, base: np.ndarray) -> None:
        """Loads every row of `base` (float32, C-contiguous) and builds the index, ready to
        search."""

    def query_knobs(self) -> list[dict[str, Any]]:
        """The sweep, from fast and rough to slow and accurate; [{}] for an engine without a
        knob."""
        return [{}]

    def set_query_knob(self, knob: dict[str, Any]) -> None:  # noqa: B027 (optional hook)
        """Applies one point of the sweep to the following searches (a no-op by default)."""

    @abstractmethod
    def search(self, query: np.ndarray, k: int) -> np.ndarray:
        """The row ids of the k nearest, nearest first, using one thread (int64 array)."""

    def search_batch(self, queries: np.ndarray, k: int) -> list[np.ndarray]:
        """Every query, using `self.threads` cores. Default: a thread pool over search(), which is
        parallel only when the engine releases the GIL; engines with a batch call override it."""
        with ThreadPoolExecutor(self.threads) as pool:
            return list(pool.map(lambda q: self.search(q, k), queries))

    def disk_bytes(self) -> int:
        """Bytes the index occupies on disk (0 for an in-memory index)."""
        return directory_bytes(self.workdir)

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Releases the engine's resources (called before the process exits; a no-op by
        default)."""


def directory_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except FileNotFoundError:
                pass  # a temporary file that went away while we looked
    return total


def ef_sweep(k: int = 10) -> list[int]:
    """The HNSW ef values every graph engine is swept over (ef < k makes no sense)."""
    return [e for e in (10, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512) if e >= k]


# ---- registry -----------------------------------------------------------------------------

# name -> "module:Class"; modules are imported only in the process that runs that engine, so one
# engine's import (and its threads and memory) never touches another's measurement.
ENGINES: dict[str, str] = {
    "nearstore-flat": "engines_lib:NearstoreFlat",
    "nearstore-hnsw": "engines_lib:NearstoreHnsw",
    "nearstore-hnsw-sq8": "engines_lib:NearstoreHnswSq8",
    "nearstore-hnsw-binary": "engines_lib:NearstoreHnswBinary",
    "faiss-flat": "engines_lib:FaissFlat",
    "faiss-hnsw": "engines_lib:FaissHnsw",
    "faiss-ivf": "engines_lib:FaissIvf",
    "hnswlib": "engines_lib:Hnswlib",
    "usearch": "engines_lib:Usearch",
    "glass": "engines_lib:Glass",
    "voyager": "engines_lib:Voyager",
    "zvec": "engines_db:Zvec",
    "qdrant-edge": "engines_db:QdrantEdge",
    "chromadb": "engines_db:Chroma",
    "lancedb": "engines_db:LanceHnswSq",
    "milvus-lite": "engines_db:MilvusIvfFlat",
}


def engine_class(name: str) -> Callable[..., Engine]:
    if name not in ENGINES:
        raise KeyError(f"unknown engine {name!r}; known: {', '.join(ENGINES)}")
    module, cls = ENGINES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def package_version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"
