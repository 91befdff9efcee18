r"""Tokens of the filter language (the grammar is in :mod:`auditlens.core.query.filter`).

Invariants: every token knows its character span in the query (``start``, ``end``, end exclusive)
and, for words and phrases, the decoded text with, per character, whether it was written literally
(backslash-escaped, or inside quotes) and where it came from. The parser needs both: an escaped
``\*`` or ``\:`` is an ordinary character, an unescaped one is a wildcard or a field separator,
and errors must point at the characters as typed.

A regular expression (``/.../``, alone or right after a field's ``:`` or ``=``) is one ``REGEX``
token whose text is the pattern as typed, with ``\/`` read as ``/``. A slash starts one only when
a closing slash follows that ends the token (white space, ``)`` or the end of the query after
it), so a path such as ``/api/v1/users`` stays a word.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from auditlens.core.errors import QuerySyntaxError


class TokenType(Enum):
    """What a token is."""

    WORD = "word"
    PHRASE = "phrase"
    REGEX = "regular expression"
    LPAREN = "("
    RPAREN = ")"
    LBRACKET = "["
    RBRACKET = "]"
    LBRACE = "{"
    RBRACE = "}"
    COMPARE = "comparison"
    EOF = "end of query"


@dataclass(frozen=True, slots=True)
class Token:
    """One token.

    Attributes:
        type: the token's type.
        start: offset of its first character in the query.
        end: offset just past its last character.
        text: decoded text (escapes resolved, quotes removed); the operator for ``COMPARE``.
        literal: per character of ``text``, True if it was escaped or quoted, so it is never a
            wildcard, a field separator or part of a keyword.
        offsets: per character of ``text``, its offset in the query (an escape's backslash).
    """

    type: TokenType
    start: int
    end: int
    text: str = ""
    literal: tuple[bool, ...] = ()
    offsets: tuple[int, ...] = ()

    def is_keyword(self, *words: str) -> bool:
        """Whether this is one of the operator ``words``, written bare (no quotes, no escapes).

        Operators are recognised in any case (``and``, ``Or``): investigators type them in lower
        case, and reading them as words to search for silently changed the question (issue 12).
        ``words`` are given in upper case.
        """
        return (
            self.type is TokenType.WORD
            and len(self.text) <= _LONGEST_KEYWORD
            and self.text.upper() in words
            and not any(self.literal)
        )

    def tail(self, index: int) -> Token:
        """The word made of this word's characters from ``index`` on (which must exist)."""
        return Token(
            TokenType.WORD,
            self.offsets[index],
            self.end,
            self.text[index:],
            self.literal[index:],
            self.offsets[index:],
        )

    def describe(self) -> str:
        """How to name the token in an error message."""
        if self.type is TokenType.EOF:
            return "the end of the query"
        if self.type is TokenType.WORD:
            return f"'{self.text}'"
        if self.type is TokenType.PHRASE:
            return f'"{self.text}"'
        if self.type is TokenType.REGEX:
            return f"/{self.text}/"
        return f"'{self.text or self.type.value}'"


_SINGLE = {
    "(": TokenType.LPAREN,
    ")": TokenType.RPAREN,
    "[": TokenType.LBRACKET,
    "]": TokenType.RBRACKET,
    "{": TokenType.LBRACE,
    "}": TokenType.RBRACE,
}
# Characters that end a bare word. ':' is not among them: a word keeps its colons and the parser
# splits it at the first unescaped one, so `time:>=2026-03-01T10:00` and `ip:2001:db8::1` read as
# one field and one value, as an investigator types them.
_DELIMITERS = frozenset('()[]{}<>"')
# The operators are at most this long; longer words are never compared with them.
_LONGEST_KEYWORD = 3
# Field separators: `field:value` (case-insensitive) and `field=value` (exact).
SEPARATORS = ":="


def tokenize(text: str) -> list[Token]:
    """Split a query into tokens, ending with one ``EOF`` token.

    Raises:
        QuerySyntaxError: for an unterminated quote or a backslash with nothing to escape.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char in _SINGLE:
            tokens.append(Token(_SINGLE[char], i, i + 1, char))
            i += 1
        elif char in "<>":
            op = text[i : i + 2] if text[i + 1 : i + 2] == "=" else char
            tokens.append(Token(TokenType.COMPARE, i, i + len(op), op))
            i += len(op)
        elif char == '"':
            token = _phrase(text, i)
            tokens.append(token)
            i = token.end
        elif char == "/" and (regex := _regex(text, i)) is not None:
            tokens.append(regex)
            i = regex.end
        else:
            token = _word(text, i)
            tokens.append(token)
            i = token.end
    tokens.append(Token(TokenType.EOF, n, n))
    return tokens


def _phrase(text: str, start: int) -> Token:
    chars: list[str] = []
    offsets: list[int] = []
    i, n = start + 1, len(text)
    while i < n and text[i] != '"':
        offsets.append(i)
        if text[i] == "\\" and i + 1 < n:
            chars.append(text[i + 1])
            i += 2
        else:
            chars.append(text[i])
            i += 1
    if i >= n:
        raise QuerySyntaxError(start, n, "unterminated quote: no closing '\"'")
    return Token(
        TokenType.PHRASE, start, i + 1, "".join(chars), (True,) * len(chars), tuple(offsets)
    )


def _regex_end(text: str, start: int) -> int | None:
    """The offset just past the slash closing the regular expression opened at ``start``."""
    i, n = start + 1, len(text)
    while i < n:
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == "/" and i > start + 1:
            after = i + 1
            if after >= n or text[after].isspace() or text[after] == ")":
                return after
        i += 1
    return None


def _regex(text: str, start: int) -> Token | None:
    """The ``/pattern/`` at ``start``, or ``None`` when no slash closes it there."""
    end = _regex_end(text, start)
    if end is None:
        return None
    chars: list[str] = []
    offsets: list[int] = []
    i = start + 1
    while i < end - 1:
        offsets.append(i)
        if text[i] == "\\" and text[i + 1] == "/":
            # `\/` is a slash inside the pattern; every other escape is the regex's own.
            chars.append("/")
            i += 2
        else:
            chars.append(text[i])
            i += 1
    return Token(TokenType.REGEX, start, end, "".join(chars), (True,) * len(chars), tuple(offsets))


def _word(text: str, start: int) -> Token:
    chars: list[str] = []
    literal: list[bool] = []
    offsets: list[int] = []
    i, n = start, len(text)
    separated = False
    while i < n and not text[i].isspace() and text[i] not in _DELIMITERS:
        if not separated and text[i] in SEPARATORS:
            separated = True
            if i + 1 < n and text[i + 1] == "/" and _regex_end(text, i + 1) is not None:
                # `field:/regex/`: the word ends with its separator, the pattern follows.
                offsets.append(i)
                chars.append(text[i])
                literal.append(False)
                i += 1
                break
        offsets.append(i)
        if text[i] == "\\":
            if i + 1 >= n:
                raise QuerySyntaxError(i, i + 1, "a backslash at the end escapes nothing")
            chars.append(text[i + 1])
            literal.append(True)
            i += 2
        else:
            chars.append(text[i])
            literal.append(False)
            i += 1
    return Token(TokenType.WORD, start, i, "".join(chars), tuple(literal), tuple(offsets))
