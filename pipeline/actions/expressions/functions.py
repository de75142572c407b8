"""The built-in functions (contains, startsWith, endsWith, format, join, toJSON, fromJSON, case)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import jsontext
from .compare import equals, upper_special
from .errors import ExpressionError
from .numbers import JS_WHITESPACE
from .values import Array, Value, coerce_string, is_primitive

Function = Callable[[Sequence[Value]], Value]
MAX_ARGUMENTS = 2**53 - 1  # Number.MAX_SAFE_INTEGER


@dataclass(frozen=True)
class Arity:
    minimum: int
    maximum: int
    odd: bool = False  # case() takes pairs plus a default


def contains(args: Sequence[Value]) -> Value:
    search, item = args
    if is_primitive(search):
        return is_primitive(item) and coerce_string(item).lower() in coerce_string(search).lower()
    if isinstance(search, Array):
        return any(equals(item, candidate) for candidate in search.values())
    return False


def starts_with(args: Sequence[Value]) -> Value:
    text, prefix = args
    if not (is_primitive(text) and is_primitive(prefix)):
        return False
    return upper_special(coerce_string(text)).startswith(upper_special(coerce_string(prefix)))


def ends_with(args: Sequence[Value]) -> Value:
    text, suffix = args
    if not (is_primitive(text) and is_primitive(suffix)):
        return False
    return upper_special(coerce_string(text)).endswith(upper_special(coerce_string(suffix)))


def join(args: Sequence[Value]) -> Value:
    items = args[0]
    if is_primitive(items):
        return coerce_string(items)
    if not isinstance(items, Array):
        return ""
    separator = coerce_string(args[1]) if len(args) > 1 and is_primitive(args[1]) else ","
    return separator.join(coerce_string(item) for item in items.values())


def to_json(args: Sequence[Value]) -> Value:
    return jsontext.dumps(args[0])


def from_json(args: Sequence[Value]) -> Value:
    text = coerce_string(args[0])
    if not text.strip(JS_WHITESPACE):
        raise ExpressionError("empty input")
    try:
        return jsontext.loads(text)
    except (ValueError, RecursionError) as error:
        raise ExpressionError("Error parsing JSON when evaluating fromJson") from error


def case(args: Sequence[Value]) -> Value:
    for position in range(0, len(args) - 1, 2):
        predicate = args[position]
        if not isinstance(predicate, bool):
            raise ExpressionError("case predicate must evaluate to a boolean value")
        if predicate:
            return args[position + 1]
    return args[-1]


def format_(args: Sequence[Value]) -> Value:
    """`format('{0} {{1}}', a)`: `{N}` is argument N (anything after the digits up to `}` is ignored)."""
    text = coerce_string(args[0])
    result: list[str] = []
    index = 0
    while index < len(text):
        left = text.find("{", index)
        right = text.find("}", index)
        if left >= 0 and (right < 0 or right > left):
            if text[left + 1 : left + 2] == "{":
                result.append(text[index : left + 1])
                index = left + 2
                continue
            digits = _digits_at(text, left + 1)
            if right > left + 1 and digits:
                if int(digits) + 1 > len(args) - 1:
                    raise ExpressionError(
                        f"The following format string references more arguments than were supplied: {text}"
                    )
                result.append(text[index:left])
                result.append(coerce_string(args[1 + int(digits)]))
                index = right + 1
                continue
            raise ExpressionError(f"The following format string is invalid: {text}")
        if right >= 0:
            if text[right + 1 : right + 2] != "}":
                raise ExpressionError(f"The following format string is invalid: {text}")
            result.append(text[index : right + 1])
            index = right + 2
        else:
            result.append(text[index:])
            break
    return "".join(result)


def _digits_at(text: str, start: int) -> str:
    end = start
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    return text[start:end]


BUILT_INS: dict[str, tuple[Arity, Function]] = {
    "case": (Arity(3, MAX_ARGUMENTS, odd=True), case),
    "contains": (Arity(2, 2), contains),
    "endswith": (Arity(2, 2), ends_with),
    "format": (Arity(1, 255), format_),
    "fromjson": (Arity(1, 1), from_json),
    "join": (Arity(1, 2), join),
    "startswith": (Arity(2, 2), starts_with),
    "tojson": (Arity(1, 1), to_json),
}
