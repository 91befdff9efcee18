r"""Values written into a filter: the one place that knows how a value must be typed.

Everything that writes a filter for a person to read and run (a pivot, a finding's events, a
bookmarked record, a suggested spelling, a completion) spells its values here, so a value reads
back as exactly itself (docs/case.md "The filter language"; the grammar is in
:mod:`auditlens.core.query.filter`):

* :func:`phrase` is always a ``PHRASE``: ``"..."`` with ``\"`` and ``\\`` escaped, never a
  wildcard, an operator, an address block or a regular expression;
* :func:`value_text` is the value bare when every place a value may stand (``field:value``,
  ``field: value``, a field's group ``field:(a OR b)``) reads that word as the value itself, and
  its phrase otherwise;
* :func:`record_filter` names one sealed record: its stream exactly (``=``: a stream id is a
  case-sensitive name) and its sequence number.
"""

from __future__ import annotations

from auditlens.core.query.lexer import SEPARATORS
from auditlens.core.query.parser import _SLIPS
from auditlens.core.query.values import parse_network

__all__ = ["phrase", "record_filter", "value_text"]

# A bare word ends at white space and these (the lexer's delimiters), a backslash escapes, ':'
# and '=' split a word of a group into a field and its value, '*' and '?' are wildcards.
_NOT_BARE = frozenset('()[]{}<>"\\*?') | frozenset(SEPARATORS)
# A word starting with '-' or '+' is NOT or a required term in a group, with '/' a /regex/.
_NOT_FIRST = frozenset("-+/")
# The operators in any case (TO in a range), and the mistyped ones the parser refuses between
# two terms (`ADN`, `&&`).
_OPERATORS = frozenset({"AND", "OR", "NOT", "TO"}) | frozenset(_SLIPS)


def phrase(value: str) -> str:
    """``value`` as a quoted phrase: matched as written, whatever its characters."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def value_text(value: str) -> str:
    """``value`` as it is typed after ``field:``: bare when that is unambiguous, else a phrase.

    Bare only when the word is the value in every place: no white space or characters of the
    syntax, no leading ``-``, ``+`` or ``/``, not an operator, and not an address block (a bare
    ``10.0.0.0/8`` after an address field selects every address inside it).
    """
    if (
        value
        and value[0] not in _NOT_FIRST
        and not any(c.isspace() or c in _NOT_BARE for c in value)
        and value.upper() not in _OPERATORS
        and parse_network(value) is None
    ):
        return value
    return phrase(value)


def record_filter(stream_id: str, seq: int) -> str:
    """The filter selecting the record ``seq`` of the stream ``stream_id`` (in every epoch)."""
    return f"stream_id={phrase(stream_id)} AND seq:{seq}"
