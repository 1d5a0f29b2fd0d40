"""Xero's `where` and `order` query languages: a tokenizer, a recursive-descent parser, an evaluator over
decoded bodies and a translation of the indexable part into SQL.

Grammar (a subset of .NET Dynamic LINQ, which is what Xero runs):

    expr     := and ( (OR | "||") and )*
    and      := unary ( (AND | "&&") unary )*
    unary    := (NOT | "!") unary | compare
    compare  := operand ( ("==" | "=" | "!=" | "<>" | ">" | ">=" | "<" | "<=") operand )?
    operand  := "(" expr ")" | literal | Guid("…") | DateTime(y, m, d[, h, mi, s]) | path
    path     := Name ( "." Name | "." Method "(" args ")" )*      Method: Contains StartsWith EndsWith
                                                                        ToLower ToUpper
    literal  := "string" | number | true | false | null

Nothing is ever evaluated as Python code."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Q
from django.db.models.expressions import OrderBy

from sandbox.xero.api import wire


class QueryParseError(Exception):
    """A malformed `where` or `order`: Xero's QueryParseException (ErrorNumber 16)."""


# --- syntax tree -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Any  # str, Decimal, bool, None or an aware datetime
    guid: bool = False


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    target: Node
    method: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Literal | Path | Call | Compare | And | Or | Not

STRING_METHODS = {"contains", "startswith", "endswith", "tolower", "toupper"}
COMPARE_OPS = {"==": "==", "=": "==", "!=": "!=", "<>": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
FLIPPED = {"==": "==", "!=": "!=", ">": "<", ">=": "<=", "<": ">", "<=": ">="}

# --- tokens ----------------------------------------------------------------------------------------------

TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.|"")*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<>|>=|<=|&&|\|\||[=<>!().,])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, name, op, end
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryParseError(f"Unexpected character at position {position}: {text[position:][:20]!r}")
        kind = match.lastgroup or "op"
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r'\\(.)|""', lambda m: m.group(1) if m.group(1) is not None else '"', body)


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def keyword(self, *words: str) -> bool:
        token = self.current
        return token.kind == "name" and token.text.upper() in words

    def symbol(self, *symbols: str) -> bool:
        return self.current.kind == "op" and self.current.text in symbols

    def expect(self, symbol: str) -> None:
        if not self.symbol(symbol):
            raise QueryParseError(f"Expected '{symbol}' at position {self.current.position} in {self.text!r}")
        self.advance()

    def parse(self) -> Node:
        node = self.expression()
        if self.current.kind != "end":
            raise QueryParseError(f"Unexpected '{self.current.text}' at position {self.current.position}")
        return node

    def expression(self) -> Node:
        items = [self.conjunction()]
        while self.keyword("OR") or self.symbol("||"):
            self.advance()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def conjunction(self) -> Node:
        items = [self.unary()]
        while self.keyword("AND") or self.symbol("&&"):
            self.advance()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        if self.keyword("NOT") or self.symbol("!"):
            self.advance()
            return Not(self.unary())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        if self.current.kind == "op" and self.current.text in COMPARE_OPS:
            op = COMPARE_OPS[self.advance().text]
            return Compare(op, left, self.operand())
        return left

    def operand(self) -> Node:
        token = self.current
        if self.symbol("("):
            self.advance()
            node = self.expression()
            self.expect(")")
            return node
        if token.kind == "string":
            self.advance()
            return Literal(_unquote(token.text))
        if token.kind == "number":
            self.advance()
            return Literal(Decimal(token.text))
        if token.kind == "name":
            word = token.text.lower()
            if word in {"true", "false"}:
                self.advance()
                return Literal(word == "true")
            if word == "null":
                self.advance()
                return Literal(None)
            if word == "guid" and self.tokens[self.index + 1].text == "(":
                return self.guid()
            if word == "datetime" and self.tokens[self.index + 1].text == "(":
                return self.datetime()
            return self.path()
        raise QueryParseError(f"Unexpected '{token.text or 'end of query'}' at position {token.position}")

    def arguments(self) -> tuple[Node, ...]:
        self.expect("(")
        args: list[Node] = []
        if not self.symbol(")"):
            args.append(self.expression())
            while self.symbol(","):
                self.advance()
                args.append(self.expression())
        self.expect(")")
        return tuple(args)

    def guid(self) -> Node:
        self.advance()
        args = self.arguments()
        if len(args) != 1 or not isinstance(args[0], Literal) or not isinstance(args[0].value, str):
            raise QueryParseError('Guid() takes one string: Guid("…")')
        return Literal(args[0].value.strip().lower(), guid=True)

    def datetime(self) -> Node:
        self.advance()
        args = self.arguments()
        numbers: list[int] = []
        for arg in args:
            if not isinstance(arg, Literal) or not isinstance(arg.value, Decimal):
                raise QueryParseError("DateTime() takes numbers: DateTime(year, month, day[, h, m, s])")
            numbers.append(int(arg.value))
        if len(numbers) not in (3, 6):
            raise QueryParseError("DateTime() takes 3 or 6 numbers")
        try:
            year, month, day, hour, minute, second = (*numbers, 0, 0, 0)[:6]
            return Literal(datetime(year, month, day, hour, minute, second, tzinfo=UTC))
        except ValueError as error:
            raise QueryParseError(f"DateTime(): {error}") from None

    def path(self) -> Node:
        node: Node = Path((self.advance().text,))
        while self.symbol("."):
            self.advance()
            if self.current.kind != "name":
                raise QueryParseError(f"Expected a name after '.' at position {self.current.position}")
            name = self.advance().text
            if self.symbol("("):
                if name.lower() not in STRING_METHODS:
                    raise QueryParseError(f"Unsupported method {name}()")
                node = Call(node, name.lower(), self.arguments())
            elif isinstance(node, Path):
                node = Path((*node.parts, name))
            else:
                raise QueryParseError(f"Unexpected '.{name}' after a method call")
        return node


def parse_where(text: str) -> Node:
    return Parser(text).parse()


# --- evaluation over decoded bodies ----------------------------------------------------------------------


def resolve(body: Any, parts: tuple[str, ...]) -> Any:
    value = body
    for part in parts:
        if not isinstance(value, dict):
            return None
        if part in value:
            value = value[part]
            continue
        lowered = part.lower()
        value = next((item for key, item in value.items() if key.lower() == lowered), None)
    return value


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return wire.parse_instant(value)
        except wire.PostDataInvalid:
            return None
    return None


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int):
        return Decimal(value)
    return None


def compare(op: str, left: Any, right: Any, *, guid: bool = False) -> bool:
    if left is None or right is None:
        if op == "==":
            return left is None and right is None
        if op == "!=":
            return not (left is None and right is None)
        return False
    a: Any = left
    b: Any = right
    if isinstance(a, datetime) or isinstance(b, datetime):
        a, b = _as_datetime(a), _as_datetime(b)
    elif guid:
        a, b = str(a).lower(), str(b).lower()
    elif isinstance(a, bool) or isinstance(b, bool):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            a = b = None
    elif _as_number(a) is not None or _as_number(b) is not None:
        a, b = _as_number(a), _as_number(b)
    elif not (isinstance(a, str) and isinstance(b, str)):
        a = b = None
    if a is None or b is None:
        return op == "!="
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    try:
        if op == ">":
            return bool(a > b)
        if op == ">=":
            return bool(a >= b)
        if op == "<":
            return bool(a < b)
        return bool(a <= b)
    except TypeError:
        return False


def evaluate(node: Node, body: Any) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Path):
        return resolve(body, node.parts)
    if isinstance(node, Call):
        target = evaluate(node.target, body)
        args = [evaluate(arg, body) for arg in node.args]
        if not isinstance(target, str):
            return None
        if node.method == "tolower":
            return target.lower()
        if node.method == "toupper":
            return target.upper()
        if len(args) != 1 or not isinstance(args[0], str):
            return False
        if node.method == "contains":
            return args[0] in target
        if node.method == "startswith":
            return target.startswith(args[0])
        return target.endswith(args[0])
    if isinstance(node, Compare):
        guid = any(isinstance(side, Literal) and side.guid for side in (node.left, node.right))
        return compare(node.op, evaluate(node.left, body), evaluate(node.right, body), guid=guid)
    if isinstance(node, And):
        return all(matches(item, body) for item in node.items)
    if isinstance(node, Or):
        return any(matches(item, body) for item in node.items)
    return not matches(node.item, body)


def matches(node: Node, body: Any) -> bool:
    # A bare path or call is a boolean test: `IsCustomer`, `Name.Contains("x")`.
    return evaluate(node, body) is True


# --- SQL pushdown ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A body path copied into an indexed column: `text`, `id` (GUID strings), `date` or `datetime`."""

    name: str
    kind: str


def to_q(node: Node, columns: dict[tuple[str, ...], Column]) -> tuple[Q | None, bool]:
    """(a SQL filter every match satisfies, whether it is exactly the condition).

    Exact translations let a query skip decoding bodies; inexact ones still narrow the rows to decode."""
    if isinstance(node, Compare):
        q = _compare_q(node, columns)
        return q, q is not None
    if isinstance(node, And):
        parts = [to_q(item, columns) for item in node.items]
        filters = [q for q, _ in parts if q is not None]
        combined: Q | None = None
        for q in filters:
            combined = q if combined is None else combined & q
        return combined, all(exact for _, exact in parts)
    if isinstance(node, Or):
        parts = [to_q(item, columns) for item in node.items]
        if all(exact for _, exact in parts):
            alternatives: Q | None = None
            for q, _ in parts:
                if q is not None:
                    alternatives = q if alternatives is None else alternatives | q
            return alternatives, True
    return None, False


def _compare_q(node: Compare, columns: dict[tuple[str, ...], Column]) -> Q | None:
    op, left, right = node.op, node.left, node.right
    if isinstance(left, Literal) and isinstance(right, Path):
        op, left, right = FLIPPED[op], right, left
    if not (isinstance(left, Path) and isinstance(right, Literal)):
        return None
    column = columns.get(left.parts)
    if column is None:
        return None
    value = right.value
    name = column.name
    if value is None:
        if op == "==":
            return Q(**{f"{name}__isnull": True})
        if op == "!=":
            return Q(**{f"{name}__isnull": False})
        return Q(pk__in=[])
    if column.kind in ("text", "id") and isinstance(value, str) and op in ("==", "!="):
        if right.guid and column.kind != "id":
            return None
        q = Q(**{name: value})
        return q if op == "==" else ~q | Q(**{f"{name}__isnull": True})
    if column.kind == "datetime" and isinstance(value, datetime):
        return _range_q(name, op, value)
    if column.kind == "date" and isinstance(value, datetime):
        day = value.date()
        if value.time() == datetime.min.time():
            return _range_q(name, op, day)
        # A date (midnight) against a moment inside a day: no day equals it, later days exceed it.
        if op == "==":
            return Q(pk__in=[])
        if op == "!=":
            return Q()
        return Q(**{f"{name}__gt": day}) if op in (">", ">=") else Q(**{f"{name}__lte": day})
    return None


def _range_q(name: str, op: str, value: date | datetime) -> Q:
    lookups = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
    if op in lookups:
        return Q(**{f"{name}__{lookups[op]}": value})
    q = Q(**{name: value})
    return q if op == "==" else ~q | Q(**{f"{name}__isnull": True})


# --- order -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderTerm:
    parts: tuple[str, ...]
    descending: bool


ORDER_TERM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(ASC|DESC)?\s*$", re.I)


def parse_order(text: str) -> list[OrderTerm]:
    terms: list[OrderTerm] = []
    for chunk in text.split(","):
        match = ORDER_TERM.match(chunk)
        if match is None:
            raise QueryParseError(f"Invalid order term {chunk.strip()!r}: use 'Field ASC' or 'Field DESC'")
        terms.append(OrderTerm(tuple(match.group(1).split(".")), (match.group(2) or "").upper() == "DESC"))
    return terms


def order_by_sql(terms: list[OrderTerm], columns: dict[tuple[str, ...], Column]) -> list[OrderBy] | None:
    """ORDER BY clauses when every term is a column; None means sort decoded bodies instead."""
    clauses: list[OrderBy] = []
    for term in terms:
        column = columns.get(term.parts)
        if column is None:
            return None
        # Missing values sort first ascending (as in `sort_bodies`), on SQLite and PostgreSQL alike.
        expression = F(column.name)
        clauses.append(
            expression.desc(nulls_last=True) if term.descending else expression.asc(nulls_first=True)
        )
    clauses.append(F("id").asc())
    return clauses


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, Decimal | int):
        return (2, Decimal(value))
    if isinstance(value, str):
        moment = wire.parse_ms(value)
        if moment is not None:
            return (3, moment)
        return (4, value)
    return (5, repr(value))


def sort_bodies(items: list[Any], terms: list[OrderTerm], body_of: Callable[[Any], Any]) -> list[Any]:
    """A stable multi-key sort, last key first, so each term can have its own direction."""
    ordered = list(items)
    for term in reversed(terms):
        ordered.sort(key=lambda item: _sort_key(resolve(body_of(item), term.parts)), reverse=term.descending)
    return ordered


def comma_list(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]
