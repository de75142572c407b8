"""Strings with `${{ }}` parts, cut the way GitHub's template reader cuts them."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ExpressionError
from .numbers import JS_WHITESPACE

OPEN = "${{"
NOT_CLOSED = (
    "The expression is not closed. An unescaped ${{ sequence was found, but the closing }} sequence was not found."
)


@dataclass(frozen=True)
class Segment:
    """Literal text, or (when `expression`) the trimmed text of one `${{ }}`."""

    text: str
    expression: bool = False


def split(template: str) -> list[Segment]:
    """The literal and expression parts; `}}` inside a quoted string does not close an expression."""
    start = template.find(OPEN)
    if start < 0:
        return [Segment(template)]
    segments: list[Segment] = []
    index = 0
    while index < len(template):
        if index == start:
            end, index = _closing(template, start)
            inner = template[start + len(OPEN) : end - 1].strip(JS_WHITESPACE)
            if not inner:
                raise ExpressionError("An expression was expected")
            segments.append(Segment(inner, expression=True))
            start = template.find(OPEN, index)
        elif index < start:
            segments.append(Segment(template[index:start]))
            index = start
        else:
            segments.append(Segment(template[index:]))
            break
    return segments


def _closing(template: str, start: int) -> tuple[int, int]:
    """The index of the second `}` of the closing `}}`, and the index after it."""
    in_string = False
    for index in range(start + len(OPEN), len(template)):
        char = template[index]
        if char == "'":
            in_string = not in_string
        elif not in_string and char == "}" and template[index - 1] == "}":
            return index, index + 1
    raise ExpressionError(NOT_CLOSED)


def as_expression(segments: list[Segment]) -> str:
    """One expression for the whole string: the expression itself, or GitHub's `format('...{0}...', expr)`."""
    if len(segments) == 1 and segments[0].expression:
        return segments[0].text
    pattern: list[str] = []
    arguments: list[str] = []
    for segment in segments:
        if segment.expression:
            pattern.append(f"{{{len(arguments)}}}")
            arguments.append(segment.text)
        else:
            pattern.append(segment.text.replace("'", "''").replace("{", "{{").replace("}", "}}"))
    return f"format('{''.join(pattern)}'" + "".join(f", {argument}" for argument in arguments) + ")"
