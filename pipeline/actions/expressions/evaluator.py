"""Evaluation of a parse tree, mirroring `@actions/expressions`' Evaluator."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .compare import equals, greater_than, less_than
from .errors import ExpressionError
from .functions import Function
from .lexer import TokenType
from .syntax import Binary, ContextAccess, FunctionCall, Grouping, IndexAccess, Literal, Logical, Node, Star, Unary
from .values import Array, Dictionary, Value, coerce_string, falsy, is_primitive, to_number

_COMPARE: dict[TokenType, Callable[[Value, Value], bool]] = {
    TokenType.EQUAL_EQUAL: equals,
    TokenType.BANG_EQUAL: lambda left, right: not equals(left, right),
    TokenType.GREATER: greater_than,
    TokenType.GREATER_EQUAL: lambda left, right: equals(left, right) or greater_than(left, right),
    TokenType.LESS: less_than,
    TokenType.LESS_EQUAL: lambda left, right: equals(left, right) or less_than(left, right),
}


class Index:
    """An index as GitHub reads it: a key (primitives as strings) and an array position (floor of a number >= 0)."""

    __slots__ = ("key", "position", "star")

    def __init__(self, value: Value, *, star: bool = False) -> None:
        self.star = star
        self.key = coerce_string(value) if not star and is_primitive(value) else None
        self.position: int | None = None
        if not star:
            number = to_number(value)
            if not math.isnan(number) and not math.isinf(number) and number >= 0:
                self.position = math.floor(number)


class Evaluator:
    def __init__(self, contexts: Dictionary, functions: Mapping[str, Function]) -> None:
        self.contexts = contexts
        self.functions = functions

    def evaluate(self, node: Node) -> Value:
        return _VISITORS[type(node)](self, node)

    def _literal(self, node: Literal) -> Value:
        return node.value

    def _unary(self, node: Unary) -> Value:
        return falsy(self.evaluate(node.operand))

    def _binary(self, node: Binary) -> Value:
        left = self.evaluate(node.left)
        right = self.evaluate(node.right)
        return _COMPARE[node.operator.type](left, right)

    def _logical(self, node: Logical) -> Value:
        stop_when_falsy = node.operator.type is TokenType.AND
        result: Value = None
        for operand in node.operands:
            result = self.evaluate(operand)
            if falsy(result) == stop_when_falsy:
                break
        return result

    def _grouping(self, node: Grouping) -> Value:
        return self.evaluate(node.inner)

    def _context(self, node: ContextAccess) -> Value:
        return self.contexts.get(node.name)

    def _index(self, node: IndexAccess) -> Value:
        if isinstance(node.index, Star):
            index = Index(None, star=True)
        else:
            try:
                index = Index(self.evaluate(node.index))
            except ExpressionError as error:
                raise ExpressionError(f"could not evaluate index for index access: {error}") from error
        target = self.evaluate(node.target)
        if isinstance(target, Array):
            return _filtered_access(target, index) if target.filtered else _array_access(target, index)
        if isinstance(target, Dictionary):
            return _object_access(target, index)
        return Array(filtered=True) if index.star else None

    def _call(self, node: FunctionCall) -> Value:
        arguments = [self.evaluate(argument) for argument in node.arguments]
        return self.functions[node.name](arguments)


# A table rather than a match statement: one dictionary lookup per node keeps evaluation fast.
_VISITORS: dict[type, Callable[[Evaluator, Any], Value]] = {
    Literal: Evaluator._literal,
    Unary: Evaluator._unary,
    Binary: Evaluator._binary,
    Logical: Evaluator._logical,
    Grouping: Evaluator._grouping,
    ContextAccess: Evaluator._context,
    IndexAccess: Evaluator._index,
    FunctionCall: Evaluator._call,
}


def _array_access(array: Array, index: Index) -> Value:
    if index.star:
        return Array(array.values(), filtered=True)
    if index.position is not None and index.position < len(array):
        return array.get(index.position)
    return None


def _object_access(dictionary: Dictionary, index: Index) -> Value:
    if index.star:
        return Array(dictionary.values(), filtered=True)
    return dictionary.get(index.key) if index.key is not None else None


def _filtered_access(array: Array, index: Index) -> Value:
    """Indexing a `*` result indexes each of its arrays and dictionaries, dropping what is missing."""
    result = Array(filtered=True)
    for item in array.values():
        if isinstance(item, Dictionary):
            if index.star:
                for value in item.values():
                    result.add(value)
            elif index.key is not None and item.has(index.key):
                result.add(item.get(index.key))
        elif isinstance(item, Array):
            if index.star:
                for value in item.values():
                    result.add(value)
            elif index.position is not None and index.position < len(item):
                result.add(item.get(index.position))
    return result
