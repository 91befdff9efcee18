"""Near variants of a query that finds nothing (issue 12: a zero must not hide a typo).

When a query matches no event, :func:`suggest` tries the variants the parser marked as likely
meant (its :class:`~auditlens.core.query.parser.Hint`) on the case and returns those that find
events: ``actor_id=SUP-004`` ignoring case, ``user alice`` as ``user:alice``, a value the case
holds in another spelling (``action:DOWNLAOD`` -> ``action:DOWNLOAD``), an attribute key it holds
(``attributes.tenantid`` -> ``attributes.tenantId``). The filter bar and the CLI show them; the
query itself is never changed behind the investigator's back.

Cost: only run when a query found nothing. Each variant is one count over the case (the same
time window), at most :data:`MAX_TRIES` of them, plus one ``DISTINCT`` over a column per value
hint and one sample of attribute keys per key hint.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import tzinfo

from auditlens.core.errors import QuerySyntaxError
from auditlens.core.query.parser import FIELD_INFO, FieldKind, Hint, HintKind, analyse
from auditlens.core.query.quoting import value_text
from auditlens.core.store import queries
from auditlens.core.store.case import Case

MAX_TRIES = 8  # counts run for one query: each is a scan of the case
MAX_SUGGESTIONS = 3
# Columns with more distinct values than this are ids (spans, resources): a near spelling of one
# is no evidence that it was meant.
MAX_DISTINCT = 2_000
# Events sampled for attribute keys: keys repeat across events of one source.
KEY_SAMPLE = 20_000
_CUTOFF = 0.75  # difflib ratio for "close": one or two letters off in a short word


@dataclass(frozen=True)
class Suggestion:
    """A variant of the query that finds events.

    Attributes:
        query: the variant, as it would be typed.
        matches: how many events it finds (in the same time window).
        reason: what the variant changes, for a person.
    """

    query: str
    matches: int
    reason: str

    def message(self) -> str:
        """One line for a person: ``did you mean ...? (12 events: ignoring case)``."""
        return f"did you mean {self.query}? ({self.matches:,} events: {self.reason})"


def suggest(
    case: Case,
    text: str,
    *,
    tz: tzinfo | None = None,
    time_from_ns: int | None = None,
    time_to_ns: int | None = None,
) -> list[Suggestion]:
    """Variants of ``text`` that find events in ``case``, best first (at most three).

    Call it when ``text`` found nothing. A query that does not parse has no variants here (its
    :class:`~auditlens.core.errors.QuerySyntaxError` says what is wrong).

    Args:
        case: the open case.
        text: the filter as typed.
        tz: the zone of times without an offset, as for the query itself.
        time_from_ns: the view's lower time bound (inclusive), if any.
        time_to_ns: the view's upper time bound (exclusive), if any.
    """
    try:
        _, hints = analyse(text, tz)
    except QuerySyntaxError:
        return []
    found: list[Suggestion] = []
    tried: set[str] = {text}
    for variant, reason in _variants(case, text, hints):
        if len(tried) > MAX_TRIES or len(found) >= MAX_SUGGESTIONS:
            break
        if variant in tried:
            continue
        tried.add(variant)
        query = queries.EventQuery(variant, time_from_ns, time_to_ns, tz)
        try:
            matches = queries.count_events(case, query)
        except QuerySyntaxError:
            continue
        if matches:
            found.append(Suggestion(variant, matches, reason))
    return found


def _replace(text: str, hint: Hint, replacement: str) -> str:
    return text[: hint.start] + replacement + text[hint.end :]


def _variants(case: Case, text: str, hints: tuple[Hint, ...]) -> list[tuple[str, str]]:
    """Candidate variants in the order worth trying: syntax first, then spellings."""
    variants: list[tuple[str, str]] = []
    for hint in hints:
        if hint.kind is HintKind.CASE:
            variants.append((_replace(text, hint, ":"), "ignoring case"))
        elif hint.kind is HintKind.FIELD:
            variants.append((_replace(text, hint, ":"), "a field and its value"))
    for hint in hints:
        if hint.kind is HintKind.VALUE:
            for value in _close_values(case, hint):
                variants.append((_replace(text, hint, value_text(value)), "a value the case holds"))
        elif hint.kind is HintKind.KEY:
            for key in _close_keys(case, hint.text):
                variants.append((_replace(text, hint, key), "an attribute key the case holds"))
    return variants


def _close_values(case: Case, hint: Hint) -> list[str]:
    """Values of the hint's column close to the typed one (another case, a letter off)."""
    info = FIELD_INFO.get(hint.column)
    if info is None or info.kind is not FieldKind.TEXT or info.substring:
        return []
    rows = case.db.execute(
        f'SELECT DISTINCT "{info.column}" FROM events '  # noqa: S608 - a whitelisted column
        f'WHERE "{info.column}" IS NOT NULL LIMIT ?',
        [MAX_DISTINCT + 1],
    ).fetchall()
    if len(rows) > MAX_DISTINCT:
        return []
    values = [str(v) for (v,) in rows]
    typed = hint.text
    same = [v for v in values if v.lower() == typed.lower() and v != typed]
    by_lower = {v.lower(): v for v in values}
    close = difflib.get_close_matches(typed.lower(), list(by_lower), n=2, cutoff=_CUTOFF)
    return same + [by_lower[c] for c in close if by_lower[c] not in same]


def _close_keys(case: Case, typed: str) -> list[str]:
    """Attribute keys (top-level, or one level into an object) close to the typed key."""
    rows = case.db.execute(
        "SELECT DISTINCT k FROM (SELECT unnest(json_keys(attributes)) AS k FROM "
        "(SELECT attributes FROM events WHERE attributes IS NOT NULL LIMIT ?))",
        [KEY_SAMPLE],
    ).fetchall()
    keys = [str(k) for (k,) in rows]
    if typed in keys:
        return []
    head, dot, rest = typed.partition(".")
    found = [k for k in keys if k.lower() == typed.lower()]
    by_lower = {k.lower(): k for k in keys}
    found += [
        by_lower[c]
        for c in difflib.get_close_matches(typed.lower(), list(by_lower), n=2, cutoff=_CUTOFF)
    ]
    if dot and head not in keys:
        # `updated_date.roles`: the object's name misspelt, the path kept.
        found += [
            by_lower[c] + "." + rest
            for c in difflib.get_close_matches(head.lower(), list(by_lower), n=2, cutoff=_CUTOFF)
        ]
    unique = list(dict.fromkeys(k for k in found if k != typed))
    return [_escape_key(k) for k in unique]


def _escape_key(key: str) -> str:
    """A key as it must be typed after ``attributes.``: characters of the syntax escaped."""
    return "".join("\\" + c if c.isspace() or c in '()[]{}<>"\\:=*?' else c for c in key)
