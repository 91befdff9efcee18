"""The filter language: parser -> AST -> parameterised SQL (see :mod:`.filter` for the grammar)."""

from auditlens.core.errors import QuerySyntaxError
from auditlens.core.query.compile import compile_filter
from auditlens.core.query.filter import filter_sql
from auditlens.core.query.parser import (
    And,
    Attribute,
    Between,
    Column,
    Exists,
    InNetwork,
    Match,
    MatchAll,
    Node,
    Not,
    Or,
    Regex,
    TextSearch,
    Wildcard,
    parse,
)
from auditlens.core.query.quoting import phrase, record_filter, value_text

__all__ = [
    "And",
    "Attribute",
    "Between",
    "Column",
    "Exists",
    "InNetwork",
    "Match",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "QuerySyntaxError",
    "Regex",
    "TextSearch",
    "Wildcard",
    "compile_filter",
    "filter_sql",
    "parse",
    "phrase",
    "record_filter",
    "value_text",
]
