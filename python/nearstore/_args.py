"""The checks of the public API's arguments, shared by both faces (in-process and remote).

Every argument of nearstore.Database and nearstore.Collection passes one of these before it
reaches the engine or the network, so a wrong type or an out-of-width value gives the same
nearstore error on both faces, naming the argument, the value and what was expected:

- integers: an ``int`` (or numpy integer), never a bool or a float, within the width of the
  engine's parameter (the engine then checks its own range, such as k's 1..100000);
- flags: ``True`` or ``False``;
- text (ids, names, fields, filters, metadata): ``str`` that is valid Unicode (no lone
  surrogates, which have no UTF-8 form);
- lists of ids: an iterable of ``str``, never a single ``str``;
- vectors: arrays of real numbers (integer or floating dtypes; not complex, bool, object or
  text), of the shape expected.

Wrong types raise InvalidTypeError (a TypeError too); wrong values InvalidArgumentError.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import InvalidArgumentError, InvalidTypeError

# The widths of the engine's integer parameters.
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1

# numpy dtype kinds of real numbers: signed and unsigned integers, floats.
_REAL_KINDS = "iuf"


def _describe(value: object) -> str:
    """``int 5``, ``str 'abc'``: a value with its type, for messages (long ones cut)."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def integer(name: str, value: object, lo: int, hi: int, note: str = "") -> int:
    """``value`` as an int in lo..hi; bools, floats and other types are refused. ``note``
    follows the range in messages (what a special value such as 0 means)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(f"{name} must be an integer{note}, got {_describe(value)}")
    number = int(value)
    if number < lo:
        raise InvalidArgumentError(f"{name} must be {lo} or more{note}, got {number}")
    if number > hi:
        raise InvalidArgumentError(f"{name} must be at most {hi}{note}, got {number}")
    return number


def flag(name: str, value: object) -> bool:
    """``value`` as a bool: True or False only (numpy's bool too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be True or False, got {_describe(value)}")
    return bool(value)


def text(name: str, value: object) -> str:
    """``value`` as a str the engine can take: UTF-8-encodable (no lone surrogate)."""
    if not isinstance(value, str):
        raise InvalidTypeError(f"{name} must be a str, got {_describe(value)}")
    unicode(name, value)
    return value


def unicode(name: str, value: str) -> None:
    """Refuses a str holding a lone surrogate (which has no UTF-8 form), naming where."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidArgumentError(
            f"{name} {value[:60]!r} is not valid Unicode text: a lone surrogate "
            f"U+{ord(value[e.start]):04X} at index {e.start}"
        ) from None


def id_list(name: str, ids: object) -> list[str]:
    """An iterable of ids as a list of str; a single str (or bytes) is refused, not split into
    one id per character."""
    if isinstance(ids, (str, bytes, bytearray)):
        raise InvalidTypeError(
            f"{name} must be a list of str ids, got a single {_describe(ids)}; "
            f"for one id pass [{ids!r}]"
        )
    if not isinstance(ids, Iterable):
        raise InvalidTypeError(f"{name} must be a list of str ids, got {_describe(ids)}")
    out = list(ids)
    # One pass for the usual case (plain str ids); the slow pass names the first bad one.
    if not all(type(i) is str for i in out):
        for n, i in enumerate(out):
            if not isinstance(i, str):
                raise InvalidTypeError(f"{name}[{n}] must be a str, got {_describe(i)}")
        out = [str(i) for i in out]  # str subclasses (numpy.str_) as plain str
    try:
        "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        for n, i in enumerate(out):
            unicode(f"{name}[{n}]", i)
    return out


def _real_array(name: str, value: object) -> npt.NDArray[Any]:
    """``value`` as a numpy array of real numbers (any integer or float dtype)."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as e:  # ragged nesting, objects numpy cannot hold
        raise InvalidArgumentError(f"{name} is not an array of numbers: {e}") from None
    if arr.dtype.kind not in _REAL_KINDS:
        raise InvalidTypeError(
            f"{name} must hold real numbers (an integer or floating dtype), got dtype "
            f"{arr.dtype}" + (" (a complex number has no place in a vector)"
                              if arr.dtype.kind == "c" else "")
        )
    return arr


def vector(name: str, value: object) -> npt.NDArray[np.float32]:
    """One vector: a 1-d array of real numbers, as C-contiguous float32."""
    arr = _real_array(name, value)
    if arr.ndim != 1:
        raise InvalidArgumentError(
            f"{name}: expected one vector (1-d), got an array of shape {arr.shape}"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def matrix(name: str, value: object) -> npt.NDArray[np.float32]:
    """An (n, dim) array of real numbers as C-contiguous float32; an empty list is (0, 0)."""
    arr = _real_array(name, value)
    if arr.ndim == 1 and arr.size == 0:
        return np.zeros((0, 0), dtype=np.float32)
    if arr.ndim != 2:
        raise InvalidArgumentError(
            f"{name}: expected an (n, dim) array of vectors, got shape {arr.shape}"
        )
    return np.ascontiguousarray(arr, dtype=np.float32)


def metadata(name: str, value: object) -> str:
    """A point's metadata (a dict, or None for none) as the JSON text the engine takes."""
    if value is None:
        return "{}"
    if not isinstance(value, dict):
        raise InvalidTypeError(
            f"{name} must be a dict (a JSON object), got {type(value).__name__}"
        )
    try:
        out = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"{name} is not JSON-serialisable: {e}") from None
    except RecursionError:
        raise InvalidArgumentError(f"{name} nests too deeply to write as JSON") from None
    unicode(name, out)
    return out
