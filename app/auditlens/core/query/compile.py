"""Compile a filter AST into a DuckDB boolean expression with bound parameters.

Invariants of the SQL it returns:

* every value the user typed (including attribute keys, as JSON paths) is a ``?`` parameter;
  the SQL text holds only column names from :data:`~auditlens.core.query.parser.FIELD_INFO`
  (double-quoted), fixed keywords and fixed constants;
* parameters appear in the list in the order of their ``?`` in the text;
* a row whose field is missing (NULL) fails a positive test and passes its negation: ``NOT x``
  compiles to ``(x) IS NOT TRUE``, as Lucene's ``NOT`` also matches documents without the field.
  Positive tests stay plain comparisons so DuckDB can still push them into the scan (zone maps
  on ``time_ns``).
"""

from __future__ import annotations

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
    Match,
    MatchAll,
    Node,
    Not,
    Or,
    Target,
    TextSearch,
    Wildcard,
)

# The escape character the parser's LIKE patterns use; a fixed constant, never user text.
_ESCAPE = "ESCAPE '\\'"


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
        case Match(target, value):
            column = _target(target, params)
            params.append(value)
            if _folds_case(target):
                return f"lower({column}) = lower(?)"
            return f"{column} = ?"
        case Wildcard(target, pattern):
            column = _target(target, params)
            params.append(pattern)
            like = "ILIKE" if _folds_case(target) else "LIKE"
            return f"{column} {like} ? {_ESCAPE}"
        case TextSearch(pattern):
            params.append(pattern)
            return f"{_quote(TEXT_SEARCH_COLUMN)} ILIKE ? {_ESCAPE}"
        case Exists(target):
            return _exists(target, params)
        case Between():
            return _between(node, params)
    raise AssertionError(f"not a filter node: {node!r}")  # pragma: no cover


def _quote(column: str) -> str:
    # Only whitelisted names reach SQL; quoting keeps names like `file` or `name` unambiguous.
    if column not in FIELD_INFO:  # pragma: no cover - the parser resolves every field
        raise AssertionError(f"column {column!r} is not a filterable field")
    return f'"{column}"'


def _target(target: Target, params: list[object]) -> str:
    """The SQL for the target's value; an attribute's key is bound as a JSON path."""
    if isinstance(target, Column):
        return _quote(target.name)
    params.append(_json_path(target.key))
    return f"json_extract_string({_quote(ATTRIBUTES_COLUMN)}, ?)"


def _json_path(key: str) -> str:
    """The JSON path of one top-level key: ``$."tenant.id"``, not the nested ``$.tenant.id``.

    Attribute keys are flat dotted names, so the whole key is one quoted member name; inside it a
    backslash and a double quote are escaped with a backslash.
    """
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _folds_case(target: Target) -> bool:
    return isinstance(target, Column) and FIELD_INFO[target.name].fold_case


def _exists(target: Target, params: list[object]) -> str:
    column = _target(target, params)
    if isinstance(target, Attribute):
        return f"{column} <> ''"
    kind = FIELD_INFO[target.name].kind
    if kind is FieldKind.JSON:
        return f"CAST({column} AS VARCHAR) NOT IN ('', '{{}}', 'null')"
    if kind is FieldKind.TEXT:
        return f"{column} <> ''"  # NULL <> '' is NULL: absent, as intended
    return f"{column} IS NOT NULL"


def _between(node: Between, params: list[object]) -> str:
    numeric_attribute = isinstance(node.target, Attribute) and isinstance(
        node.low if node.low is not None else node.high, float
    )
    fold = _folds_case(node.target)
    tests: list[str] = []
    for bound, op in (
        (node.low, ">=" if node.include_low else ">"),
        (node.high, "<=" if node.include_high else "<"),
    ):
        if bound is None:
            continue
        column = _target(node.target, params)
        params.append(bound)
        if numeric_attribute:
            tests.append(f"TRY_CAST({column} AS DOUBLE) {op} ?")
        elif fold:
            tests.append(f"lower({column}) {op} lower(?)")
        else:
            tests.append(f"{column} {op} ?")
    return "(" + " AND ".join(tests) + ")"
