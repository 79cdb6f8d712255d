"""A pure-Python reading of docs/FILTERS.md, written apart from the engine's evaluator
(src/filter) so that the two can be compared on generated filters and documents."""

from __future__ import annotations

from typing import Any

MISSING = object()


def _lookup(doc: Any, path: str) -> Any:
    at = doc
    for key in path.split("."):
        if not isinstance(at, dict) or key not in at:
            return MISSING
        at = at[key]
    return at


def _kind(v: Any) -> str:
    if isinstance(v, bool):  # before numbers: bool is an int in Python
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "other"


def _equal(stored: Any, operand: Any) -> bool:
    kind = _kind(stored)
    return kind != "other" and kind == _kind(operand) and stored == operand


def _operator(op: str, value: Any, operand: Any) -> bool:
    present = value is not MISSING
    if op == "$eq":
        return present and _equal(value, operand)
    if op == "$ne":
        return not (present and _equal(value, operand))
    if op in ("$gt", "$gte", "$lt", "$lte"):
        if not present or _kind(value) != "number":
            return False
        return {
            "$gt": value > operand,
            "$gte": value >= operand,
            "$lt": value < operand,
            "$lte": value <= operand,
        }[op]
    if op == "$in":
        return present and any(_equal(value, x) for x in operand)
    if op == "$nin":
        return not (present and any(_equal(value, x) for x in operand))
    if op == "$exists":
        return present == operand
    if op == "$contains":
        return present and isinstance(value, list) and any(_equal(x, operand) for x in value)
    raise ValueError(op)


def matches(flt: dict, doc: Any) -> bool:
    """Whether `doc` (a point's metadata) passes `flt` (a valid filter)."""
    for key, cond in flt.items():
        if key == "$and":
            ok = all(matches(f, doc) for f in cond)
        elif key == "$or":
            ok = any(matches(f, doc) for f in cond)
        elif key == "$not":
            ok = not matches(cond, doc)
        else:
            value = _lookup(doc, key)
            ops = cond if isinstance(cond, dict) else {"$eq": cond}
            ok = all(_operator(op, value, operand) for op, operand in ops.items())
        if not ok:
            return False
    return True
