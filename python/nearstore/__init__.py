"""nearstore: an embedded vector database with a C++ engine.

>>> import nearstore
>>> with nearstore.open("my-db") as db:
...     docs = db.get_or_create_collection("docs", dim=384, metric="cosine")
...     docs.insert("doc-1", embedding, {"text": "hello"})
...     for hit in docs.search(query, k=3):
...         print(hit.id, hit.distance, hit.metadata)

Vectors are numpy arrays (float32 C-contiguous arrays cross without a copy; other real dtypes
and lists are converted). Distances: cosine -> 1 - cos, l2 -> Euclidean, dot -> -dot; smaller
is closer. Searches and bulk writes release the GIL. Every refused argument raises a
nearstore.Error saying what was wrong and what was expected (errors.py).
"""

from __future__ import annotations

from . import _core
from .collection import Collection, Hit
from .database import Database, connect, open, verify
from .errors import (
    BY_CODE_NAME,
    AlreadyExistsError,
    BusyError,
    ClosedError,
    CorruptionError,
    Error,
    InternalError,
    InvalidArgumentError,
    InvalidTypeError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    UnavailableError,
)
from .filters import Filter

# The engine raises by status code name through the one table (errors.py).
_classes: dict[str, type[Exception]] = dict(BY_CODE_NAME)
_core._set_error_classes(_classes)

__all__ = [
    "open",
    "connect",
    "verify",
    "Database",
    "Collection",
    "Hit",
    "Filter",
    "Error",
    "InvalidArgumentError",
    "InvalidTypeError",
    "NotFoundError",
    "AlreadyExistsError",
    "CorruptionError",
    "StorageError",
    "BusyError",
    "ClosedError",
    "InternalError",
    "PermissionDeniedError",
    "UnavailableError",
]
__version__ = "0.1.0"
