"""Loose comparison: JavaScript's abstract equality, with case-insensitive strings and objects by identity."""

from __future__ import annotations

import math

from .values import Array, Dictionary, Value, to_number

DOTLESS_I = "\u0131"


def upper_special(text: str) -> str:
    """Upper case except the dotless i (U+0131), which would otherwise become I (GitHub's OrdinalIgnoreCase)."""
    if DOTLESS_I not in text:
        return text.upper()
    return DOTLESS_I.join(part.upper() for part in text.split(DOTLESS_I))


def _utf16_less(left: str, right: str) -> bool:
    # JavaScript orders strings by UTF-16 code units; Python by code points. They differ only above U+FFFF.
    if left.isascii() and right.isascii():
        return left < right
    return left.encode("utf-16-be", "surrogatepass") < right.encode("utf-16-be", "surrogatepass")


def _coerce(left: Value, right: Value) -> tuple[Value, Value]:
    """Both sides as numbers where their kinds differ and one is a number, boolean or null."""
    if type(left) is type(right):
        return left, right
    if isinstance(left, float) and isinstance(right, str):
        return left, to_number(right)
    if isinstance(left, str) and isinstance(right, float):
        return to_number(left), right
    if left is None or isinstance(left, bool):
        return _coerce(to_number(left), right)
    if right is None or isinstance(right, bool):
        return _coerce(left, to_number(right))
    return left, right


def equals(left: Value, right: Value) -> bool:
    left, right = _coerce(left, right)
    if type(left) is not type(right):
        return False
    if isinstance(left, str) and isinstance(right, str):
        return left == right or upper_special(left) == upper_special(right)
    if isinstance(left, (Array, Dictionary)):
        return left is right
    # null == null, numbers (NaN never equal) and booleans: Python's == agrees.
    return left == right


def greater_than(left: Value, right: Value) -> bool:
    return _order(left, right, greater=True)


def less_than(left: Value, right: Value) -> bool:
    return _order(left, right, greater=False)


def _order(left: Value, right: Value, *, greater: bool) -> bool:
    left, right = _coerce(left, right)
    if greater:
        left, right = right, left
    # Now: is left < right?
    if isinstance(left, float) and isinstance(right, float):
        return not (math.isnan(left) or math.isnan(right)) and left < right
    if isinstance(left, str) and isinstance(right, str):
        return _utf16_less(upper_special(left), upper_special(right))
    if isinstance(left, bool) and isinstance(right, bool):
        return not left and right
    return False
