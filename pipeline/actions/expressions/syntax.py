"""The parse tree (the node kinds of `@actions/expressions`' ast.ts)."""

from __future__ import annotations

from dataclasses import dataclass

from .lexer import Token
from .values import Value


@dataclass(frozen=True, slots=True)
class Literal:
    value: Value


@dataclass(frozen=True, slots=True)
class Unary:
    """`!operand`, the only unary operator."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """A comparison: ==, !=, <, <=, >, >=."""

    left: Node
    operator: Token
    right: Node


@dataclass(frozen=True, slots=True)
class Logical:
    """`a && b && ...` or `a || b || ...`: the operands' values, short-circuited."""

    operator: Token
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Grouping:
    inner: Node


@dataclass(frozen=True, slots=True)
class ContextAccess:
    name: str


@dataclass(frozen=True, slots=True)
class Star:
    """The `*` of `a.*` or `a[*]`."""


@dataclass(frozen=True, slots=True)
class IndexAccess:
    target: Node
    index: Node


@dataclass(frozen=True, slots=True)
class FunctionCall:
    token: Token
    name: str  # lower case: function names ignore case
    arguments: tuple[Node, ...]


Node = Literal | Unary | Binary | Logical | Grouping | ContextAccess | Star | IndexAccess | FunctionCall

STATUS_FUNCTIONS = frozenset({"success", "failure", "cancelled", "always"})


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, FunctionCall):
        return node.arguments
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, IndexAccess):
        return (node.target, node.index)
    if isinstance(node, Unary):
        return (node.operand,)
    return (node.inner,) if isinstance(node, Grouping) else ()


def calls_status_function(node: Node) -> bool:
    """Whether the tree calls success, failure, cancelled or always (then `if:` implies no `success() &&`)."""
    if isinstance(node, FunctionCall) and node.name in STATUS_FUNCTIONS:
        return True
    return any(calls_status_function(child) for child in children(node))


def context_paths(node: Node) -> list[tuple[str, ...]]:
    """Every context read, as its path as far as it is literal: `needs.build.outputs['m']` is
    ('needs', 'build', 'outputs', 'm'); `needs[format(...)].result` stops at ('needs',)."""
    if isinstance(node, ContextAccess):
        return [(node.name.lower(),)]
    if isinstance(node, IndexAccess):
        inner = context_paths(node.target)
        if isinstance(node.target, (ContextAccess, IndexAccess)) and len(inner) == 1:
            rest = context_paths(node.index)
            if isinstance(node.index, Literal) and isinstance(node.index.value, str):
                return [(*inner[0], node.index.value)]
            return [inner[0], *rest]
        return [*inner, *context_paths(node.index)]
    return [path for child in children(node) for path in context_paths(child)]
