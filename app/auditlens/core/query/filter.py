r"""The filter language of the event table: Lucene/KQL-style text -> AST -> parameterised SQL.

Investigators know OpenSearch Dashboards, so the language follows Lucene's query syntax::

    actor_id:alice AND action:(EXPORT OR DELETE) AND NOT outcome:success
    time:[2026-03-01T00:00 TO 2026-03-02} duration:>250ms -severity:debug "access denied"

Grammar (``|`` alternatives, ``[]`` optional, ``*`` repetition; tokens are separated by white
space, which is otherwise insignificant)::

    query      := [or_expr]                              empty query: every row
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := not_expr (["AND"] not_expr)*           side by side: implicit AND
    not_expr   := "NOT" not_expr | ("-" | "+") not_expr | primary      "-"/"+" touch the operand
    primary    := "(" or_expr ")"
                | FIELD ":" value_expr
                | FIELD CMP value                        KQL style: duration_ns >= 1000
                | value                                  free text, or in a field's group: a value
    value_expr := value | CMP value | range | "(" or_expr ")"     the group's values get FIELD
    range      := ("[" | "{") bound "TO" bound ("]" | "}")         [ ] inclusive, { } exclusive
    bound      := value | "*"                            * is an open end
    CMP        := ">" | ">=" | "<" | "<="
    value      := WORD | PHRASE
    WORD       := run of characters other than white space and ( ) [ ] { } < > "
                  a backslash makes the next character literal (\: \* \( \  ...)
    PHRASE     := '"' characters, with \" and \\ escapes '"'      never a wildcard
    FIELD      := a field name or alias, or attributes.KEY      WORD up to its first bare ':'

Precedence is NOT > AND > OR. ``AND``, ``OR``, ``NOT`` and ``TO`` are operators only in upper
case, bare (``and`` or ``"AND"`` are words to search for). A value keeps its colons
(``ip:2001:db8::1``, ``time:>=2026-03-01T10:00``).

Meaning:

* ``field:value`` is an exact match. Ids and other text compare case-sensitively; the enumerated
  fields ``kind``, ``action``, ``outcome``, ``severity``, ``resource_type`` and ``integrity``
  compare case-insensitively (``action:export``); ``trace_id``, ``span_id`` and
  ``parent_span_id`` are stored as lower-case hex, so the value is lower-cased.
* In a WORD, ``*`` (any run) and ``?`` (one character) are wildcards matching the whole value;
  ``field:*`` means the field is present (not NULL, not empty); ``[* TO *]`` means the same.
* Free text (a value without a field) and any value of ``body`` (alias ``message``) is a
  case-insensitive substring search in ``body``; wildcards work inside it. A bare ``*`` is every
  row.
* ``time`` (``time_ns``) and ``observed`` (``observed_ns``) take ISO-8601 dates and times, UTC
  unless an offset is given, with up to nine fractional digits: ``2026-03-01``,
  ``2026-03-01T10``, ``2026-03-01T10:15``, ``2026-03-01T10:15:30.000000001+02:00``. In a range or
  comparison a time is the instant it names (a bare date is its midnight); on its own,
  ``time:2026-03-01`` means the whole period it names (that day; ``time:2026-03-01T10:15`` that
  minute).
* ``seq``, ``line`` and ``duration_ns`` take integers; ``duration_ns`` (alias ``duration``) also
  takes ``ns``, ``us``, ``ms``, ``s``, ``m``, ``h`` units (``duration:>1.5s``).
* Ranges on text fields are lexical (code point order).
* ``attributes.KEY:value`` matches the value of the key ``KEY`` of the flat attributes object
  (``attributes.tenant.id`` looks up the key ``"tenant.id"``), compared as text, exactly and
  case-sensitively; ranges compare as numbers when every bound is a number, else as text.
  ``attributes:*`` means the row has any attributes.
* ``NOT x`` also matches rows where x's field is missing, as in Lucene.
* Field names are case-insensitive; attribute keys are not. Aliases: ``time``, ``observed``,
  ``duration``, ``actor``/``user`` (``actor_id``), ``ip`` (``source_ip``), ``trace``, ``span``,
  ``session``, ``conversation``/``call`` (``conversation_id``), ``level`` (``severity``),
  ``message`` (``body``).

Errors are :class:`~auditlens.core.errors.QuerySyntaxError` with the span to underline.
"""

from __future__ import annotations

from datetime import tzinfo

from auditlens.core.query.compile import compile_filter
from auditlens.core.query.parser import parse

__all__ = ["compile_filter", "filter_sql", "parse"]


def filter_sql(text: str, *, tz: tzinfo | None = None) -> tuple[str, list[object]]:
    """Parse and compile a filter query in one step.

    ``tz`` is the zone of times written without an offset (UTC when None): the zone the
    workbench shows times in, so that a time copied from the table selects what it shows.

    Returns:
        A boolean SQL expression over the events table and the values for its ``?`` placeholders.

    Raises:
        QuerySyntaxError: if the query is not valid, with the span to underline.
    """
    return compile_filter(parse(text, tz=tz))
