"""JavaScript's number conversions, which GitHub's evaluator inherits: parsing a string, printing a double."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal

# ECMAScript WhiteSpace and LineTerminator: what `Number(" 1 ")` and `String.prototype.trim` strip.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_RADIX = {"x": (16, re.compile(r"[0-9a-fA-F]+")), "o": (8, re.compile(r"[0-7]+")), "b": (2, re.compile(r"[01]+"))}
_FIXED_CONTEXT = Context(prec=80)
_FIXED_QUANTUM = Decimal("1e-15")
_SPECIAL = {math.inf: "Infinity", -math.inf: "-Infinity", 0.0: "0"}


def _int_to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:
        return math.inf


def parse_number(text: str) -> float:
    """`Number(text)`: trimmed, '' is 0, hex/octal/binary prefixes, `Infinity`, otherwise NaN."""
    body = text.strip(JS_WHITESPACE)
    if not body:
        return 0.0
    if len(body) > 2 and body[0] == "0" and body[1] in "xXoObB":
        base, digits = _RADIX[body[1].lower()]
        return _int_to_float(int(body[2:], base)) if digits.fullmatch(body, 2) else math.nan
    if body in {"Infinity", "+Infinity"}:
        return math.inf
    if body == "-Infinity":
        return -math.inf
    return float(body) if _DECIMAL.fullmatch(body) else math.nan


def js_string(value: float) -> str:
    """`Number.prototype.toString()`: shortest round-trip digits, exponent outside 1e-7..1e21."""
    if math.isnan(value) or math.isinf(value) or value == 0:
        return _SPECIAL.get(value, "NaN")
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    # point: where the decimal point sits relative to the first digit (ECMAScript's "n"); finite here.
    point = len(digit_tuple) + int(exponent)
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    tail = "." + digits[1:] if count > 1 else ""
    return f"{sign}{digits[0]}{tail}e{point - 1:+d}"


def number_string(value: float) -> str:
    """How GitHub's evaluator prints a number: `(+value.toFixed(15)).toString()`, so at most 15 decimals."""
    if value == 0:
        return "0"
    if math.isnan(value) or math.isinf(value) or abs(value) >= 1e21:
        return js_string(value)
    fixed = Decimal(value).quantize(_FIXED_QUANTUM, rounding=ROUND_HALF_UP, context=_FIXED_CONTEXT)
    return js_string(float(fixed))
