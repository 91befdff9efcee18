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
                | FIELD SEP value_expr
                | FIELD CMP value                        KQL style: duration_ns >= 1000
                | value | REGEX                          free text, or in a field's group: a value
    value_expr := value | REGEX | CMP value | range | "(" or_expr ")"   the group's values get FIELD
    range      := ("[" | "{") bound "TO" bound ("]" | "}")         [ ] inclusive, { } exclusive
    bound      := value | "*"                            * is an open end
    SEP        := ":" | "="                              ":" ignores case, "=" is exact
    CMP        := ">" | ">=" | "<" | "<="
    value      := WORD | PHRASE
    WORD       := run of characters other than white space and ( ) [ ] { } < > "
                  a backslash makes the next character literal (\: \* \( \  ...)
    PHRASE     := '"' characters, with \" and \\ escapes '"'      never a wildcard
    REGEX      := "/" RE2 pattern, with \/ for a slash "/"    followed by a space, ")" or the end
    FIELD      := a field name or alias, or attributes.KEY      WORD up to its first bare SEP

Precedence is NOT > AND > OR. ``AND``, ``OR``, ``NOT`` and ``TO`` are operators in any case
(``and``, ``Or``), written bare: ``"and"`` or ``\and`` is a word to search for. A value keeps its
colons (``ip:2001:db8::1``, ``time:>=2026-03-01T10:00``). A word is ``field=value`` only when the
text before ``=`` is a field: ``status=500`` searches the body for that text.

Meaning:

* ``field:value`` is a match ignoring case (``actor_id:SUP-004`` finds ``sup-004``);
  ``field=value`` is an exact, case-sensitive match (``actor_id=sup-004``). ``trace_id``,
  ``span_id`` and ``parent_span_id`` are stored as lower-case hex, so their value is lower-cased
  either way.
* In a WORD, ``*`` (any run) and ``?`` (one character) are wildcards matching the whole value;
  ``field:*`` means the field is present (not NULL, not empty); ``[* TO *]`` means the same.
* ``/pattern/`` is a regular expression (RE2, as DuckDB's ``regexp_matches``; at most
  1,000 characters) searched anywhere in the value (``^`` and ``$`` anchor it), ignoring case
  after ``:``, exactly after ``=``; alone it searches the body. A slash opens one only if a slash
  followed by a space, ``)`` or the end closes it: ``/api/v1/users`` is a word.
* Free text (a value without a field) and any value of ``body`` (alias ``message``) is a
  case-insensitive substring search in ``body`` (``body=`` : case-sensitive); wildcards work
  inside it. A bare ``*`` is every row.
* ``source_ip`` (alias ``ip``) and attribute keys naming an address (last part ``ip``, ``addr``
  or ``address``: ``attributes.client.address``) take an address block: ``ip:198.51.100.0/24``,
  ``ip:2001:db8::/32``, matching any way of writing an address inside it (leading zeros, upper
  case, ``::``, a ``%zone``); IPv6 text with an embedded IPv4 part is not read as an address.
  A single address is compared as text.
* ``time`` (``time_ns``) and ``observed`` (``observed_ns``) take ISO-8601 dates and times with up
  to nine fractional digits: ``2026-03-01``, ``2026-03-01T10``, ``2026-03-01T10:15``,
  ``2026-03-01T10:15:30.000000001+02:00``. A time without an offset is read in the zone given to
  :func:`filter_sql` (the zone the investigator sees times in; UTC by default). In a range or
  comparison a time is the instant it names (a bare date is its midnight); on its own,
  ``time:2026-03-01`` means the whole period it names (that day in that zone, 23 or 25 hours on
  a daylight-saving change; ``time:2026-03-01T10:15`` that minute).
* ``seq``, ``line`` and ``duration_ns`` take integers; ``duration_ns`` (alias ``duration``) also
  takes ``ns``, ``us``, ``ms``, ``s``, ``m``, ``h`` units (``duration:>1.5s``).
* Ranges on text fields are lexical (code point order), of the lower-cased text after ``:``.
* ``attributes.KEY:value`` matches the value of the attribute ``KEY``: first the flat key
  (``attributes.tenant.id`` looks up the key ``"tenant.id"``, as OTLP writes them), else the path
  into nested objects (``attributes.updated_data.roles`` is ``roles`` inside ``updated_data``).
  Values compare as text; a list matches when any element does. Ranges compare as numbers when
  every bound is a number, else as text. ``attributes:*`` means the row has any attributes.
* ``NOT x`` also matches rows where x's field is missing, as in Lucene.
* Field names are case-insensitive; attribute keys are not. Aliases: ``time``, ``observed``,
  ``duration``, ``actor``/``user`` (``actor_id``), ``ip`` (``source_ip``), ``trace``, ``span``,
  ``session``, ``conversation``/``call`` (``conversation_id``), ``level`` (``severity``),
  ``message`` (``body``).

No silent traps: ``a ADN b`` (an operator mistyped between two terms: swapped, doubled or dropped
letters, ``&&``, ``||``) and ``actor_id sup-004`` (a field name with ``_`` or ``attributes.KEY``
written as a word before a value) are errors saying what was probably meant. Field names that are
also common words (``user alice``) are searched as text; when such a query finds nothing,
:func:`~auditlens.core.store.suggest.suggest` offers the variants that would find something.

Errors are :class:`~auditlens.core.errors.QuerySyntaxError` with the span to underline.
"""

from __future__ import annotations

from datetime import tzinfo

from auditlens.core.query.compile import compile_filter
from auditlens.core.query.parser import parse

__all__ = ["compile_filter", "filter_sql", "parse"]


def filter_sql(text: str, tz: tzinfo | None = None) -> tuple[str, list[object]]:
    """Parse and compile a filter query in one step.

    Args:
        text: the query as typed.
        tz: the zone in which times without an offset are read (``time:2026-03-01T10:00``),
            e.g. ``zoneinfo.ZoneInfo("Europe/Berlin")``; ``None`` is UTC. Times with an offset
            (``Z``, ``+02:00``) are read as written.

    Returns:
        A boolean SQL expression over the events table and the values for its ``?`` placeholders.

    Raises:
        QuerySyntaxError: if the query is not valid, with the span to underline.
    """
    return compile_filter(parse(text, tz))
