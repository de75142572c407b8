"""Tokens of an expression, exactly as `@actions/expressions`' Lexer cuts them."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, auto

from .errors import MAX_EXPRESSION_LENGTH, ExpressionError, utf16_length
from .numbers import JS_WHITESPACE, parse_number


class TokenType(Enum):
    LEFT_PAREN = auto()
    RIGHT_PAREN = auto()
    LEFT_BRACKET = auto()
    RIGHT_BRACKET = auto()
    COMMA = auto()
    DOT = auto()
    BANG = auto()
    BANG_EQUAL = auto()
    EQUAL_EQUAL = auto()
    GREATER = auto()
    GREATER_EQUAL = auto()
    LESS = auto()
    LESS_EQUAL = auto()
    AND = auto()
    OR = auto()
    STAR = auto()
    NUMBER = auto()
    STRING = auto()
    IDENTIFIER = auto()
    TRUE = auto()
    FALSE = auto()
    NULL = auto()
    EOF = auto()


@dataclass(frozen=True, slots=True)
class Token:
    type: TokenType
    lexeme: str
    value: float | str | None = None

    def __str__(self) -> str:
        """How error messages quote the token: strings by their value, the end as EOF."""
        if self.type is TokenType.EOF:
            return "EOF"
        if self.type is TokenType.STRING:
            return str(self.value)
        return self.lexeme


_SINGLE = {
    "(": TokenType.LEFT_PAREN,
    ")": TokenType.RIGHT_PAREN,
    "[": TokenType.LEFT_BRACKET,
    "]": TokenType.RIGHT_BRACKET,
    ",": TokenType.COMMA,
    "*": TokenType.STAR,
}
# An operator character, then (the token if followed by "=", the token otherwise).
_WITH_EQUAL = {
    "!": (TokenType.BANG_EQUAL, TokenType.BANG),
    "<": (TokenType.LESS_EQUAL, TokenType.LESS),
    ">": (TokenType.GREATER_EQUAL, TokenType.GREATER),
}
_DOUBLED = {"=": TokenType.EQUAL_EQUAL, "&": TokenType.AND, "|": TokenType.OR}
_KEYWORDS: dict[str, tuple[TokenType, float | None]] = {
    "true": (TokenType.TRUE, None),
    "false": (TokenType.FALSE, None),
    "null": (TokenType.NULL, None),
    "NaN": (TokenType.NUMBER, math.nan),
    "Infinity": (TokenType.NUMBER, math.inf),
}
_BOUNDARY = frozenset("([)],.!><=&|" + JS_WHITESPACE)
_PROPERTY_BEFORE_DOT = frozenset({TokenType.IDENTIFIER, TokenType.RIGHT_BRACKET, TokenType.RIGHT_PAREN, TokenType.STAR})
_IDENTIFIER_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_IDENTIFIER_REST = _IDENTIFIER_START | frozenset("0123456789-")


def _legal_identifier(text: str) -> bool:
    return bool(text) and text[0] in _IDENTIFIER_START and all(char in _IDENTIFIER_REST for char in text[1:])


class Lexer:
    """One pass over the text; `lex()` returns the tokens ending with EOF or raises GitHub's error."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.start = 0
        self.offset = 0
        self.tokens: list[Token] = []

    def lex(self) -> list[Token]:
        if len(self.text) > MAX_EXPRESSION_LENGTH // 2 and utf16_length(self.text) > MAX_EXPRESSION_LENGTH:
            raise ExpressionError("ErrorExceededMaxLength")
        text = self.text
        while self.offset < len(text):
            self.start = self.offset
            char = text[self.offset]
            self.offset += 1
            if char in _SINGLE:
                self._add(_SINGLE[char])
            elif char in _HANDLERS:
                _HANDLERS[char](self, char)
            elif "0" <= char <= "9":
                self._number()
            else:
                self._identifier()
        self.tokens.append(Token(TokenType.EOF, ""))
        return self.tokens

    def _skip(self, _: str) -> None:
        """Space, tab, CR and LF separate tokens (other whitespace is an unexpected symbol)."""

    def _dot(self, _: str) -> None:
        if self._previous() in _PROPERTY_BEFORE_DOT:
            self._add(TokenType.DOT)
        else:
            self._number()

    def _operator(self, char: str) -> None:
        equal, alone = _WITH_EQUAL[char]
        self._add(equal if self._match("=") else alone)

    def _doubled(self, char: str) -> None:
        # A lone "=", "&" or "|" is read on to the next boundary and reported as that symbol.
        if self._match(char):
            self._add(_DOUBLED[char])
        else:
            self._identifier()

    def _previous(self) -> TokenType:
        return self.tokens[-1].type if self.tokens else TokenType.EOF

    def _match(self, expected: str) -> bool:
        if self.offset < len(self.text) and self.text[self.offset] == expected:
            self.offset += 1
            return True
        return False

    def _add(self, token_type: TokenType, value: float | str | None = None) -> None:
        self.tokens.append(Token(token_type, self.text[self.start : self.offset], value))

    def _error(self, symbol: str) -> ExpressionError:
        position = utf16_length(self.text[: self.start]) + 1
        return ExpressionError(
            f"Unexpected symbol: '{symbol}'. Located at position {position} within expression: {self.text}"
        )

    def _read_to_boundary(self, *, through_dots: bool) -> str:
        text = self.text
        while self.offset < len(text) and (
            text[self.offset] not in _BOUNDARY or (through_dots and text[self.offset] == ".")
        ):
            self.offset += 1
        return text[self.start : self.offset]

    def _number(self, _: str = "") -> None:
        lexeme = self._read_to_boundary(through_dots=True)
        value = parse_number(lexeme)
        if math.isnan(value):
            raise self._error(lexeme)
        self._add(TokenType.NUMBER, value)

    def _string(self, _: str = "") -> None:
        text = self.text
        while self.offset < len(text) and (text[self.offset] != "'" or text[self.offset + 1 : self.offset + 2] == "'"):
            self.offset += 2 if text[self.offset] == "'" else 1  # '' is an escaped quote
        if self.offset >= len(text):
            raise self._error(text[self.start :])
        self.offset += 1
        # GitHub's lexer un-doubles only the first '' of a string (JavaScript's String.replace with a string).
        value = text[self.start + 1 : self.offset - 1].replace("''", "'", 1)
        self._add(TokenType.STRING, value)

    def _identifier(self) -> None:
        lexeme = self._read_to_boundary(through_dots=False)
        token_type, value = TokenType.IDENTIFIER, None
        if self._previous() is not TokenType.DOT and lexeme in _KEYWORDS:
            token_type, value = _KEYWORDS[lexeme]
        if not _legal_identifier(lexeme):
            raise self._error(lexeme)
        self._add(token_type, value)


_HANDLERS: dict[str, Callable[[Lexer, str], None]] = {
    **dict.fromkeys(" \r\t\n", Lexer._skip),
    ".": Lexer._dot,
    "-": Lexer._number,
    "+": Lexer._number,
    **dict.fromkeys(_WITH_EQUAL, Lexer._operator),
    **dict.fromkeys(_DOUBLED, Lexer._doubled),
    "'": Lexer._string,
}
