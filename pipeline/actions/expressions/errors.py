"""The one exception of the expression engine, and GitHub's wording for parse errors."""

from __future__ import annotations

from enum import Enum

MAX_PARSER_DEPTH = 50
MAX_EXPRESSION_LENGTH = 21000


class ExpressionError(Exception):
    """A syntax or evaluation error; `str()` is GitHub's message."""


class ParseProblem(Enum):
    """The parser's error kinds; the value is the start of the message."""

    UNEXPECTED_SYMBOL = "Unexpected symbol"
    UNRECOGNIZED_NAMED_VALUE = "Unrecognized named-value"
    UNEXPECTED_END = "Unexpected end of expression"
    EXCEEDED_MAX_DEPTH = f"Exceeded max expression depth {MAX_PARSER_DEPTH}"
    TOO_FEW_PARAMETERS = "Too few parameters supplied"
    TOO_MANY_PARAMETERS = "Too many parameters supplied"
    EVEN_PARAMETERS = "Even number of parameters supplied, requires an odd number of parameters"
    UNRECOGNIZED_FUNCTION = "Unrecognized function"


def utf16_length(text: str) -> int:
    """JavaScript's `length`: UTF-16 code units, two for a character above U+FFFF."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)
