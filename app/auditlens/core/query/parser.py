"""Parse a filter query into an AST (the grammar is in :mod:`auditlens.core.query.filter`).

A hand-written recursive-descent parser over :mod:`~auditlens.core.query.lexer` tokens: no
dependency, and every error carries the exact character span to underline.

Invariants of the AST it returns:

* every field has been resolved against the schema's whitelist (:data:`FIELD_INFO`); a node names
  a column only through :class:`Column`, whose name is a key of :data:`FIELD_INFO`;
* every value has been checked and converted for its field: times are Unix nanoseconds, integers
  fit in BIGINT, lower bounds are not above upper bounds, so compiling never fails on user input;
* wildcard values are stored as SQL ``LIKE`` patterns whose escape character is a backslash.

The parser is bounded: queries longer than :data:`MAX_QUERY_LENGTH` or nested deeper than
:data:`MAX_DEPTH` are rejected with a :class:`QuerySyntaxError`, never a ``RecursionError``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from enum import Enum

from auditlens.core.errors import QuerySyntaxError
from auditlens.core.query.lexer import Token, TokenType, tokenize
from auditlens.core.schema import FIELDS

# A filter bar is typed or pasted by a person; 64 KiB holds a pasted list of a few thousand ids
# while bounding the parse time and the SQL text handed to DuckDB.
MAX_QUERY_LENGTH = 65_536
# Parentheses and NOT chains recurse in the parser and the compiler; 100 levels is far beyond any
# hand-written query and far below Python's recursion limit.
MAX_DEPTH = 100

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


# --- the fields ---------------------------------------------------------------------------------


class FieldKind(Enum):
    """How a field's values are read and compared."""

    TIME = "time"  # BIGINT Unix nanoseconds, values are ISO-8601 times
    INTEGER = "integer"  # BIGINT, values are integers
    TEXT = "text"  # VARCHAR
    JSON = "json"  # the attributes object; only `attributes:*` and `attributes.KEY:...`


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What the filter language knows about one filterable column."""

    column: str
    kind: FieldKind
    fold_case: bool = False  # compare case-insensitively (enumerated values)
    lower_value: bool = False  # the column holds lower-case hex: lower-case the value typed
    substring: bool = False  # values are case-insensitive substring searches (free text)
    units: bool = False  # integer values may carry a duration unit (ns, us, ms, s, m, h)


TIME_COLUMNS = frozenset({"time_ns", "observed_ns"})
# Enumerated values an investigator types in any case (`action:export`); ids stay exact.
CASE_INSENSITIVE_COLUMNS = frozenset(
    {"kind", "action", "outcome", "severity", "resource_type", "integrity"}
)
# The schema stores these as lower-case hex, so an upper-case id pasted from elsewhere still finds.
HEX_ID_COLUMNS = frozenset({"trace_id", "span_id", "parent_span_id"})
SUBSTRING_COLUMNS = frozenset({"body"})
DURATION_COLUMNS = frozenset({"duration_ns"})
TEXT_SEARCH_COLUMN = "body"
ATTRIBUTES_COLUMN = "attributes"
ATTRIBUTE_PREFIX = ATTRIBUTES_COLUMN + "."

ALIASES: dict[str, str] = {
    "time": "time_ns",
    "observed": "observed_ns",
    "duration": "duration_ns",
    "actor": "actor_id",
    "user": "actor_id",
    "ip": "source_ip",
    "trace": "trace_id",
    "span": "span_id",
    "session": "session_id",
    "conversation": "conversation_id",
    "call": "conversation_id",
    "level": "severity",
    "message": "body",
}


def _field_info() -> dict[str, FieldInfo]:
    kinds = {"BIGINT": FieldKind.INTEGER, "VARCHAR": FieldKind.TEXT, "JSON": FieldKind.JSON}
    info: dict[str, FieldInfo] = {}
    for field in FIELDS:
        kind = kinds.get(field.sql)
        if not field.filterable or kind is None:
            continue
        if field.name in TIME_COLUMNS:
            kind = FieldKind.TIME
        info[field.name] = FieldInfo(
            column=field.name,
            kind=kind,
            fold_case=field.name in CASE_INSENSITIVE_COLUMNS,
            lower_value=field.name in HEX_ID_COLUMNS,
            substring=field.name in SUBSTRING_COLUMNS,
            units=field.name in DURATION_COLUMNS,
        )
    return info


#: The whitelist: the only columns a compiled filter ever names.
FIELD_INFO: dict[str, FieldInfo] = _field_info()


# --- the AST ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the events table (a key of :data:`FIELD_INFO`)."""

    name: str


@dataclass(frozen=True, slots=True)
class Attribute:
    """One key of the flat ``attributes`` JSON object, such as ``tenant.id``."""

    key: str


Target = Column | Attribute


@dataclass(frozen=True, slots=True)
class MatchAll:
    """Every row (the empty query, or a bare ``*``)."""


@dataclass(frozen=True, slots=True)
class And:
    """All children hold."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """At least one child holds."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The child does not hold (including rows where its field is missing)."""

    child: Node


@dataclass(frozen=True, slots=True)
class Match:
    """The target equals ``value`` (case-insensitively on case-folding columns)."""

    target: Target
    value: str | int


@dataclass(frozen=True, slots=True)
class Wildcard:
    """The whole target matches ``pattern``, a ``LIKE`` pattern escaped with backslashes."""

    target: Target
    pattern: str


@dataclass(frozen=True, slots=True)
class TextSearch:
    """The body matches ``pattern`` case-insensitively (``ILIKE``, backslash escape)."""

    pattern: str


@dataclass(frozen=True, slots=True)
class Exists:
    """The target is present: not NULL and, for text, not empty."""

    target: Target


@dataclass(frozen=True, slots=True)
class Between:
    """The target lies between the bounds; ``None`` is an open end.

    Bounds are ``int`` on time (Unix ns) and integer columns, ``str`` on text (lexical order) and
    ``str`` or ``float`` on attributes (``float``: the attribute is compared as a number).
    """

    target: Target
    low: int | float | str | None
    high: int | float | str | None
    include_low: bool = True
    include_high: bool = True


Node = MatchAll | And | Or | Not | Match | Wildcard | TextSearch | Exists | Between


# --- values -------------------------------------------------------------------------------------

_TIME = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[Tt ](?P<h>[0-9]{2})(?::(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?)?"
    r"(?P<tz>[Zz]|(?P<sign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?)?"
)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DURATION = re.compile(r"(?P<n>[0-9]+(?:\.[0-9]+)?)(?P<unit>ns|us|µs|μs|ms|s|m|h)")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_NS_PER_DAY = 86_400 * 10**9


def parse_time(text: str, start: int, end: int, tz: tzinfo | None = None) -> tuple[int, int]:
    """Read an ISO-8601 date or time as ``(Unix nanoseconds, length of the period it names)``.

    ``2026-03-01`` is that day's midnight UTC and names a day, ``2026-03-01T10:15`` names a minute,
    ``...T10:15:00.000000001`` a nanosecond. Without an offset the time is UTC, or wall-clock time
    in ``tz`` when given (the earlier of a repeated hour; a day spans 23 or 25 hours at a
    daylight-saving change).

    Raises:
        QuerySyntaxError: at ``start``-``end`` if it is not such a time or not representable.
    """
    m = _TIME.fullmatch(text)
    if m is None:
        raise QuerySyntaxError(
            start,
            end,
            f"'{text}' is not an ISO-8601 date or time "
            "(like 2026-03-01, 2026-03-01T10:15 or 2026-03-01T10:15:30.5+02:00)",
        )
    fraction = m["f"] or ""
    hour, minute, second = (int(m[g] or 0) for g in ("h", "mi", "s"))
    try:
        day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
    except ValueError as e:
        raise QuerySyntaxError(start, end, f"'{text}' is not a valid date: {e}") from e
    offset = 0
    if m["sign"]:
        offset_hours, offset_minutes = int(m["oh"]), int(m["om"] or 0)
        if offset_hours > 23 or offset_minutes > 59:
            raise QuerySyntaxError(start, end, f"'{text}' has an invalid UTC offset")
        offset = (offset_hours * 60 + offset_minutes) * 60 * (-1 if m["sign"] == "-" else 1)
    if hour > 23 or minute > 59 or second > 59:
        raise QuerySyntaxError(start, end, f"'{text}' is not a valid time of day")
    seconds = (day.toordinal() - _EPOCH_ORDINAL) * 86_400 + hour * 3600 + minute * 60 + second
    if fraction:
        period = 10 ** (9 - len(fraction))
    elif m["s"]:
        period = 10**9
    elif m["mi"]:
        period = 60 * 10**9
    elif m["h"]:
        period = 3600 * 10**9
    else:
        period = _NS_PER_DAY
    if not m["sign"] and tz is not None:
        wall = datetime(day.year, day.month, day.day, hour, minute, second)
        offset = _utc_offset(tz, wall)
        if period >= 3600 * 10**9:  # the period's end may lie across a change of offset
            after = _utc_offset(tz, wall + timedelta(microseconds=period // 1000))
            period += (offset - after) * 10**9
    nanos = (seconds - offset) * 10**9 + int(fraction.ljust(9, "0"))
    if not INT64_MIN <= nanos <= INT64_MAX - period:
        raise QuerySyntaxError(
            start,
            end,
            f"'{text}' is outside the range of nanosecond timestamps (years 1677 to 2262)",
        )
    return nanos, period


def _utc_offset(tz: tzinfo, wall: datetime) -> int:
    """Seconds east of UTC of wall-clock time ``wall`` in ``tz``."""
    delta = tz.utcoffset(wall.replace(tzinfo=tz))
    return 0 if delta is None else int(delta.total_seconds())


def parse_integer(text: str, start: int, end: int, *, units: bool = False) -> int:
    """Read a BIGINT value; with ``units``, also a duration like ``250ms`` or ``1.5s`` (in ns).

    Raises:
        QuerySyntaxError: at ``start``-``end`` if it is not such a value or overflows BIGINT.
    """
    if _INTEGER.fullmatch(text):
        value = int(text)
    elif units and (m := _DURATION.fullmatch(text)):
        exact = Decimal(m["n"]) * _UNIT_NS[m["unit"]]
        if exact != exact.to_integral_value():
            raise QuerySyntaxError(start, end, f"'{text}' is not a whole number of nanoseconds")
        value = int(exact)
    else:
        expected = "an integer or a duration like 250ms, 1.5s, 2m" if units else "an integer"
        raise QuerySyntaxError(start, end, f"'{text}' is not {expected}")
    if not INT64_MIN <= value <= INT64_MAX:
        raise QuerySyntaxError(start, end, f"'{text}' does not fit in a 64-bit integer")
    return value


def like_escape(text: str) -> str:
    """``text`` as a ``LIKE`` pattern that matches exactly it (escape character backslash)."""
    return "".join("\\" + c if c in "%_\\" else c for c in text)


def _like_pattern(token: Token) -> tuple[str, bool]:
    """The token's value as a ``LIKE`` pattern and whether it has any wildcard."""
    parts: list[str] = []
    wild = False
    for char, literal in zip(token.text, token.literal, strict=True):
        if not literal and char in "*?":
            parts.append("%" if char == "*" else "_")
            wild = True
        else:
            parts.append(like_escape(char))
    return "".join(parts), wild


def _only_stars(token: Token) -> bool:
    return bool(token.text) and all(
        c == "*" and not lit for c, lit in zip(token.text, token.literal, strict=True)
    )


def _has_wildcard(token: Token) -> bool:
    return any(c in "*?" and not lit for c, lit in zip(token.text, token.literal, strict=True))


# --- the parser ---------------------------------------------------------------------------------

_COMPARE_BOUNDS = {">": (True, False), ">=": (True, True), "<": (False, False), "<=": (False, True)}


def parse(text: str, *, tz: tzinfo | None = None) -> Node:
    """Parse a filter query into its AST; the empty query is :class:`MatchAll`.

    ``tz`` is the zone of times written without an offset (UTC when None).

    Raises:
        QuerySyntaxError: with the span of the offending text.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(
            MAX_QUERY_LENGTH,
            len(text),
            f"the query is longer than {MAX_QUERY_LENGTH} characters",
        )
    return _Parser(tokenize(text), tz).query()


class _Parser:
    def __init__(self, tokens: list[Token], tz: tzinfo | None = None) -> None:
        self.tokens = tokens
        self.pos = 0
        self.tz = tz

    # token access

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.type is not TokenType.EOF:
            self.pos += 1
        return token

    def ends_operand(self, token: Token) -> bool:
        """Whether ``token`` cannot start the operand an operator needs."""
        return token.type in (TokenType.EOF, TokenType.RPAREN) or token.is_keyword("AND", "OR")

    # grammar rules, one method each

    def query(self) -> Node:
        if self.peek().type is TokenType.EOF:
            return MatchAll()
        node = self.or_expr(None, 0)
        token = self.peek()
        if token.type is TokenType.RPAREN:
            raise QuerySyntaxError(token.start, token.end, "unbalanced ')': no '(' opens it")
        if token.type is not TokenType.EOF:  # pragma: no cover - or_expr stops only at ) or EOF
            raise QuerySyntaxError(token.start, token.end, f"unexpected {token.describe()}")
        return node

    def or_expr(self, default: Target | None, depth: int) -> Node:
        children = [self.and_expr(default, depth)]
        while self.peek().is_keyword("OR"):
            op = self.advance()
            if self.ends_operand(self.peek()):
                raise QuerySyntaxError(op.start, op.end, "OR needs a term on its right")
            children.append(self.and_expr(default, depth))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, default: Target | None, depth: int) -> Node:
        children = [self.not_expr(default, depth)]
        while True:
            token = self.peek()
            if token.is_keyword("AND"):
                self.advance()
                if self.ends_operand(self.peek()):
                    raise QuerySyntaxError(token.start, token.end, "AND needs a term on its right")
            elif self.ends_operand(token):
                break
            # else: two terms side by side, an implicit AND
            children.append(self.not_expr(default, depth))
        return children[0] if len(children) == 1 else And(tuple(children))

    def not_expr(self, default: Target | None, depth: int) -> Node:
        token = self.peek()
        if token.is_keyword("NOT"):
            self.advance()
            if self.ends_operand(self.peek()):
                raise QuerySyntaxError(token.start, token.end, "NOT needs a term after it")
            self.check_depth(token, depth)
            return Not(self.not_expr(default, depth + 1))
        return self.primary(default, depth)

    def primary(self, default: Target | None, depth: int) -> Node:
        token = self.peek()
        match token.type:
            case TokenType.LPAREN:
                return self.group(default, depth)
            case TokenType.RPAREN:
                raise QuerySyntaxError(token.start, token.end, "unbalanced ')': no '(' opens it")
            case TokenType.LBRACKET | TokenType.LBRACE:
                if default is None:
                    raise QuerySyntaxError(
                        token.start, token.end, "a range needs a field: field:[low TO high]"
                    )
                return self.range(default)
            case TokenType.COMPARE:
                if default is None:
                    raise QuerySyntaxError(
                        token.start,
                        token.end,
                        f"'{token.text}' needs a field: field:{token.text}value",
                    )
                return self.compare(default)
            case TokenType.RBRACKET | TokenType.RBRACE:
                raise QuerySyntaxError(token.start, token.end, f"'{token.text}' closes no range")
            case TokenType.PHRASE:
                self.advance()
                return self.value(default, token)
            case TokenType.WORD:
                return self.word(default, depth)
            case _:  # pragma: no cover - EOF is excluded by the callers
                raise QuerySyntaxError(token.start, token.end, f"unexpected {token.describe()}")

    def word(self, default: Target | None, depth: int) -> Node:
        token = self.peek()
        if token.is_keyword("AND", "OR"):
            raise QuerySyntaxError(token.start, token.end, f"{token.text} needs a term on its left")
        if token.text[0] in "-+" and not token.literal[0]:
            return self.prefixed(default, depth)
        colon = next(
            (
                i
                for i, (c, lit) in enumerate(zip(token.text, token.literal, strict=True))
                if c == ":" and not lit
            ),
            None,
        )
        if colon is None:
            self.advance()
            if self.peek().type is TokenType.COMPARE:  # KQL style: `duration_ns >= 1000`
                return self.compare(self.field(token.text, token.start, token.end))
            return self.value(default, token)
        if colon == 0:
            raise QuerySyntaxError(
                token.start, token.start + 1, "a field name is missing before ':'"
            )
        target = self.field(token.text[:colon], token.start, token.offsets[colon])
        self.advance()
        if colon + 1 < len(token.text):
            return self.value(target, token.tail(colon + 1))
        following = self.peek()
        match following.type:
            case TokenType.LPAREN:
                return self.group(target, depth)
            case TokenType.LBRACKET | TokenType.LBRACE:
                return self.range(target)
            case TokenType.COMPARE:
                return self.compare(target)
            case TokenType.PHRASE:
                self.advance()
                return self.value(target, following)
            case TokenType.WORD if not following.is_keyword("AND", "OR", "NOT"):
                self.advance()
                return self.value(target, following)
            case _:
                name = token.text[:colon]
                raise QuerySyntaxError(
                    token.start, token.end, f"the field '{name}' needs a value after ':'"
                )

    def prefixed(self, default: Target | None, depth: int) -> Node:
        """``-term`` (NOT) and ``+term`` (required, which default AND already means)."""
        token = self.peek()
        self.check_depth(token, depth)
        if len(token.text) > 1:
            # Re-read the rest of the word as the operand, e.g. `-actor_id:x` or `-actor_id:`
            # followed by a group.
            self.tokens[self.pos] = token.tail(1)
        else:
            following = self.tokens[self.pos + 1]
            if following.start != token.end or self.ends_operand(following):
                raise QuerySyntaxError(
                    token.start, token.end, f"'{token.text}' needs a term right after it"
                )
            self.advance()
        operand = self.not_expr(default, depth + 1)
        return Not(operand) if token.text[0] == "-" else operand

    def group(self, default: Target | None, depth: int) -> Node:
        opening = self.advance()
        self.check_depth(opening, depth)
        if self.peek().type is TokenType.RPAREN:
            closing = self.peek()
            raise QuerySyntaxError(opening.start, closing.end, "empty parentheses")
        node = self.or_expr(default, depth + 1)
        if self.peek().type is not TokenType.RPAREN:
            raise QuerySyntaxError(opening.start, opening.end, "unbalanced '(': no ')' closes it")
        self.advance()
        return node

    def range(self, target: Target) -> Node:
        opening = self.advance()
        low = self.bound(opening, "lower")
        to = self.peek()
        self.check_open(opening, to)
        if not to.is_keyword("TO"):
            raise QuerySyntaxError(
                to.start, to.end, f"expected TO in the range, found {to.describe()}"
            )
        self.advance()
        high = self.bound(opening, "upper")
        closing = self.peek()
        self.check_open(opening, closing)
        if closing.type not in (TokenType.RBRACKET, TokenType.RBRACE):
            raise QuerySyntaxError(
                closing.start,
                closing.end,
                f"expected ']' or '}}' to close the range, found {closing.describe()}",
            )
        self.advance()
        if low is None and high is None:
            return Exists(target)
        low_value, high_value = self.bounds(target, low, high)
        if _above(low_value, high_value):
            raise QuerySyntaxError(
                opening.start, closing.end, "the range's lower bound is above its upper bound"
            )
        return Between(
            target,
            low_value,
            high_value,
            include_low=opening.type is TokenType.LBRACKET,
            include_high=closing.type is TokenType.RBRACKET,
        )

    def check_open(self, opening: Token, token: Token) -> None:
        """A range that meets the end of the query is unclosed: underline it from its bracket."""
        if token.type is TokenType.EOF:
            raise QuerySyntaxError(
                opening.start, token.start, "the range is not closed with ']' or '}'"
            )

    def bound(self, opening: Token, which: str) -> Token | None:
        token = self.peek()
        self.check_open(opening, token)
        if token.type not in (TokenType.WORD, TokenType.PHRASE) or token.is_keyword("TO"):
            raise QuerySyntaxError(
                token.start,
                token.end,
                f"the range's {which} bound is missing (use * for an open end)",
            )
        self.advance()
        if token.type is TokenType.WORD and token.text == "*" and not token.literal[0]:
            return None
        if _has_wildcard(token):
            raise QuerySyntaxError(
                token.start, token.end, "wildcards are not allowed in a range bound"
            )
        return token

    def compare(self, target: Target) -> Node:
        op = self.advance()
        token = self.peek()
        if token.type not in (TokenType.WORD, TokenType.PHRASE) or token.is_keyword(
            "AND", "OR", "NOT"
        ):
            raise QuerySyntaxError(op.start, op.end, f"'{op.text}' needs a value after it")
        self.advance()
        if _has_wildcard(token):
            raise QuerySyntaxError(
                token.start, token.end, "wildcards are not allowed in a comparison"
            )
        is_low, inclusive = _COMPARE_BOUNDS[op.text]
        if is_low:
            value, _ = self.bounds(target, token, None)
            return Between(target, value, None, include_low=inclusive)
        _, value = self.bounds(target, None, token)
        return Between(target, None, value, include_high=inclusive)

    def bounds(
        self, target: Target, low: Token | None, high: Token | None
    ) -> tuple[int | float | str | None, int | float | str | None]:
        """Convert range bounds for the target's field."""
        present = [t for t in (low, high) if t is not None]
        if isinstance(target, Attribute):
            # Attributes are numbers or text; compare as numbers when every bound is one, so that
            # `attributes.http.status_code:>=500` does not put "60" above "500".
            if all(_NUMBER.fullmatch(t.text) for t in present):
                return (
                    None if low is None else float(low.text),
                    None if high is None else float(high.text),
                )
            return (None if low is None else low.text, None if high is None else high.text)
        info = FIELD_INFO[target.name]
        if info.kind is FieldKind.JSON:
            bad = present[0]
            raise QuerySyntaxError(
                bad.start, bad.end, "name an attribute to compare: attributes.KEY:[low TO high]"
            )

        def convert(token: Token | None) -> int | str | None:
            if token is None:
                return None
            if info.kind is FieldKind.TIME:
                return parse_time(token.text, token.start, token.end, self.tz)[0]
            if info.kind is FieldKind.INTEGER:
                return parse_integer(token.text, token.start, token.end, units=info.units)
            return token.text.lower() if info.lower_value or info.fold_case else token.text

        return convert(low), convert(high)

    def value(self, target: Target | None, token: Token) -> Node:
        """A single value for ``target``, or a text search when there is no field."""
        pattern, wild = _like_pattern(token)
        if target is None:
            if _only_stars(token):
                return MatchAll()
            return TextSearch(f"%{pattern}%")
        if _only_stars(token):
            return Exists(target)
        if isinstance(target, Attribute):
            return Wildcard(target, pattern) if wild else Match(target, token.text)
        info = FIELD_INFO[target.name]
        if info.kind is FieldKind.JSON:
            raise QuerySyntaxError(
                token.start,
                token.end,
                "name an attribute to match: attributes.KEY:value (attributes:* means any)",
            )
        if info.kind in (FieldKind.TIME, FieldKind.INTEGER) and wild:
            raise QuerySyntaxError(
                token.start, token.end, f"wildcards are not allowed on the {info.kind.value} field"
            )
        if info.kind is FieldKind.TIME:
            # A time on its own names a period: `time:2026-03-01` is that whole day.
            nanos, period = parse_time(token.text, token.start, token.end, self.tz)
            return Between(target, nanos, nanos + period, include_high=False)
        if info.kind is FieldKind.INTEGER:
            return Match(
                target, parse_integer(token.text, token.start, token.end, units=info.units)
            )
        if info.substring:
            return TextSearch(f"%{pattern}%")
        if info.lower_value:
            pattern, text = pattern.lower(), token.text.lower()
        else:
            text = token.text
        return Wildcard(target, pattern) if wild else Match(target, text)

    def field(self, name: str, start: int, end: int) -> Target:
        """Resolve a field name as typed (aliases, ``attributes.KEY``) against the whitelist."""
        folded = name.lower()
        if folded.startswith(ATTRIBUTE_PREFIX):
            key = name[len(ATTRIBUTE_PREFIX) :]
            if not key:
                raise QuerySyntaxError(
                    start, end, "the attribute key is missing after 'attributes.'"
                )
            return Attribute(key)
        column = ALIASES.get(folded, folded)
        if column in FIELD_INFO:
            return Column(column)
        if any(f.name == column for f in FIELDS):
            raise QuerySyntaxError(start, end, f"the field '{name}' cannot be used in a filter")
        raise QuerySyntaxError(start, end, _unknown_field_message(name))

    def check_depth(self, token: Token, depth: int) -> None:
        if depth >= MAX_DEPTH:
            raise QuerySyntaxError(
                token.start, token.end, f"the query is nested deeper than {MAX_DEPTH} levels"
            )


def _above(low: int | float | str | None, high: int | float | str | None) -> bool:
    """Whether a range's lower bound lies above its upper bound (bounds of one field agree)."""
    if low is None or high is None:
        return False
    if isinstance(low, str) or isinstance(high, str):
        return isinstance(low, str) and isinstance(high, str) and low > high
    return low > high


def _unknown_field_message(name: str) -> str:
    folded = name.lower()
    head, dot, _ = folded.partition(".")
    if dot and difflib.get_close_matches(head, [ATTRIBUTES_COLUMN], n=1, cutoff=0.6):
        suggestion = ATTRIBUTE_PREFIX + name.partition(".")[2]
    else:
        candidates = sorted({*FIELD_INFO, *ALIASES})
        close = difflib.get_close_matches(folded, candidates, n=1, cutoff=0.6)
        suggestion = close[0] if close else ""
    if suggestion:
        return f"unknown field '{name}'; did you mean '{suggestion}'?"
    return f"unknown field '{name}' (put text that contains ':' in quotes to search for it)"
