"""The exceptions nearstore raises.

Every one derives from :class:`nearstore.Error`, and also from the built-in exception that fits,
so that ``except ValueError`` or ``except KeyError`` works as Python code expects. The message
is the engine's: it says what was wrong and what was expected.
"""

from __future__ import annotations


class Error(Exception):
    """Base of every nearstore error."""


class InvalidArgumentError(Error, ValueError):
    """The input is wrong: dimension, NaN/Inf, zero vector for cosine, bad id, bad metadata, k."""


class InvalidTypeError(InvalidArgumentError, TypeError):
    """An argument of the wrong type: a float or bool where an integer is expected, a single
    str where a list of ids is, a complex array where a vector is. Also a ValueError (as an
    InvalidArgumentError) and a TypeError, so either ``except`` catches it."""


class NotFoundError(Error, KeyError):
    """No collection of that name."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else ""


class AlreadyExistsError(Error, ValueError):
    """A collection of that name exists already."""


class CorruptionError(Error, OSError):
    """A file of the database is damaged; the message names it."""


class StorageError(Error, OSError):
    """The operating system refused a read, write, sync or rename."""


class BusyError(Error, OSError):
    """Another process has the database open for writing."""


class ClosedError(Error, RuntimeError):
    """The database was closed or the collection dropped (or a failed write poisoned it)."""


class PermissionDeniedError(Error, PermissionError):
    """The server refused the API key (none, unknown, or not allowed to do this)."""


class UnavailableError(Error, ConnectionError):
    """The server cannot be reached, is shutting down, or is too busy now (retry later)."""


class InternalError(Error, RuntimeError):
    """A bug in nearstore: please report it."""


# The one table from error code names to classes: the engine's status codes by their
# StatusCodeName (include/nearstore/status.h; the binding hands a code over by name), then the
# codes the server's HTTP layer adds (docs/SERVER.md). Both faces raise through it: in-process
# (nearstore._core) and remote (remote.py).
BY_CODE_NAME: dict[str, type[Error]] = {
    "InvalidArgument": InvalidArgumentError,
    "NotFound": NotFoundError,
    "AlreadyExists": AlreadyExistsError,
    "Corruption": CorruptionError,
    "IOError": StorageError,
    "Busy": BusyError,
    "FailedPrecondition": ClosedError,
    "Internal": InternalError,
    "Unauthorized": PermissionDeniedError,
    "Forbidden": PermissionDeniedError,
    "BadRequest": InvalidArgumentError,
    "MethodNotAllowed": InvalidArgumentError,
    "PayloadTooLarge": InvalidArgumentError,
    "HeadersTooLarge": InvalidArgumentError,
    "RequestTimeout": UnavailableError,
    "TooManyRequests": UnavailableError,
    "TooManyConnections": UnavailableError,
    "ShuttingDown": UnavailableError,
}
