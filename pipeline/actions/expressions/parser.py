"""Recursive descent over the tokens, mirroring `@actions/expressions`' Parser (and its depth counting)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .errors import MAX_PARSER_DEPTH, ExpressionError, ParseProblem
from .functions import Arity
from .lexer import Lexer, Token, TokenType
from .syntax import Binary, ContextAccess, FunctionCall, Grouping, IndexAccess, Literal, Logical, Node, Star, Unary

_EQUALITY = (TokenType.BANG_EQUAL, TokenType.EQUAL_EQUAL)
_COMPARISON = (TokenType.GREATER, TokenType.GREATER_EQUAL, TokenType.LESS, TokenType.LESS_EQUAL)
_LITERALS = {TokenType.FALSE: False, TokenType.TRUE: True, TokenType.NULL: None}


def parse(text: str, contexts: Collection[str], functions: Mapping[str, Arity]) -> Node | None:
    """The tree of `text` (None when it has no tokens); `contexts` lower case, `functions` by lower-case name."""
    return Parser(Lexer(text).lex(), contexts, functions).parse()


def _error(problem: ParseProblem, token: Token) -> ExpressionError:
    return ExpressionError(f"{problem.value}: '{token}'")


class _Cursor:
    """Walking the tokens, and the nesting depth."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.offset = 0
        self.depth = 0

    # Depth: every nesting construct counts one, as in GitHub's parser, which stops at 50.
    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_PARSER_DEPTH:
            raise _error(ParseProblem.EXCEEDED_MAX_DEPTH, self._peek())

    def _peek(self) -> Token:
        return self.tokens[self.offset]

    def _previous(self) -> Token:
        return self.tokens[self.offset - 1]

    def _at_end(self) -> bool:
        return self.tokens[self.offset].type is TokenType.EOF

    def _check(self, token_type: TokenType) -> bool:
        return self.tokens[self.offset].type is token_type

    def _next(self) -> Token:
        if not self._at_end():
            self.offset += 1
        return self._previous()

    def _match(self, *token_types: TokenType) -> bool:
        if self.tokens[self.offset].type in token_types:
            self.offset += 1
            return True
        return False

    def _consume(self, token_type: TokenType) -> None:
        if not self._match(token_type):
            raise _error(ParseProblem.UNEXPECTED_SYMBOL, self._peek())


class Parser(_Cursor):
    def __init__(self, tokens: list[Token], contexts: Collection[str], functions: Mapping[str, Arity]) -> None:
        super().__init__(tokens)
        self.contexts = contexts
        self.functions = functions

    def parse(self) -> Node | None:
        if self._at_end():
            return None
        tree = self._expression()
        if not self._at_end():
            raise _error(ParseProblem.UNEXPECTED_SYMBOL, self._peek())
        return tree

    def _expression(self) -> Node:
        self._enter()
        try:
            return self._logical(TokenType.OR)
        finally:
            self.depth -= 1

    def _logical(self, operator: TokenType) -> Node:
        """`||` binds looser than `&&`, which binds looser than equality."""
        tree = self._logical(TokenType.AND) if operator is TokenType.OR else self._equality()
        if not self._check(operator):
            return tree
        token = self._peek()
        operands = [tree]
        self._enter()
        try:
            while self._match(operator):
                operands.append(self._logical(TokenType.AND) if operator is TokenType.OR else self._equality())
        finally:
            self.depth -= 1
        return Logical(token, tuple(operands))

    def _equality(self) -> Node:
        tree = self._comparison()
        while self._match(*_EQUALITY):
            tree = Binary(tree, self._previous(), self._comparison())
        return tree

    def _comparison(self) -> Node:
        tree = self._unary()
        while self._match(*_COMPARISON):
            tree = Binary(tree, self._previous(), self._unary())
        return tree

    def _unary(self) -> Node:
        if not self._match(TokenType.BANG):
            return self._index()
        self._enter()
        try:
            return Unary(self._unary())
        finally:
            self.depth -= 1

    def _index(self) -> Node:
        tree = self._call()
        if not isinstance(tree, (Grouping, FunctionCall, ContextAccess)):
            return tree
        entered = 0
        try:
            while True:
                if self._match(TokenType.LEFT_BRACKET):
                    index: Node = Star() if self._match(TokenType.STAR) else self._expression()
                    self._consume(TokenType.RIGHT_BRACKET)
                    self._enter()
                    entered += 1
                elif self._match(TokenType.DOT):
                    self._enter()
                    entered += 1
                    if self._match(TokenType.IDENTIFIER):
                        index = Literal(self._previous().lexeme)
                    elif self._match(TokenType.STAR):
                        index = Star()
                    else:
                        raise _error(ParseProblem.UNEXPECTED_SYMBOL, self._peek())
                else:
                    return tree
                tree = IndexAccess(tree, index)
        finally:
            self.depth -= entered

    def _call(self) -> Node:
        if not self._check(TokenType.IDENTIFIER):
            return self._primary()
        identifier = self._next()
        if not self._match(TokenType.LEFT_PAREN):
            if identifier.lexeme.lower() not in self.contexts:
                raise _error(ParseProblem.UNRECOGNIZED_NAMED_VALUE, identifier)
            return ContextAccess(identifier.lexeme)
        arguments: list[Node] = []
        while not self._match(TokenType.RIGHT_PAREN):
            arguments.append(self._expression())
            if not self._check(TokenType.RIGHT_PAREN):
                self._consume(TokenType.COMMA)
        name = identifier.lexeme.lower()
        _validate_call(self.functions.get(name), identifier, len(arguments))
        return FunctionCall(identifier, name, tuple(arguments))

    def _primary(self) -> Node:
        token = self._peek()
        if token.type in _LITERALS:
            self._next()
            return Literal(_LITERALS[token.type])
        if token.type in (TokenType.NUMBER, TokenType.STRING):
            self._next()
            return Literal(token.value)
        if self._match(TokenType.LEFT_PAREN):
            inner = self._expression()
            if self._at_end():
                raise _error(ParseProblem.UNEXPECTED_END, self._previous())
            self._consume(TokenType.RIGHT_PAREN)
            return Grouping(inner)
        if self._at_end():
            raise _error(ParseProblem.UNEXPECTED_END, self._previous())
        raise _error(ParseProblem.UNEXPECTED_SYMBOL, token)


def _validate_call(arity: Arity | None, identifier: Token, count: int) -> None:
    if arity is None:
        raise _error(ParseProblem.UNRECOGNIZED_FUNCTION, identifier)
    if count < arity.minimum:
        raise _error(ParseProblem.TOO_FEW_PARAMETERS, identifier)
    if count > arity.maximum:
        raise _error(ParseProblem.TOO_MANY_PARAMETERS, identifier)
    if arity.odd and count % 2 == 0:
        raise _error(ParseProblem.EVEN_PARAMETERS, identifier)
