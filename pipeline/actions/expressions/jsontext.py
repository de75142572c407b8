"""JSON as JavaScript writes and reads it (`JSON.stringify(v, null, "  ")`, `JSON.parse`)."""

from __future__ import annotations

import json
import math
import re

from .numbers import js_string
from .values import Array, Value, wrap

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile('[\x00-\x1f"\\\\\ud800-\udfff]')


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{ord(char):04x}"


def quote(text: str) -> str:
    """A JSON string literal: control characters and lone surrogates escaped, everything else as is."""
    return '"' + _NEEDS_ESCAPE.sub(_escape, text) + '"'


def dumps(value: Value, indent: str = "  ") -> str:
    """Pretty JSON: NaN and infinities as null, numbers in JavaScript's shortest form."""
    parts: list[str] = []
    _write(value, parts, "\n", indent)
    return "".join(parts)


def _write(value: Value, parts: list[str], newline: str, indent: str) -> None:
    if value is None:
        parts.append("null")
    elif isinstance(value, bool):
        parts.append("true" if value else "false")
    elif isinstance(value, float):
        parts.append("null" if math.isnan(value) or math.isinf(value) else js_string(value))
    elif isinstance(value, str):
        parts.append(quote(value))
    else:
        items: list[tuple[str | None, Value]]
        if isinstance(value, Array):
            opening, closing, items = "[", "]", [(None, item) for item in value.values()]
        else:
            opening, closing, items = "{", "}", list(value.pairs())
        if not items:
            parts.append(opening + closing)
            return
        inner = newline + indent
        parts.append(opening)
        for position, (key, item) in enumerate(items):
            parts.append(("," if position else "") + inner)
            if key is not None:
                parts.append(quote(key) + ": ")
            _write(item, parts, inner, indent)
        parts.append(newline + closing)


def _reject_constant(name: str) -> float:
    raise ValueError(f"not JSON: {name}")


def loads(text: str) -> Value:
    """`JSON.parse`; raises ValueError for anything JavaScript rejects (NaN, Infinity, trailing data...)."""
    return wrap(json.loads(text, parse_int=float, parse_constant=_reject_constant))
