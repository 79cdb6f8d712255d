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
    if stored is None or operand is None:
        return stored is None and operand is None
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
    if op == "$size":
        return present and isinstance(value, list) and len(value) == operand
    if op == "$elemMatch":
        if not present or not isinstance(value, list):
            return False
        on_values = all(k.startswith("$") and k not in ("$and", "$or", "$not") for k in operand)
        if on_values:
            return any(all(_operator(o, e, x) for o, x in operand.items()) for e in value)
        return any(matches(operand, e) for e in value)
    raise ValueError(op)


def _id_matches(cond: Any, point_id: str) -> bool:
    ops = cond if isinstance(cond, dict) else {"$eq": cond}
    for op, operand in ops.items():
        listed = point_id in (operand if op in ("$in", "$nin") else [operand])
        if listed != (op in ("$eq", "$in")):
            return False
    return True


def matches(flt: dict, doc: Any, point_id: str = "") -> bool:
    """Whether a point with metadata `doc` and id `point_id` passes `flt` (a valid filter)."""
    for key, cond in flt.items():
        if key == "$and":
            ok = all(matches(f, doc, point_id) for f in cond)
        elif key == "$or":
            ok = any(matches(f, doc, point_id) for f in cond)
        elif key == "$not":
            ok = not matches(cond, doc, point_id)
        elif key == "$id":
            ok = _id_matches(cond, point_id)
        else:
            value = _lookup(doc, key)
            ops = cond if isinstance(cond, dict) else {"$eq": cond}
            ok = all(_operator(op, value, operand) for op, operand in ops.items())
        if not ok:
            return False
    return True
