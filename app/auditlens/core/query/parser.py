"""Parse a filter query into an AST (the grammar is in :mod:`auditlens.core.query.filter`).

A hand-written recursive-descent parser over :mod:`~auditlens.core.query.lexer` tokens: no
dependency, and every error carries the exact character span to underline.

Invariants of the AST it returns:

* every field has been resolved against the schema's whitelist (:data:`FIELD_INFO`); a node names
  a column only through :class:`Column`, whose name is a key of :data:`FIELD_INFO`;
* every value has been checked and converted for its field: times are Unix nanoseconds, integers
  fit in BIGINT, lower bounds are not above upper bounds, regular expressions are valid RE2 of
  bounded length, so compiling never fails on user input;
* text values are kept as typed (hex ids lower-cased); whether they compare ignoring case is the
  node's ``exact`` flag, applied by the compiler;
* wildcard values are stored as SQL ``LIKE`` patterns whose escape character is a backslash.

The parser is bounded: queries longer than :data:`MAX_QUERY_LENGTH` or nested deeper than
:data:`MAX_DEPTH` are rejected with a :class:`QuerySyntaxError`, never a ``RecursionError``.

No silent traps (issue 12): a word that is meant as syntax but would be searched for as text is
an error naming what was probably meant, when that is near certain (``a ADN b``,
``actor_id sup-004``), or a :class:`Hint` that :func:`~auditlens.core.store.suggest.suggest`
tries on the case when the query finds nothing (``user alice``, ``actor_id=SUP-004``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import tzinfo
from enum import Enum

from auditlens.core.errors import QuerySyntaxError
from auditlens.core.query.lexer import SEPARATORS, Token, TokenType, tokenize
from auditlens.core.query.values import (
    INT64_MAX,
    INT64_MIN,
    NUMBER,
    Network,
    check_regex,
    parse_integer,
    parse_network,
    parse_time,
)
from auditlens.core.schema import FIELDS

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "parse_integer",
    "parse_time",
]

# A filter bar is typed or pasted by a person; 64 KiB holds a pasted list of a few thousand ids
# while bounding the parse time and the SQL text handed to DuckDB.
MAX_QUERY_LENGTH = 65_536
# Parentheses and NOT chains recurse in the parser and the compiler; 100 levels is far beyond any
# hand-written query and far below Python's recursion limit.
MAX_DEPTH = 100


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
    stored_lower: bool = False  # AuditLens stores its values in lower case: compare them plainly
    lower_value: bool = False  # the column holds lower-case hex: lower-case the value typed
    substring: bool = False  # values are case-insensitive substring searches (free text)
    units: bool = False  # integer values may carry a duration unit (ns, us, ms, s, m, h)
    address: bool = False  # values are network addresses: `field:198.51.100.0/24` is a block


TIME_COLUMNS = frozenset({"time_ns", "observed_ns"})
# Values AuditLens itself writes in lower case (the kind, the verdict), so a case-insensitive
# match needs no lower() on the column: DuckDB can then compare in the scan (zone maps,
# dictionary) as for any constant (measured in bench/bench_filter.py).
LOWER_CASE_COLUMNS = frozenset({"kind", "integrity"})
# The schema stores these as lower-case hex, so an upper-case id pasted from elsewhere still finds.
HEX_ID_COLUMNS = frozenset({"trace_id", "span_id", "parent_span_id"})
SUBSTRING_COLUMNS = frozenset({"body"})
DURATION_COLUMNS = frozenset({"duration_ns"})
ADDRESS_COLUMNS = frozenset({"source_ip"})
TEXT_SEARCH_COLUMN = "body"
ATTRIBUTES_COLUMN = "attributes"
ATTRIBUTE_PREFIX = ATTRIBUTES_COLUMN + "."
# Attribute keys whose values are addresses, so that a block matches by containment:
# `client.address`, `net.peer.ip`, `source_ip_address`, `host.addr`.
_ADDRESS_KEY = re.compile(r"(?:(?:^|[._-])ip|addr(?:ess)?)$", re.IGNORECASE)

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
            stored_lower=field.name in LOWER_CASE_COLUMNS | HEX_ID_COLUMNS,
            lower_value=field.name in HEX_ID_COLUMNS,
            substring=field.name in SUBSTRING_COLUMNS,
            units=field.name in DURATION_COLUMNS,
            address=field.name in ADDRESS_COLUMNS,
        )
    return info


#: The whitelist: the only columns a compiled filter ever names.
FIELD_INFO: dict[str, FieldInfo] = _field_info()


def is_address_key(key: str) -> bool:
    """Whether the attribute ``key`` names an address (its last part: ``ip``, ``address``...)."""
    return bool(_ADDRESS_KEY.search(key.rsplit(".", 1)[-1]))


# --- the AST ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the events table (a key of :data:`FIELD_INFO`)."""

    name: str


@dataclass(frozen=True, slots=True)
class Attribute:
    """A key of the ``attributes`` JSON object: ``tenant.id``, or a path ``updated_data.roles``.

    The compiler looks the dotted key up as one flat key first (OTLP's ``tenant.id``), then as a
    path into nested objects (the audit logger's ``updated_data`` object).
    """

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
    """The target equals ``value``; ignoring case unless ``exact`` (``field=value``)."""

    target: Target
    value: str | int
    exact: bool = False


@dataclass(frozen=True, slots=True)
class Wildcard:
    """The whole target matches ``pattern``, a ``LIKE`` pattern escaped with backslashes."""

    target: Target
    pattern: str
    exact: bool = False


@dataclass(frozen=True, slots=True)
class TextSearch:
    """The body matches ``pattern`` (``LIKE``, backslash escape); ignoring case unless exact."""

    pattern: str
    exact: bool = False


@dataclass(frozen=True, slots=True)
class Regex:
    """The target contains a match of the RE2 ``pattern``; ignoring case unless ``exact``."""

    target: Target
    pattern: str
    exact: bool = False


@dataclass(frozen=True, slots=True)
class InNetwork:
    """The target is an address inside the block ``network`` (``source_ip:10.0.0.0/8``)."""

    target: Target
    network: Network


@dataclass(frozen=True, slots=True)
class Exists:
    """The target is present: not NULL and, for text, not empty."""

    target: Target


@dataclass(frozen=True, slots=True)
class Between:
    """The target lies between the bounds; ``None`` is an open end.

    Bounds are ``int`` on time (Unix ns) and integer columns, ``str`` on text (code point order,
    ignoring case unless ``exact``) and ``str`` or ``float`` on attributes (``float``: the
    attribute is compared as a number).
    """

    target: Target
    low: int | float | str | None
    high: int | float | str | None
    include_low: bool = True
    include_high: bool = True
    exact: bool = False


Node = (
    MatchAll | And | Or | Not | Match | Wildcard | TextSearch | Regex | InNetwork | Exists | Between
)


class HintKind(Enum):
    """What a :class:`Hint` proposes."""

    CASE = "case"  # `field=value`: the same ignoring case (`field:value`)
    FIELD = "field"  # `user alice`: a field name and a value as two words (`user:alice`)
    VALUE = "value"  # a value of a text column: the case's values close to it
    KEY = "key"  # an attribute key: the case's keys close to it


@dataclass(frozen=True, slots=True)
class Hint:
    """A place in the query where a near variant may be what was meant.

    Attributes:
        kind: what the variant changes.
        start: offset of the text to replace.
        end: offset just past it.
        text: the replacement (``CASE``, ``FIELD``) or the text as typed (``VALUE``, ``KEY``).
        column: for ``VALUE``, the column the value is compared with.
    """

    kind: HintKind
    start: int
    end: int
    text: str
    column: str = ""


# --- values -------------------------------------------------------------------------------------


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


def _separator(token: Token) -> int | None:
    """The index of the word's first bare ``:`` or ``=``, if any."""
    return next(
        (
            i
            for i, (c, lit) in enumerate(zip(token.text, token.literal, strict=True))
            if c in SEPARATORS and not lit
        ),
        None,
    )


def _slips() -> dict[str, str]:
    """Words that are an operator mistyped: two letters swapped, one doubled, one dropped.

    Only these slips, not every word one edit away: `FOR`, `NOTE` or `AND`'s `AN` are words a
    person searches for. `&&` and `||` are the operators of other query languages.
    """
    slips: dict[str, str] = {"&&": "AND", "||": "OR", "&": "AND", "|": "OR"}
    for op in ("AND", "OR", "NOT"):
        variants: set[str] = set()
        for i in range(len(op)):
            variants.add(op[:i] + op[i] + op[i:])  # a doubled letter
            if len(op) > 2:
                variants.add(op[:i] + op[i + 1 :])  # a dropped letter
            if i + 1 < len(op):
                variants.add(op[:i] + op[i + 1] + op[i] + op[i + 2 :])  # two letters swapped
        for variant in variants - {op, "AN", "AD", "NO"}:
            slips[variant] = op
    return slips


_SLIPS = _slips()


# --- the parser ---------------------------------------------------------------------------------

_COMPARE_BOUNDS = {">": (True, False), ">=": (True, True), "<": (False, False), "<=": (False, True)}


def parse(text: str, tz: tzinfo | None = None) -> Node:
    """Parse a filter query into its AST; the empty query is :class:`MatchAll`.

    Args:
        text: the query as typed.
        tz: the zone of times typed without an offset (``time:2026-03-01T10:00``); UTC if None.

    Raises:
        QuerySyntaxError: with the span of the offending text.
    """
    return analyse(text, tz)[0]


def analyse(text: str, tz: tzinfo | None = None) -> tuple[Node, tuple[Hint, ...]]:
    """Parse a query and collect the :class:`Hint` of near variants worth trying on a case.

    Raises:
        QuerySyntaxError: with the span of the offending text.
    """
    if len(text) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(
            MAX_QUERY_LENGTH,
            len(text),
            f"the query is longer than {MAX_QUERY_LENGTH} characters",
        )
    parser = _Parser(text, tokenize(text), tz)
    return parser.query(), tuple(parser.hints)


@dataclass(frozen=True, slots=True)
class _Field:
    """The field a value is for (``field:`` or ``field=``, and its group's values)."""

    target: Target
    exact: bool = False


class _Parser:
    def __init__(self, text: str, tokens: list[Token], tz: tzinfo | None) -> None:
        self.text = text
        self.tokens = tokens
        self.tz = tz
        self.pos = 0
        self.hints: list[Hint] = []

    # token access

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.type is not TokenType.EOF:
            self.pos += 1
        return token

    def ends_operand(self, token: Token) -> bool:
        """Whether ``token`` cannot start the operand an operator needs."""
        return token.type in (TokenType.EOF, TokenType.RPAREN) or token.is_keyword("AND", "OR")

    def source(self, token: Token) -> str:
        """The token as typed."""
        return self.text[token.start : token.end]

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

    def or_expr(self, ctx: _Field | None, depth: int) -> Node:
        children = [self.and_expr(ctx, depth)]
        while self.peek().is_keyword("OR"):
            op = self.advance()
            if self.ends_operand(self.peek()):
                raise QuerySyntaxError(op.start, op.end, "OR needs a term on its right")
            children.append(self.and_expr(ctx, depth))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, ctx: _Field | None, depth: int) -> Node:
        children = [self.not_expr(ctx, depth)]
        while True:
            token = self.peek()
            if token.is_keyword("AND"):
                self.advance()
                if self.ends_operand(self.peek()):
                    raise QuerySyntaxError(token.start, token.end, "AND needs a term on its right")
            elif self.ends_operand(token):
                break
            else:  # two terms side by side, an implicit AND
                self.check_slip(token)
            children.append(self.not_expr(ctx, depth))
        return children[0] if len(children) == 1 else And(tuple(children))

    def check_slip(self, token: Token) -> None:
        """A mistyped operator between two terms (``a ADN b``) is an error, not a search."""
        if token.type is not TokenType.WORD or any(token.literal):
            return
        meant = _SLIPS.get(token.text.upper())
        if meant is None or self.ends_operand(self.peek(1)):
            return
        raise QuerySyntaxError(
            token.start,
            token.end,
            f"'{token.text}' between two terms looks like a mistyped {meant}: write {meant}, "
            f'or put it in quotes ("{token.text}") to search for it',
        )

    def not_expr(self, ctx: _Field | None, depth: int) -> Node:
        token = self.peek()
        if token.is_keyword("NOT"):
            self.advance()
            if self.ends_operand(self.peek()):
                raise QuerySyntaxError(token.start, token.end, "NOT needs a term after it")
            self.check_depth(token, depth)
            return Not(self.not_expr(ctx, depth + 1))
        return self.primary(ctx, depth)

    def primary(self, ctx: _Field | None, depth: int) -> Node:
        token = self.peek()
        match token.type:
            case TokenType.LPAREN:
                return self.group(ctx, depth)
            case TokenType.RPAREN:
                raise QuerySyntaxError(token.start, token.end, "unbalanced ')': no '(' opens it")
            case TokenType.LBRACKET | TokenType.LBRACE:
                if ctx is None:
                    raise QuerySyntaxError(
                        token.start, token.end, "a range needs a field: field:[low TO high]"
                    )
                return self.range(ctx)
            case TokenType.COMPARE:
                if ctx is None:
                    raise QuerySyntaxError(
                        token.start,
                        token.end,
                        f"'{token.text}' needs a field: field:{token.text}value",
                    )
                return self.compare(ctx)
            case TokenType.RBRACKET | TokenType.RBRACE:
                raise QuerySyntaxError(token.start, token.end, f"'{token.text}' closes no range")
            case TokenType.PHRASE | TokenType.REGEX:
                self.advance()
                return self.value(ctx, token)
            case TokenType.WORD:
                return self.word(ctx, depth)
            case _:  # pragma: no cover - EOF is excluded by the callers
                raise QuerySyntaxError(token.start, token.end, f"unexpected {token.describe()}")

    def word(self, ctx: _Field | None, depth: int) -> Node:
        token = self.peek()
        if token.is_keyword("AND", "OR"):
            raise QuerySyntaxError(
                token.start,
                token.end,
                f"{token.text.upper()} needs a term on its left "
                f'(to search for the word, put it in quotes: "{token.text}")',
            )
        if token.text[0] in "-+" and not token.literal[0]:
            return self.prefixed(ctx, depth)
        sep = _separator(token)
        if sep is not None and token.text[sep] == "=" and not self.names_field(token, sep):
            sep = None  # `status=500`, `abc==`: text to search for
        if sep is None:
            self.advance()
            if self.peek().type is TokenType.COMPARE:  # KQL style: `duration_ns >= 1000`
                return self.compare(_Field(self.field(token.text, token.start, token.end)))
            if ctx is None:
                self.check_field_word(token)
            return self.value(ctx, token)
        if sep == 0:
            raise QuerySyntaxError(
                token.start, token.start + 1, f"a field name is missing before '{token.text[0]}'"
            )
        exact = token.text[sep] == "="
        target = self.field(token.text[:sep], token.start, token.offsets[sep])
        if exact:
            at = token.offsets[sep]
            self.hints.append(Hint(HintKind.CASE, at, at + 1, ":"))
        field = _Field(target, exact)
        self.advance()
        if sep + 1 < len(token.text):
            return self.value(field, token.tail(sep + 1))
        following = self.peek()
        match following.type:
            case TokenType.LPAREN:
                return self.group(field, depth)
            case TokenType.LBRACKET | TokenType.LBRACE:
                return self.range(field)
            case TokenType.COMPARE:
                return self.compare(field)
            case TokenType.PHRASE | TokenType.REGEX:
                self.advance()
                return self.value(field, following)
            case TokenType.WORD if not following.is_keyword("AND", "OR", "NOT"):
                self.advance()
                return self.value(field, following)
            case _:
                name = token.text[:sep]
                raise QuerySyntaxError(
                    token.start,
                    token.end,
                    f"the field '{name}' needs a value after '{token.text[sep]}'",
                )

    def names_field(self, token: Token, sep: int) -> bool:
        """Whether the text before ``field=`` is a field (else the word is text to search).

        A name close to a field's (``actr_id=x``) is an error suggesting it, as for ``:``.
        """
        name = token.text[:sep]
        if not name:
            return False
        folded = name.lower()
        if folded.startswith(ATTRIBUTE_PREFIX) or ALIASES.get(folded, folded) in FIELD_INFO:
            return True
        if any(f.name == folded for f in FIELDS) or _closest_field(name, cutoff=0.75):
            self.field(name, token.start, token.offsets[sep])  # raises, with the suggestion
        return False

    def check_field_word(self, token: Token) -> None:
        """A field name written as a word before a value (``actor_id sup-004``).

        A name no one searches for as text (one with ``_``, or ``attributes.KEY``) is an error
        that shows the colon; a name that is also a common word (``user``, ``call``) is only a
        hint for :func:`~auditlens.core.store.suggest.suggest`.
        """
        if any(token.literal):
            return
        name = token.text
        folded = name.lower()
        is_attribute = folded.startswith(ATTRIBUTE_PREFIX) and len(folded) > len(ATTRIBUTE_PREFIX)
        if not is_attribute and ALIASES.get(folded, folded) not in FIELD_INFO:
            return
        following = self.peek()
        separator = ":"
        if (
            following.type is TokenType.WORD
            and following.text in ("=", "==", ":")
            and not any(following.literal)
        ):
            separator = "=" if following.text.startswith("=") else ":"
            following = self.peek(1)
        if following.type not in (
            TokenType.WORD,
            TokenType.PHRASE,
            TokenType.REGEX,
        ) or following.is_keyword("AND", "OR", "NOT"):
            return
        if "_" in folded or is_attribute or following is not self.peek():
            meant = f"{name}{separator}{self.source(following)}"
            raise QuerySyntaxError(
                token.start,
                following.end,
                f"'{name}' is a field: did you mean {meant}? "
                "(put the words in quotes to search for them)",
            )
        self.hints.append(Hint(HintKind.FIELD, token.end, following.start, ":"))

    def prefixed(self, ctx: _Field | None, depth: int) -> Node:
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
        operand = self.not_expr(ctx, depth + 1)
        return Not(operand) if token.text[0] == "-" else operand

    def group(self, ctx: _Field | None, depth: int) -> Node:
        opening = self.advance()
        self.check_depth(opening, depth)
        if self.peek().type is TokenType.RPAREN:
            closing = self.peek()
            raise QuerySyntaxError(opening.start, closing.end, "empty parentheses")
        node = self.or_expr(ctx, depth + 1)
        if self.peek().type is not TokenType.RPAREN:
            raise QuerySyntaxError(opening.start, opening.end, "unbalanced '(': no ')' closes it")
        self.advance()
        return node

    def range(self, field: _Field) -> Node:
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
            return Exists(field.target)
        low_value, high_value = self.bounds(field, low, high)
        if _above(low_value, high_value, field.exact):
            raise QuerySyntaxError(
                opening.start, closing.end, "the range's lower bound is above its upper bound"
            )
        return Between(
            field.target,
            low_value,
            high_value,
            include_low=opening.type is TokenType.LBRACKET,
            include_high=closing.type is TokenType.RBRACKET,
            exact=field.exact,
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

    def compare(self, field: _Field) -> Node:
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
            value, _ = self.bounds(field, token, None)
            return Between(field.target, value, None, include_low=inclusive, exact=field.exact)
        _, value = self.bounds(field, None, token)
        return Between(field.target, None, value, include_high=inclusive, exact=field.exact)

    def bounds(
        self, field: _Field, low: Token | None, high: Token | None
    ) -> tuple[int | float | str | None, int | float | str | None]:
        """Convert range bounds for the target's field."""
        target = field.target
        present = [t for t in (low, high) if t is not None]
        if isinstance(target, Attribute):
            # Attributes are numbers or text; compare as numbers when every bound is one, so that
            # `attributes.http.status_code:>=500` does not put "60" above "500".
            if all(NUMBER.fullmatch(t.text) for t in present):
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
            return token.text.lower() if info.lower_value else token.text

        return convert(low), convert(high)

    def value(self, ctx: _Field | None, token: Token) -> Node:
        """A single value for the field, or a text search when there is no field."""
        if token.type is TokenType.REGEX:
            return self.regex(ctx, token)
        pattern, wild = _like_pattern(token)
        if ctx is None:
            if _only_stars(token):
                return MatchAll()
            return TextSearch(f"%{pattern}%")
        target, exact = ctx.target, ctx.exact
        if _only_stars(token):
            return Exists(target)
        network = parse_network(token.text) if token.type is TokenType.WORD else None
        if isinstance(target, Attribute):
            if network is not None and is_address_key(target.key):
                return InNetwork(target, network)
            return Wildcard(target, pattern, exact) if wild else Match(target, token.text, exact)
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
            return TextSearch(f"%{pattern}%", exact)
        if info.address and network is not None:
            return InNetwork(target, network)
        if info.lower_value:
            pattern, text = pattern.lower(), token.text.lower()
        else:
            text = token.text
            if not wild:
                self.hints.append(Hint(HintKind.VALUE, token.start, token.end, text, target.name))
        return Wildcard(target, pattern, exact) if wild else Match(target, text, exact)

    def regex(self, ctx: _Field | None, token: Token) -> Node:
        """``/pattern/``: in the body, or in the field's text."""
        check_regex(token.text, token.start, token.end)
        if ctx is None:
            return Regex(Column(TEXT_SEARCH_COLUMN), token.text)
        if isinstance(ctx.target, Column):
            info = FIELD_INFO[ctx.target.name]
            if info.kind is FieldKind.JSON:
                raise QuerySyntaxError(
                    token.start, token.end, "name an attribute to match: attributes.KEY:/regex/"
                )
            if info.kind is not FieldKind.TEXT:
                raise QuerySyntaxError(
                    token.start,
                    token.end,
                    f"a regular expression needs a text field, not the {info.kind.value} field",
                )
        return Regex(ctx.target, token.text, ctx.exact)

    def field(self, name: str, start: int, end: int) -> Target:
        """Resolve a field name as typed (aliases, ``attributes.KEY``) against the whitelist."""
        folded = name.lower()
        if folded.startswith(ATTRIBUTE_PREFIX):
            key = name[len(ATTRIBUTE_PREFIX) :]
            if not key:
                raise QuerySyntaxError(
                    start, end, "the attribute key is missing after 'attributes.'"
                )
            self.hints.append(Hint(HintKind.KEY, start + len(ATTRIBUTE_PREFIX), end, key))
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


def _above(low: int | float | str | None, high: int | float | str | None, exact: bool) -> bool:
    """Whether a range's lower bound lies above its upper bound (bounds of one field agree)."""
    if low is None or high is None:
        return False
    if isinstance(low, str) or isinstance(high, str):
        if not (isinstance(low, str) and isinstance(high, str)):
            return False
        return low > high if exact else low.lower() > high.lower()
    return low > high


def _closest_field(name: str, cutoff: float = 0.6) -> str:
    """The field name or alias closest to ``name``, or empty."""
    folded = name.lower()
    head, dot, _ = folded.partition(".")
    if dot and difflib.get_close_matches(head, [ATTRIBUTES_COLUMN], n=1, cutoff=cutoff):
        return ATTRIBUTE_PREFIX + name.partition(".")[2]
    close = difflib.get_close_matches(folded, sorted({*FIELD_INFO, *ALIASES}), n=1, cutoff=cutoff)
    return close[0] if close else ""


def _unknown_field_message(name: str) -> str:
    suggestion = _closest_field(name)
    if suggestion:
        return f"unknown field '{name}'; did you mean '{suggestion}'?"
    return f"unknown field '{name}' (put text that contains ':' in quotes to search for it)"
