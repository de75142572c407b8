"""The evaluator's data: null, booleans, numbers (doubles), strings, arrays and case-insensitive dictionaries.

Primitives are the Python values themselves (None, bool, float, str). Arrays and dictionaries are wrappers,
because GitHub compares them by identity and looks keys up ignoring case. Wrappers over plain Python data
convert their members on first access, so reading one field of a large event payload stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum

from .numbers import number_string, parse_number


class Array:
    """An array; `filtered` marks the result of a `*` filter, which indexing maps over instead of into."""

    __slots__ = ("_items", "filtered")

    def __init__(self, items: Iterable[object] = (), *, filtered: bool = False) -> None:
        self._items: list[object] = list(items)
        self.filtered = filtered

    def __len__(self) -> int:
        return len(self._items)

    def get(self, index: int) -> Value:
        item = self._items[index]
        if _is_value(item):
            return item  # type: ignore[return-value]
        converted = wrap(item)
        self._items[index] = converted
        return converted

    def values(self) -> list[Value]:
        return [self.get(index) for index in range(len(self._items))]

    def add(self, item: Value) -> None:
        self._items.append(item)


class Dictionary:
    """A dictionary with case-insensitive keys: the first of several keys differing only in case wins."""

    __slots__ = ("_index", "_keys", "_values")

    def __init__(self, pairs: Iterable[tuple[str, object]] = ()) -> None:
        self._keys: list[str] = []
        self._values: list[object] = []
        self._index: dict[str, int] = {}
        for key, value in pairs:
            folded = key.lower()
            if folded not in self._index:
                self._index[folded] = len(self._values)
                self._keys.append(key)
                self._values.append(value)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> Dictionary:
        """Keys in the order JavaScript gives an object's keys: array indices first, ascending."""
        keys = list(mapping)
        indices = [key for key in keys if _is_array_index(key)]
        if indices:
            indices.sort(key=int)
            keys = indices + [key for key in keys if not _is_array_index(key)]
        return cls((key, mapping[key]) for key in keys)

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: str) -> Value | None:
        """The value for `key` ignoring case; None when absent (a present null is None too: use `has`)."""
        position = self._index.get(key.lower())
        return None if position is None else self._at(position)

    def has(self, key: str) -> bool:
        return key.lower() in self._index

    def _at(self, position: int) -> Value:
        item = self._values[position]
        if _is_value(item):
            return item  # type: ignore[return-value]
        converted = wrap(item)
        self._values[position] = converted
        return converted

    def values(self) -> list[Value]:
        return [self._at(position) for position in range(len(self._values))]

    def pairs(self) -> list[tuple[str, Value]]:
        return [(key, self._at(position)) for position, key in enumerate(self._keys)]


Value = None | bool | float | str | Array | Dictionary


class Kind(Enum):
    """The kinds of `@actions/expressions`; the names are what it prints for arrays and objects."""

    NULL = "Null"
    BOOLEAN = "Boolean"
    NUMBER = "Number"
    STRING = "String"
    ARRAY = "Array"
    OBJECT = "Object"


def _is_array_index(key: str) -> bool:
    return key.isdigit() and key.isascii() and (key == "0" or key[0] != "0") and int(key) < 2**32 - 1


def _is_value(item: object) -> bool:
    return item is None or type(item) in _VALUE_TYPES


_VALUE_TYPES = frozenset({bool, float, str, Array, Dictionary})


def wrap(data: object) -> Value:
    """Plain Python data (as `json.loads` gives) as a value; integers become doubles."""
    if data is None or isinstance(data, (bool, float, str, Array, Dictionary)):
        return data
    if isinstance(data, int):
        try:
            return float(data)
        except OverflowError:
            return math.inf if data > 0 else -math.inf
    if isinstance(data, Mapping):
        return Dictionary.from_mapping(data)
    if isinstance(data, Sequence):
        return Array(data)
    raise TypeError(f"not expression data: {type(data).__name__}")


def unwrap(value: Value) -> object:
    """A value as plain Python data: None, bool, float, str, list or dict."""
    if isinstance(value, Array):
        return [unwrap(item) for item in value.values()]
    if isinstance(value, Dictionary):
        return {key: unwrap(item) for key, item in value.pairs()}
    return value


def kind(value: Value) -> Kind:
    if value is None:
        return Kind.NULL
    if isinstance(value, bool):
        return Kind.BOOLEAN
    if isinstance(value, float):
        return Kind.NUMBER
    if isinstance(value, str):
        return Kind.STRING
    return Kind.ARRAY if isinstance(value, Array) else Kind.OBJECT


def is_primitive(value: Value) -> bool:
    return not isinstance(value, (Array, Dictionary))


def coerce_string(value: Value) -> str:
    """`coerceString()`: '' for null, 'true'/'false', GitHub's number format; arrays and objects give their kind."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_string(value)
    return kind(value).value


def to_number(value: Value) -> float:
    """`number()`: null 0, booleans 0/1, strings as JavaScript's `Number()`, arrays and objects NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        return parse_number(value)
    return 0.0 if value is None else math.nan


def falsy(value: Value) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, float):
        return value == 0 or math.isnan(value)
    if isinstance(value, str):
        return not value
    return False
