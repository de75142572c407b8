"""Evaluating expressions, `${{ }}` strings and `if:` conditions over plain Python contexts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import jsontext
from .availability import Availability
from .errors import ExpressionError
from .evaluator import Evaluator
from .functions import BUILT_INS, Arity, Function
from .numbers import JS_WHITESPACE
from .parser import parse
from .special import SPECIAL_FUNCTIONS, Status, special_functions
from .syntax import Node, calls_status_function, context_paths
from .template import as_expression, split
from .values import Array, Dictionary, Value, coerce_string, falsy, unwrap, wrap

# Without an Availability, these names are accepted even when `contexts` lacks them (they read as null).
GITHUB_CONTEXTS = frozenset(
    {"github", "env", "vars", "job", "jobs", "steps", "runner", "secrets", "strategy", "matrix", "needs", "inputs"}
)
_BUILT_IN_ARITIES = {name: arity for name, (arity, _) in BUILT_INS.items()}
_BUILT_IN_FUNCTIONS = {name: function for name, (_, function) in BUILT_INS.items()}


def _arities(allowed: Availability | None) -> dict[str, Arity]:
    permitted = None if allowed is None else {name.lower() for name in allowed.functions}
    specials = {
        name.lower(): arity
        for name, arity in SPECIAL_FUNCTIONS.items()
        if permitted is None or name.lower() in permitted
    }
    return {**specials, **_BUILT_IN_ARITIES}


def _context_names(contexts: Mapping[str, Any], allowed: Availability | None) -> frozenset[str]:
    if allowed is not None:
        return frozenset(name.lower() for name in allowed.contexts)
    return GITHUB_CONTEXTS | {name.lower() for name in contexts}


def _parse(expression: str, contexts: Mapping[str, Any], allowed: Availability | None) -> Node | None:
    return parse(expression, _context_names(contexts, allowed), _arities(allowed))


def _run(
    expression: str,
    contexts: Mapping[str, Any],
    status: Status,
    workspace: Path | None,
    allowed: Availability | None,
) -> Value:
    tree = _parse(expression, contexts, allowed)
    if tree is None:
        return None  # no tokens at all: GitHub's reference tests read this as null
    functions: dict[str, Function] = {**special_functions(status, workspace), **_BUILT_IN_FUNCTIONS}
    try:
        return Evaluator(Dictionary.from_mapping(contexts), functions).evaluate(tree)
    except RecursionError as error:
        raise ExpressionError("Maximum call stack size exceeded") from error


def evaluate(
    expression: str,
    contexts: Mapping[str, Any],
    *,
    status: Status = Status(),  # noqa: B008 (frozen, so sharing the default is safe)
    workspace: Path | None = None,
    allowed: Availability | None = None,
) -> Any:
    """The value of `expression` (without `${{ }}`) as plain data: None, bool, float, str, list or dict."""
    return unwrap(_run(expression, contexts, status, workspace, allowed))


def interpolate(
    template: str,
    contexts: Mapping[str, Any],
    *,
    status: Status = Status(),  # noqa: B008
    workspace: Path | None = None,
    allowed: Availability | None = None,
) -> str:
    """`template` with each `${{ expr }}` replaced by its value as a string (see `to_string`)."""
    parts: list[str] = []
    for segment in split(template):
        if segment.expression:
            parts.append(_string(_run(segment.text, contexts, status, workspace, allowed)))
        else:
            parts.append(segment.text)
    return "".join(parts)


def evaluate_template(
    template: str,
    contexts: Mapping[str, Any],
    *,
    status: Status = Status(),  # noqa: B008
    workspace: Path | None = None,
    allowed: Availability | None = None,
) -> Any:
    """Like `interpolate`, but a string that is exactly one `${{ expr }}` gives the value itself."""
    segments = split(template)
    if len(segments) == 1 and segments[0].expression:
        return evaluate(segments[0].text, contexts, status=status, workspace=workspace, allowed=allowed)
    return interpolate(template, contexts, status=status, workspace=workspace, allowed=allowed)


def condition(
    text: str,
    contexts: Mapping[str, Any],
    *,
    status: Status = Status(),  # noqa: B008
    workspace: Path | None = None,
    allowed: Availability | None = None,
) -> bool:
    """An `if:` value, `${{ }}` optional; `success() && (...)` is implied unless it calls a status function."""
    expression = as_expression(split(text)) if "${{" in text else text.strip(JS_WHITESPACE)
    if not expression:
        expression = "success()"
    else:
        try:
            tree = _parse(expression, contexts, allowed)
        except ExpressionError:
            tree = None  # evaluating the text as it is reports the error
        else:
            if tree is not None and not calls_status_function(tree):
                expression = f"success() && ({expression})"
    return not falsy(_run(expression, contexts, status, workspace, allowed))


def read_paths(template: str, *, is_condition: bool = False) -> list[tuple[str, ...]]:
    """The context paths a `${{ }}` string (or an `if:`, where `${{ }}` is optional) reads, without
    evaluating it: what a plan needs to know before it can decide."""
    if is_condition and "${{" not in template:
        expressions = [template.strip(JS_WHITESPACE)]
    else:
        expressions = [segment.text for segment in split(template) if segment.expression]
    paths: list[tuple[str, ...]] = []
    for expression in filter(None, expressions):
        tree = parse(expression, GITHUB_CONTEXTS, _arities(None))
        if tree is not None:
            paths += context_paths(tree)
    return paths


def calls_status_function_in(condition_text: str) -> bool:
    """Whether an `if:` calls success(), failure(), cancelled() or always() (then no `success() &&` is implied)."""
    expression = (
        as_expression(split(condition_text)) if "${{" in condition_text else condition_text.strip(JS_WHITESPACE)
    )
    try:
        tree = parse(expression, GITHUB_CONTEXTS, _arities(None)) if expression else None
    except ExpressionError:
        return False
    return tree is not None and calls_status_function(tree)


def _string(value: Value) -> str:
    if isinstance(value, (Array, Dictionary)):
        return jsontext.dumps(value)
    return coerce_string(value)


def to_string(value: Any) -> str:
    """A result as GitHub writes it into a string: null '', 'true'/'false', numbers, arrays and objects as JSON."""
    return _string(wrap(value))


def truthy(value: Any) -> bool:
    """GitHub's truthiness: false, 0, NaN, '' and null are false; arrays and objects are true."""
    if isinstance(value, (Mapping, Sequence)) and not isinstance(value, str):
        return True
    return not falsy(wrap(value))
