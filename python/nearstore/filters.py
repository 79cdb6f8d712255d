"""Filters in nearstore's filter language (docs/FILTERS.md), as the API takes them: a dict,
JSON text, or a Filter checked when made."""

from __future__ import annotations

import json
from typing import Any, Union

from . import _args, _core
from .errors import InvalidArgumentError, InvalidTypeError


class Filter:
    """A filter in nearstore's filter language (docs/FILTERS.md), checked when made: a bad one
    raises InvalidArgumentError naming the faulty part. ``filter`` is a dict or JSON text."""

    def __init__(self, filter: dict[str, Any] | str) -> None:  # noqa: A002
        if not isinstance(filter, (dict, str)):
            raise InvalidTypeError(
                f"a filter is a dict or JSON text, got {type(filter).__name__}"
            )
        self.text = filter_text(filter)
        self._core = _core.Filter(self.text)

    def matches(self, metadata: dict[str, Any] | None, id: str = "") -> bool:  # noqa: A002
        """Whether a point with this metadata and id passes (the engine's own evaluation)."""
        return self._core.matches(_args.metadata("metadata", metadata), _args.text("id", id))


FilterLike = Union[dict[str, Any], str, Filter, None]


def filter_text(f: FilterLike) -> str:
    """The JSON text of a filter ("" for None: every point); the engine parses and checks it."""
    if f is None:
        return ""
    if isinstance(f, Filter):
        return f.text
    if isinstance(f, str):
        return _args.text("filter", f)
    if not isinstance(f, dict):
        raise InvalidTypeError(
            f"a filter is a dict, JSON text or nearstore.Filter, got {type(f).__name__}"
        )
    try:
        return json.dumps(f, allow_nan=False)  # ASCII: a lone surrogate goes as an escape
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"filter is not JSON-serialisable: {e}") from None
    except RecursionError:
        raise InvalidArgumentError("filter nests too deeply to write as JSON") from None
