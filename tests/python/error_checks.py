"""Assertions shared by the tests of refused calls."""

from __future__ import annotations

import pytest

from nearstore import Error


def raises(cls, builtin, pattern):
    """pytest.raises for a nearstore error: the class, its built-in base, and the message."""
    assert issubclass(cls, Error) and issubclass(cls, builtin)
    return pytest.raises(cls, match=pattern)


def check_error(excinfo, builtin):
    e = excinfo.value
    assert isinstance(e, Error)
    assert isinstance(e, builtin)
    assert str(e), "the message must not be empty"
