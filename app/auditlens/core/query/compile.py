"""Compile a filter AST into a DuckDB boolean expression with bound parameters.

Invariants of the SQL it returns:

* every value the user typed (including attribute keys, as JSON paths, and regular expressions)
  is a ``?`` parameter; the SQL text holds only column names from
  :data:`~auditlens.core.query.parser.FIELD_INFO` (double-quoted), fixed keywords, fixed
  constants and the names of the lambdas' own variables;
* parameters appear in the list in the order of their ``?`` in the text;
* a row whose field is missing (NULL) fails a positive test and passes its negation: ``NOT x``
  compiles to ``(x) IS NOT TRUE``, as Lucene's ``NOT`` also matches documents without the field.
  Positive tests stay plain comparisons so DuckDB can still push them into the scan (zone maps
  on ``time_ns``).

Matching ignores case unless the node is ``exact``. Columns whose values AuditLens writes in
lower case (``FieldInfo.stored_lower``) are compared plainly with the lower-cased value, which
DuckDB evaluates in the scan; other text columns compare ``lower(column)`` (measured in
``bench/bench_filter.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from auditlens.core.query.parser import (
    ATTRIBUTES_COLUMN,
    FIELD_INFO,
    TEXT_SEARCH_COLUMN,
    And,
    Attribute,
    Between,
    Column,
    Exists,
    FieldKind,
    InNetwork,
    Match,
    MatchAll,
    Node,
    Not,
    Or,
    Regex,
    Target,
    TextSearch,
    Wildcard,
)
from auditlens.core.query.values import Network

# The escape character the parser's LIKE patterns use; a fixed constant, never user text.
_ESCAPE = "ESCAPE '\\'"
# A dotted attribute key is looked up as every split into nested member names (flat first);
# 2^(parts-1) paths, so past this many parts only the flat key and the fully nested path.
MAX_SPLIT_PARTS = 6

# Valid IPv6 text without an embedded IPv4 part (RFC 4291 section 2.2 forms 1 and 2), lower case.
_IPV6 = (
    "([0-9a-f]{1,4}:){7}[0-9a-f]{1,4}"
    "|([0-9a-f]{1,4}:){1,7}:"
    "|([0-9a-f]{1,4}:){1,6}:[0-9a-f]{1,4}"
    "|([0-9a-f]{1,4}:){1,5}(:[0-9a-f]{1,4}){1,2}"
    "|([0-9a-f]{1,4}:){1,4}(:[0-9a-f]{1,4}){1,3}"
    "|([0-9a-f]{1,4}:){1,3}(:[0-9a-f]{1,4}){1,4}"
    "|([0-9a-f]{1,4}:){1,2}(:[0-9a-f]{1,4}){1,5}"
    "|[0-9a-f]{1,4}:(:[0-9a-f]{1,4}){1,6}"
    "|:((:[0-9a-f]{1,4}){1,7}|:)"
)
_IPV4 = "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}"


def compile_filter(node: Node) -> tuple[str, list[object]]:
    """Compile an AST from :func:`~auditlens.core.query.parser.parse` into SQL.

    Returns:
        A boolean SQL expression over the events table's columns, for a ``WHERE`` clause, and
        the values to bind to its ``?`` placeholders, in order.
    """
    params: list[object] = []
    return _compile(node, params), params


def _compile(node: Node, params: list[object]) -> str:
    match node:
        case MatchAll():
            return "TRUE"
        case And(children):
            return "(" + " AND ".join(_compile(c, params) for c in children) + ")"
        case Or(children):
            return "(" + " OR ".join(_compile(c, params) for c in children) + ")"
        case Not(child):
            return f"(({_compile(child, params)}) IS NOT TRUE)"
        case TextSearch(pattern, exact):
            params.append(pattern)
            return f"{_quote(TEXT_SEARCH_COLUMN)} {'LIKE' if exact else 'ILIKE'} ? {_ESCAPE}"
        case Exists(target):
            return _exists(target, params)
        case Between():
            return _between(node, params)
        case Match(Column(name), int() as value):
            params.append(value)
            return f"{_quote(name)} = ?"
        case Match(target, str() as value, exact):
            stored_lower = _stored_lower(target)
            return _on(
                target,
                params,
                lambda x, p: _equals(x, value, exact, stored_lower, p),
                _text_prefilter([value], exact),
            )
        case Wildcard(target, pattern, exact):
            stored_lower = _stored_lower(target)
            return _on(
                target,
                params,
                lambda x, p: _like(x, pattern, exact, stored_lower, p),
                _text_prefilter(_like_literals(pattern), exact),
            )
        case Regex(target, pattern, exact):
            return _on(target, params, lambda x, p: _regex(x, pattern, exact, p))
        case InNetwork(target, network):
            return _on(target, params, lambda x, p: _in_network(x, network, p))
    raise AssertionError(f"not a filter node: {node!r}")  # pragma: no cover


def _quote(column: str) -> str:
    # Only whitelisted names reach SQL; quoting keeps names like `file` or `name` unambiguous.
    if column not in FIELD_INFO:  # pragma: no cover - the parser resolves every field
        raise AssertionError(f"column {column!r} is not a filterable field")
    return f'"{column}"'


def _stored_lower(target: Target) -> bool:
    return isinstance(target, Column) and FIELD_INFO[target.name].stored_lower


# A test of one SQL value: given the value's SQL, it appends its parameters and returns its SQL.
_Test = Callable[[str, list[object]], str]


def _on(target: Target, params: list[object], test: _Test, prefilter: str | None = None) -> str:
    """``test`` applied to a column, or to any value of an attribute (the lambda's ``item``).

    For an attribute, a cheap necessary condition on the attributes' JSON text comes first
    (``prefilter``, a regex the value's text must match, else the key's last part): DuckDB then
    parses the JSON of the rows that pass it only (see :func:`_text_prefilter`).
    """
    if isinstance(target, Column):
        return test(_quote(target.name), params)
    text = f"CAST({_quote(ATTRIBUTES_COLUMN)} AS VARCHAR)"
    cheap = ""
    if prefilter is not None:
        params.append(prefilter)
        cheap = f"regexp_matches({text}, ?) AND "
    elif _json_safe(last := target.key.rsplit(".", 1)[-1]) and last:
        params.append(last + '"')  # the key ends a quoted member name, flat or nested
        cheap = f"contains({text}, ?) AND "
    values = _attribute_values(target.key, params)  # its parameters come next in the text
    return f"({cheap}len(list_filter({values}, lambda item: {test('item', params)})) > 0)"


def _json_safe(text: str) -> bool:
    r"""Whether ``text`` appears unchanged in the stored attributes' JSON.

    The normalizer writes attributes with msgspec, which escapes only ``"``, ``\\`` and control
    characters; non-ASCII is left out too, should a JSON writer escape it as ``\\uXXXX``.
    """
    return all(" " <= c <= "~" and c not in '"\\' for c in text)


def _like_literals(pattern: str) -> list[str]:
    """The literal runs of a ``LIKE`` pattern (backslash escape), between its wildcards."""
    parts, current, i = [], [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            current.append(pattern[i + 1])
            i += 2
            continue
        if c in "%_":
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return [p for p in parts if p]


def _text_prefilter(literals: list[str], exact: bool) -> str | None:
    """An RE2 pattern the attributes' JSON text matches if an attribute value has ``literals``.

    The literals appear in the value in that order, so in the JSON text as well when each is
    written unescaped there (:func:`_json_safe`); ``None`` when that is not certain.
    """
    if not literals or not all(_json_safe(p) for p in literals):
        return None
    escaped = ["".join(c if c.isalnum() else f"\\x{{{ord(c):02x}}}" for c in p) for p in literals]
    return ("" if exact else "(?i)") + ".*".join(escaped)


def _equals(value: str, typed: str, exact: bool, stored_lower: bool, params: list[object]) -> str:
    if exact:
        params.append(typed)
        return f"{value} = ?"
    params.append(typed.lower())
    return f"{value} = ?" if stored_lower else f"lower({value}) = ?"


def _like(value: str, pattern: str, exact: bool, stored_lower: bool, params: list[object]) -> str:
    if exact:
        params.append(pattern)
        return f"{value} LIKE ? {_ESCAPE}"
    if stored_lower:
        params.append(pattern.lower())
        return f"{value} LIKE ? {_ESCAPE}"
    params.append(pattern)
    return f"{value} ILIKE ? {_ESCAPE}"


def _regex(value: str, pattern: str, exact: bool, params: list[object]) -> str:
    # RE2 searches anywhere in the value (`^...$` anchors it); 'i' ignores case. Both option
    # strings are fixed constants.
    params.append(pattern)
    return f"regexp_matches({value}, ?)" if exact else f"regexp_matches({value}, ?, 'i')"


def _in_network(value: str, network: Network, params: list[object]) -> str:
    """The address in ``value`` lies in ``network``: its sortable key is in the block's range.

    The key is the one :func:`~auditlens.core.query.values.address_key` makes: IPv4 as three-digit
    octets, IPv6 as eight four-digit groups, built only from text that is such an address
    (anything else, an IPv6 address with an embedded IPv4 part too, is no address: NULL).
    """
    params.extend((network.low, network.high))
    if network.version == 4:
        key = (
            f"CASE WHEN regexp_full_match({value}, '{_IPV4}') THEN array_to_string("
            f"list_transform(string_split({value}, '.'), lambda o: lpad(o, 3, '0')), '.') END"
        )
        return f"({key}) BETWEEN ? AND ?"
    text = f"lower(split_part({value}, '%', 1))"  # without a zone: fe80::1%eth0
    present = f"len(list_filter(string_split({text}, ':'), lambda g: g <> ''))"
    filled = f"replace({text}, '::', ':' || repeat('0:', 8 - {present}))"
    groups = f"list_filter(string_split({filled}, ':'), lambda g: g <> '')"
    key = (
        f"CASE WHEN regexp_full_match({text}, '{_IPV6}') THEN array_to_string("
        f"list_transform({groups}, lambda g: lpad(g, 4, '0')), ':') END"
    )
    return f"({key}) BETWEEN ? AND ?"


def _json_paths(key: str) -> list[str]:
    """The JSON paths a dotted attribute key may name, the flat key first.

    ``tenant.id`` is looked up as the key ``"tenant.id"`` (OTLP attributes are flat), then as
    ``tenant`` -> ``id`` (the audit logger's ``updated_data`` is a nested object). Member names
    are quoted; inside them a backslash and a double quote are escaped with a backslash.
    """
    parts = key.split(".")
    if len(parts) > MAX_SPLIT_PARTS:
        splits = [[key], parts]
    else:
        splits = []
        for mask in range(2 ** (len(parts) - 1)):
            members, current = [], parts[0]
            for i, part in enumerate(parts[1:]):
                if mask >> i & 1:
                    members.append(current)
                    current = part
                else:
                    current += "." + part
            members.append(current)
            splits.append(members)
        splits.sort(key=len)
    return [
        "$" + "".join('."' + m.replace("\\", "\\\\").replace('"', '\\"') + '"' for m in members)
        for members in splits
    ]


def _attribute_values(key: str, params: list[object]) -> str:
    """SQL for the attribute's values as a list of text: its value, or a list's elements.

    The first path of :func:`_json_paths` present in the row wins, so a flat key hides a nested
    object of the same dotted name. A JSON ``null`` is no value.
    """
    paths = _json_paths(key)
    column = _quote(ATTRIBUTES_COLUMN)
    if len(paths) == 1:
        params.append(paths[0])
        found = f"json_extract({column}, ?)"
    else:
        params.append(paths)
        found = (
            f"list_filter(json_extract({column}, ?::VARCHAR[]), "
            "lambda j: j IS NOT NULL AND json_type(j) <> 'NULL')[1]"
        )
    # A one-element list names the value once (a `let`): DuckDB has no other way in an expression.
    return (
        f"list_transform([{found}], lambda v: CASE WHEN json_type(v) = 'ARRAY' "
        "THEN json_extract_string(v, '$[*]') ELSE [json_extract_string(v, '$')] END)[1]"
    )


def _exists(target: Target, params: list[object]) -> str:
    if isinstance(target, Attribute):
        return _on(target, params, lambda x, _: f"{x} <> ''")
    column = _quote(target.name)
    kind = FIELD_INFO[target.name].kind
    if kind is FieldKind.JSON:
        return f"CAST({column} AS VARCHAR) NOT IN ('', '{{}}', 'null')"
    if kind is FieldKind.TEXT:
        return f"{column} <> ''"  # NULL <> '' is NULL: absent, as intended
    return f"{column} IS NOT NULL"


def _between(node: Between, params: list[object]) -> str:
    target = node.target
    bounds = [
        (bound, op)
        for bound, op in (
            (node.low, ">=" if node.include_low else ">"),
            (node.high, "<=" if node.include_high else "<"),
        )
        if bound is not None
    ]
    numeric = any(isinstance(bound, float) for bound, _ in bounds)
    text = any(isinstance(bound, str) for bound, _ in bounds)
    fold = text and not node.exact and not _stored_lower(target)

    def test(value: str, params: list[object]) -> str:
        if numeric:
            value = f"TRY_CAST({value} AS DOUBLE)"
        elif fold:
            value = f"lower({value})"
        tests = []
        for bound, op in bounds:
            params.append(bound.lower() if isinstance(bound, str) and not node.exact else bound)
            tests.append(f"{value} {op} ?")
        return "(" + " AND ".join(tests) + ")"

    return _on(target, params, test)
