"""The QBO query language: a tokenizer and recursive-descent parser (no eval), and the comparison rules a
parsed condition applies to a body.

    SELECT * | SELECT *, Sku | SELECT COUNT(*) FROM <Entity>
      [WHERE <prop> <op> <value> [AND ...]]      op: = < > <= >= IN (..) LIKE '%..%'
      [ORDERBY | ORDER BY <prop> [ASC|DESC] [, ...]]
      [STARTPOSITION n] [MAXRESULTS n]

Keywords are case-insensitive; strings are single-quoted with `\\'` for a quote; properties may be dotted
(`MetaData.LastUpdatedTime`). There is no OR, no NOT and no join, as in Intuit's service. A list of
properties after SELECT is checked but, as Intuit documents, every property with a value comes back.
Errors carry Intuit's detail prefixes (`QueryParserError:`, `QueryValidationError:`); the API answers
them with 4001."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox.qbo.api import wire

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_CAP = 1000
OPERATORS = ("=", "<", ">", "<=", ">=", "IN", "LIKE")


class QueryError(Exception):
    """The query cannot be parsed or does not fit the entity; `detail` is Intuit's Detail text."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "string", "number", "symbol", "end"
    text: str
    column: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class Literal:
    kind: str  # "string", "number", "bool"
    text: str

    @property
    def boolean(self) -> bool | None:
        if self.kind == "bool" or self.kind == "string":
            lowered = self.text.lower()
            if lowered in {"true", "false"}:
                return lowered == "true"
        return None


@dataclass(frozen=True)
class Condition:
    path: tuple[str, ...]
    op: str
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class OrderTerm:
    path: tuple[str, ...]
    descending: bool = False


@dataclass
class Query:
    entity: str
    count: bool = False
    extra_fields: tuple[str, ...] = ()
    conditions: list[Condition] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


# --- tokenizer -------------------------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_SYMBOLS = ("<=", ">=", "!=", "<>", "=", "<", ">", "(", ")", ",", "*")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        column = position + 1
        if char == "'":
            value, position = _read_string(text, position)
            tokens.append(Token("string", value, column))
            continue
        number = _NUMBER.match(text, position)
        if number and (char != "-" or not tokens or tokens[-1].kind == "symbol"):
            tokens.append(Token("number", number.group(), column))
            position = number.end()
            continue
        word = _WORD.match(text, position)
        if word:
            tokens.append(Token("word", word.group(), column))
            position = word.end()
            continue
        for symbol in _SYMBOLS:
            if text.startswith(symbol, position):
                tokens.append(Token("symbol", symbol, column))
                position += len(symbol)
                break
        else:
            raise QueryError(f'QueryParserError: Encountered " "{char}" at line 1, column {column}.')
    tokens.append(Token("end", "<EOF>", length + 1))
    return tokens


def _read_string(text: str, start: int) -> tuple[str, int]:
    """A single-quoted string: `\\'` is a quote (what python-quickbooks writes), `\\\\` a backslash."""
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text) and text[position + 1] in "'\\":
            chars.append(text[position + 1])
            position += 2
            continue
        if char == "'":
            return "".join(chars), position + 1
        chars.append(char)
        position += 1
    raise QueryError(f"QueryParserError: Encountered unterminated string at line 1, column {start + 1}.")


# --- parser ----------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def fail(self, expecting: str) -> QueryError:
        token = self.current
        return QueryError(
            f'QueryParserError: Encountered " "{token.text}" at line 1, column {token.column}.\n'
            f"Was expecting: {expecting}"
        )

    def keyword(self, *words: str) -> str | None:
        if self.current.upper in words:
            return self.advance().upper
        return None

    def expect_keyword(self, word: str) -> None:
        if self.keyword(word) is None:
            raise self.fail(f'"{word}"')

    def symbol(self, text: str) -> bool:
        if self.current.kind == "symbol" and self.current.text == text:
            self.advance()
            return True
        return False

    def expect_symbol(self, text: str) -> None:
        if not self.symbol(text):
            raise self.fail(f'"{text}"')

    def identifier(self) -> str:
        if self.current.kind != "word":
            raise self.fail("<IDENTIFIER>")
        return self.advance().text

    def integer(self, clause: str) -> int:
        token = self.current
        if token.kind == "number" and token.text.lstrip("-").isdigit():
            self.advance()
            return int(token.text)
        if token.kind == "string" and token.text.strip().lstrip("-").isdigit():
            self.advance()
            return int(token.text)
        raise self.fail(f"<INTEGER> after {clause}")

    def literal(self) -> Literal:
        token = self.current
        if token.kind == "string":
            self.advance()
            return Literal("string", token.text)
        if token.kind == "number":
            self.advance()
            return Literal("number", token.text)
        if token.kind == "word" and token.upper in {"TRUE", "FALSE"}:
            self.advance()
            return Literal("bool", token.text.lower())
        raise self.fail("<STRING> | <NUMBER> | true | false")

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        count, extra = self.select_list()
        self.expect_keyword("FROM")
        query = Query(entity=self.identifier(), count=count, extra_fields=extra)
        if self.keyword("WHERE"):
            query.conditions.append(self.condition())
            while self.keyword("AND"):
                query.conditions.append(self.condition())
            if self.current.upper in {"OR", "NOT"}:
                raise self.fail('"AND" (OR and NOT are not supported)')
        seen: set[str] = set()
        while self.current.kind == "word":
            word = self.current.upper
            if word in seen:
                raise self.fail("<EOF>")
            if word in {"ORDERBY", "ORDER"}:
                self.advance()
                if word == "ORDER":
                    self.expect_keyword("BY")
                query.order = self.order_list()
                seen.update({"ORDERBY", "ORDER"})
            elif word == "STARTPOSITION":
                self.advance()
                query.start_position = self.integer("STARTPOSITION")
                seen.add(word)
            elif word == "MAXRESULTS":
                self.advance()
                query.max_results = self.integer("MAXRESULTS")
                seen.add(word)
            else:
                raise self.fail('"ORDERBY" | "STARTPOSITION" | "MAXRESULTS" | <EOF>')
        if self.current.kind != "end":
            raise self.fail("<EOF>")
        if query.start_position < 1:
            raise QueryError(
                f"QueryValidationError: value {query.start_position} is too small. Min allowed value is 1"
            )
        if query.max_results < 1:
            raise QueryError(
                f"QueryValidationError: value {query.max_results} is too small. Min allowed value is 1"
            )
        # Intuit serves at most 1,000 rows a page, whatever was asked for.
        query.max_results = min(query.max_results, MAX_RESULTS_CAP)
        return query

    def select_list(self) -> tuple[bool, tuple[str, ...]]:
        if self.keyword("COUNT"):
            self.expect_symbol("(")
            self.expect_symbol("*")
            self.expect_symbol(")")
            return True, ()
        extra: list[str] = []
        if not self.symbol("*"):
            extra.append(self.identifier())
        while self.symbol(","):
            extra.append(self.identifier())
        return False, tuple(extra)

    def condition(self) -> Condition:
        path = split_path(self.identifier())
        token = self.current
        if token.kind == "symbol" and token.text in {"=", "<", ">", "<=", ">="}:
            self.advance()
            return Condition(path, token.text, (self.literal(),))
        if token.kind == "symbol" and token.text in {"!=", "<>"}:
            raise QueryError(f"QueryValidationError: operator {token.text} is not supported")
        if token.upper == "IN":
            self.advance()
            self.expect_symbol("(")
            values = [self.literal()]
            while self.symbol(","):
                values.append(self.literal())
            self.expect_symbol(")")
            return Condition(path, "IN", tuple(values))
        if token.upper == "LIKE":
            self.advance()
            value = self.literal()
            if value.kind != "string":
                raise self.fail("<STRING> after LIKE")
            return Condition(path, "LIKE", (value,))
        raise self.fail('"=" | "<" | ">" | "<=" | ">=" | "IN" | "LIKE"')

    def order_list(self) -> list[OrderTerm]:
        terms = [self.order_term()]
        while self.symbol(","):
            terms.append(self.order_term())
        return terms

    def order_term(self) -> OrderTerm:
        path = split_path(self.identifier())
        direction = self.keyword("ASC", "DESC")
        return OrderTerm(path, descending=direction == "DESC")


def parse(text: str) -> Query:
    """Parse one SELECT statement. Raises QueryError with Intuit's detail text."""
    if not text or not text.strip():
        raise QueryError('QueryParserError: Encountered " <EOF> "" at line 1, column 1.')
    return _Parser(text.strip().rstrip(";")).parse()


def split_path(name: str) -> tuple[str, ...]:
    parts = tuple(name.split("."))
    if any(not part for part in parts):
        raise QueryError(f'QueryParserError: Encountered " <IDENTIFIER> "{name}""')
    return parts


# --- evaluation against a body ---------------------------------------------------------------------------


def value_at(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    """The body's value at a property path; a reference (`CustomerRef`) stands for its id."""
    value: Any = body
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def fold(text: str) -> str:
    """Strings compare without regard to case, as QBO's queries do."""
    return text.casefold()


def like_pattern(pattern: str) -> re.Pattern[str]:
    """LIKE knows one wildcard, `%`."""
    return re.compile("^" + ".*".join(re.escape(fold(part)) for part in pattern.split("%")) + "$", re.DOTALL)


def coerce(actual: Any, literal: Literal) -> tuple[Any, Any] | None:
    """The body value and the literal as comparable Python values, or None when they cannot compare."""
    if actual is None:
        return None
    if isinstance(actual, bool):
        flag = literal.boolean
        return None if flag is None else (actual, flag)
    if isinstance(actual, int | Decimal):
        number = wire.to_decimal(literal.text)
        return None if number is None else (Decimal(actual), number)
    if isinstance(actual, str):
        moment = _moment(actual)
        if moment is not None:
            other = _moment(literal.text)
            if other is not None:
                return moment, other
        return fold(actual), fold(literal.text)
    return None


def _moment(text: str) -> datetime | None:
    if len(text) < 10 or not text[:4].isdigit() or text[4:5] != "-":
        return None
    return wire.parse_moment(text)


def matches(body: dict[str, Any], condition: Condition) -> bool:
    actual = value_at(body, condition.path)
    if condition.op == "IN":
        for literal in condition.values:
            pair = coerce(actual, literal)
            if pair is not None and pair[0] == pair[1]:
                return True
        return False
    literal = condition.values[0]
    if condition.op == "LIKE":
        if not isinstance(actual, str):
            return False
        return like_pattern(literal.text).match(fold(actual)) is not None
    pair = coerce(actual, literal)
    if pair is None:
        return False
    left, right = pair
    try:
        if condition.op == "=":
            return bool(left == right)
        if condition.op == "<":
            return bool(left < right)
        if condition.op == ">":
            return bool(left > right)
        if condition.op == "<=":
            return bool(left <= right)
        return bool(left >= right)
    except TypeError:
        return False


def sort_key(value: Any) -> tuple[int, Any]:
    """Missing values first, then booleans, numbers, moments, and case-folded text."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | Decimal):
        return (2, Decimal(value))
    if isinstance(value, str):
        moment = _moment(value)
        if moment is not None:
            return (3, moment)
        return (4, fold(value))
    return (5, str(value))
