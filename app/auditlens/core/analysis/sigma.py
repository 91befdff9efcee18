"""Sigma rules on the normalized event: reading the YAML subset and compiling it to DuckDB SQL.

The subset read, and why AuditLens reads it itself instead of using pySigma, is in
docs/detections.md ("Rule format" and "Why our own Sigma reader"). Invariants:

* A rule file is read with ``yaml.safe_load`` only (no Python object tags), at most
  :data:`MAX_RULE_BYTES`, and every problem is a :class:`RuleError` naming the file and the key.
* Field names are the normalized event's (:data:`auditlens.core.schema.FIELD_NAMES`) or
  ``attributes.KEY`` (a key of the attributes JSON); any other name is refused, so a rule never
  silently matches nothing because of a typo.
* Every value reaches DuckDB as a bound parameter; the SQL text holds only column names from the
  schema and operators (docs/architecture.md, the filter language does the same).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from auditlens.core.errors import InvalidInputError
from auditlens.core.schema import FIELD_NAMES

# A rule is a page of YAML; a bigger file is not a rule (and YAML aliases could inflate it).
MAX_RULE_BYTES = 256 * 1024
# A rule folder an investigator hands over holds tens of rules; thousands is a mistake.
MAX_RULE_FILES = 2_000

LEVELS = ("informational", "low", "medium", "high", "critical")
CORRELATION_TYPES = (
    # Sigma's own (Sigma correlation rules specification).
    "event_count",
    "value_count",
    "temporal_ordered",
    # AuditLens extensions (docs/detections.md, "Extensions").
    "first_seen",
    "off_hours",
    "stream_silence",
    "missing_witness",
)
_MODIFIERS = frozenset(
    {"contains", "startswith", "endswith", "all", "re", "cidr", "exists", "fieldref"}
    | {"gt", "gte", "lt", "lte", "cased"}
)
_NUMERIC = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_TEXT_FIELDS = frozenset(n for n in FIELD_NAMES if n not in {"time_ns", "observed_ns", "seq"})
_INT_FIELDS = frozenset({"time_ns", "observed_ns", "seq", "line", "duration_ns"})
_TIMESPAN = re.compile(r"^(\d+)([smhd])$")
_UNIT_NS = {"s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}


class RuleError(InvalidInputError):
    """The detection rule is not valid."""


@dataclass(frozen=True)
class Correlation:
    """A Sigma correlation (or an AuditLens extension) over the matches of other rules.

    Attributes:
        type: one of :data:`CORRELATION_TYPES`.
        rules: ids or names of the rules whose matches it correlates (in order, for
            ``temporal_ordered``).
        group_by: fields whose values the matches share.
        timespan_ns: the window, nanoseconds (0 where the type takes none).
        condition: comparison operator to threshold (``gte``: 10), and ``field`` for value_count.
        aliases: per alias, the field each rule names it by (Sigma ``aliases``).
        options: the extension's own settings (``x-auditlens`` block).
    """

    type: str
    rules: tuple[str, ...]
    group_by: tuple[str, ...]
    timespan_ns: int
    condition: dict[str, Any]
    aliases: dict[str, dict[str, str]]
    options: dict[str, Any]


@dataclass(frozen=True)
class Rule:
    """One rule file: a detection over events, or a correlation over other rules' matches."""

    id: str
    name: str
    title: str
    level: str
    description: str
    path: str
    detection: dict[str, Any] | None = None
    correlation: Correlation | None = None
    generate: bool = True
    tags: tuple[str, ...] = field(default_factory=tuple)

    def where(self) -> tuple[str, list[Any]]:
        """The detection as a SQL condition on ``events`` with its bound parameters."""
        if self.detection is None:
            raise RuleError("a correlation rule has no detection of its own", path=self.path)
        return compile_detection(self.detection, self.path)


def parse_timespan(text: Any, path: str) -> int:
    """``30s``, ``10m``, ``2h`` or ``7d`` in nanoseconds."""
    match = _TIMESPAN.match(str(text).strip())
    if match is None:
        raise RuleError(f"timespan {text!r} is not a number and s, m, h or d", path=path)
    return int(match.group(1)) * _UNIT_NS[match.group(2)]


def load_rules(folders: list[Path]) -> list[Rule]:
    """Every ``*.yml``/``*.yaml`` rule under the folders, sorted by path; ids must be unique.

    Raises:
        RuleError: a file is not a valid rule, an id repeats, or a correlation names an unknown
            rule.
    """
    paths: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            raise RuleError("not a folder of rules", path=str(folder))
        found = sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml"))
        if not found:
            # A mistyped or empty folder must not run nothing: the run replaces the stored
            # findings, and the report would then say the case has none.
            raise RuleError("no rule files (*.yml, *.yaml) in this folder", path=str(folder))
        paths += found
    if len(paths) > MAX_RULE_FILES:
        raise RuleError(f"{len(paths)} rule files, at most {MAX_RULE_FILES}", path=str(folders[0]))
    rules: list[Rule] = []
    for path in paths:
        rules += read_rule_file(path)
    seen: dict[str, str] = {}
    for rule in rules:
        for key in {rule.id, rule.name} - {""}:
            if key in seen and seen[key] != rule.path:
                raise RuleError(f"rule id or name {key!r} also used in {seen[key]}", path=rule.path)
            seen[key] = rule.path
    for rule in rules:
        if rule.correlation is not None:
            for ref in rule.correlation.rules:
                if ref not in seen:
                    raise RuleError(f"correlation names unknown rule {ref!r}", path=rule.path)
    return rules


def read_rule_file(path: Path) -> list[Rule]:
    """The rules of one file (Sigma allows several YAML documents in one file)."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_RULE_BYTES:
            raise RuleError(f"{size:,} bytes, at most {MAX_RULE_BYTES:,}", path=where)
        text = path.read_text(encoding="utf-8")
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"cannot read the rule: {exc}", path=where) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        raise RuleError(f"not valid YAML: {exc}", path=where, line=line) from exc
    if not documents:
        raise RuleError("the file holds no rule", path=where)
    return [_rule(doc, where) for doc in documents]


def _rule(doc: Any, path: str) -> Rule:
    if not isinstance(doc, dict):
        raise RuleError("a rule is a YAML mapping", path=path)
    title = _text(doc, "title", path, required=True)
    level = str(doc.get("level", "medium")).lower()
    if level not in LEVELS:
        raise RuleError(f"level {level!r}: one of {', '.join(LEVELS)}", path=path)
    tags = doc.get("tags") or []
    if not isinstance(tags, list):
        raise RuleError("tags: a list", path=path)
    rule = Rule(
        id=_text(doc, "id", path) or _text(doc, "name", path) or Path(path).stem,
        name=_text(doc, "name", path),
        title=title,
        level=level,
        description=_text(doc, "description", path),
        path=path,
        tags=tuple(str(t) for t in tags),
    )
    if "correlation" in doc:
        return replace(
            rule,
            correlation=_correlation(doc["correlation"], doc.get("x-auditlens"), path),
            generate=bool(doc.get("generate", False)),
        )
    detection = doc.get("detection")
    if not isinstance(detection, dict) or "condition" not in detection:
        raise RuleError("detection: a mapping with a condition", path=path)
    compile_detection(detection, path)  # refuse a bad rule when it is read, not when run
    return replace(rule, detection=detection)


def _text(doc: dict[str, Any], key: str, path: str, *, required: bool = False) -> str:
    value = doc.get(key)
    if value is None:
        if required:
            raise RuleError(f"{key}: required", path=path)
        return ""
    if not isinstance(value, str | int):
        raise RuleError(f"{key}: text", path=path)
    return str(value)


def _correlation(spec: Any, options: Any, path: str) -> Correlation:
    if not isinstance(spec, dict):
        raise RuleError("correlation: a mapping", path=path)
    kind = str(spec.get("type", ""))
    if kind not in CORRELATION_TYPES:
        raise RuleError(
            f"correlation type {kind!r}: one of {', '.join(CORRELATION_TYPES)}", path=path
        )
    rules = spec.get("rules") or []
    if isinstance(rules, str):
        rules = [rules]
    group_by = spec.get("group-by") or []
    if not isinstance(rules, list) or not isinstance(group_by, list):
        raise RuleError("correlation rules and group-by: lists", path=path)
    if kind not in ("stream_silence", "missing_witness") and not rules:
        raise RuleError(f"a {kind} correlation names the rules it correlates", path=path)
    condition = spec.get("condition") or {}
    if not isinstance(condition, dict):
        raise RuleError("correlation condition: a mapping such as {gte: 10}", path=path)
    for op, value in condition.items():
        if op == "field":
            _plain(str(value), path)
        elif op not in ("gt", "gte", "lt", "lte", "eq") or not isinstance(value, int):
            raise RuleError(f"correlation condition {op}: {value!r} is not OP: NUMBER", path=path)
    aliases = spec.get("aliases") or {}
    if not isinstance(aliases, dict) or not all(isinstance(v, dict) for v in aliases.values()):
        raise RuleError("correlation aliases: alias -> {rule: field}", path=path)
    for name in group_by:
        if name not in aliases:
            _plain(str(name), path)
    for mapping in aliases.values():
        for value in mapping.values():
            _plain(str(value), path)
    timespan = spec.get("timespan")
    if options is not None and not isinstance(options, dict):
        raise RuleError("x-auditlens: a mapping", path=path)
    return Correlation(
        kind,
        tuple(str(r) for r in rules),
        tuple(str(g) for g in group_by),
        0 if timespan is None else parse_timespan(timespan, path),
        dict(condition),
        {str(k): {str(a): str(b) for a, b in v.items()} for k, v in aliases.items()},
        dict(options or {}),
    )


def threshold_met(condition: dict[str, Any], value: int) -> bool:
    """Whether ``value`` satisfies a correlation condition such as ``{gte: 10}``."""
    checks = {
        "gt": value.__gt__,
        "gte": value.__ge__,
        "lt": value.__lt__,
        "lte": value.__le__,
        "eq": value.__eq__,
    }
    return all(checks[op](limit) for op, limit in condition.items() if op in checks)


# -- compiling a detection -------------------------------------------------------------------


def _column(name: str, path: str) -> tuple[str, list[Any]]:
    """The SQL expression of a field, with its parameters.

    ``attributes.KEY`` reads the attributes JSON: the flat OpenTelemetry key (``user.roles``)
    first, then the nested path (``updated_data.value`` of the audit logger's attributes).
    """
    if name in FIELD_NAMES and name != "leaf_hash":
        return name, []
    if name.startswith("attributes.") and len(name) > len("attributes."):
        key = name[len("attributes.") :]
        if not re.fullmatch(r"[A-Za-z0-9_.@-]+", key):
            raise RuleError(f"attribute key {key!r}: letters, digits, _ . @ - only", path=path)
        nested = "$." + ".".join(f'"{part}"' for part in key.split("."))
        return "coalesce(json_extract_string(attributes, ?), json_extract_string(attributes, ?))", [
            f'$."{key}"',
            nested,
        ]
    raise RuleError(
        f"unknown field {name!r}: a field of the normalized event or attributes.KEY", path=path
    )


def _plain(name: str, path: str) -> str:
    """A field a correlation groups or counts by: a column of the normalized event."""
    if name not in FIELD_NAMES or name in ("leaf_hash", "attributes", "body"):
        raise RuleError(f"correlations group by event fields, not {name!r}", path=path)
    return name


def _like_pattern(value: str, *, prefix: str = "", suffix: str = "") -> str:
    """A Sigma value (``*``, ``?`` wildcards and backslash escapes) as a LIKE pattern."""
    out: list[str] = []
    chars = iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars, "\\")
            out.append("\\" + nxt if nxt in "%_\\" else nxt if nxt in "*?" else "\\\\" + nxt)
        elif char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in "%_":
            out.append("\\" + char)
        else:
            out.append(char)
    return prefix + "".join(out) + suffix


def _one_value(
    column: str, cparams: list[Any], modifiers: list[str], value: Any, path: str
) -> tuple[str, list[Any]]:
    if value is None:
        return f"{column} IS NULL", list(cparams)
    if "exists" in modifiers:
        return (f"{column} IS NOT NULL" if value else f"{column} IS NULL"), list(cparams)
    if "fieldref" in modifiers:
        other, oparams = _column(str(value), path)
        return f"{column} = {other}", [*cparams, *oparams]
    for op, sql in _NUMERIC.items():
        if op in modifiers:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise RuleError(f"|{op} compares with a number, not {value!r}", path=path)
            return f"TRY_CAST({column} AS DOUBLE) {sql} ?", [*cparams, value]
    if "cidr" in modifiers:
        try:
            net = ipaddress.ip_network(str(value), strict=False)
        except ValueError as exc:
            raise RuleError(f"|cidr: {exc}", path=path) from exc
        if net.version != 4:
            raise RuleError("|cidr: IPv4 networks only", path=path)
        # The address as a 32-bit number, compared with the network's range (no extension needed).
        number = (
            f"(TRY_CAST(split_part({column}, '.', 1) AS BIGINT) * 16777216 + "
            f"TRY_CAST(split_part({column}, '.', 2) AS BIGINT) * 65536 + "
            f"TRY_CAST(split_part({column}, '.', 3) AS BIGINT) * 256 + "
            f"TRY_CAST(split_part({column}, '.', 4) AS BIGINT))"
        )
        params = [*cparams, *cparams, *cparams, *cparams]
        return f"{number} BETWEEN ? AND ?", [
            *params,
            int(net.network_address),
            int(net.broadcast_address),
        ]
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, int | float) and column in _INT_FIELDS:
        return f"{column} = ?", [*cparams, value]
    text = str(value)
    if "re" in modifiers:
        try:
            re.compile(text)
        except re.error as exc:
            raise RuleError(f"|re: {exc}", path=path) from exc
        return f"regexp_matches({column}, ?)", [*cparams, text]
    cased = "cased" in modifiers
    op = "LIKE" if cased else "ILIKE"
    if "contains" in modifiers:
        pattern = _like_pattern(text, prefix="%", suffix="%")
    elif "startswith" in modifiers:
        pattern = _like_pattern(text, suffix="%")
    elif "endswith" in modifiers:
        pattern = _like_pattern(text, prefix="%")
    elif "*" in text or "?" in text:
        pattern = _like_pattern(text)
    else:
        # Plain equality, case-insensitive as Sigma says: a cheaper test than ILIKE.
        if cased:
            return f"{column} = ?", [*cparams, text]
        return f"lower({column}) = ?", [*cparams, text.lower()]
    return f"{column} {op} ? ESCAPE '\\'", [*cparams, pattern]


def _field_condition(key: str, value: Any, path: str) -> tuple[str, list[Any]]:
    name, *modifiers = str(key).split("|")
    unknown = [m for m in modifiers if m not in _MODIFIERS]
    if unknown:
        raise RuleError(f"{key}: unknown modifier {unknown[0]!r}", path=path)
    column, cparams = _column(name, path)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise RuleError(f"{key}: an empty list matches nothing", path=path)
    for v in values:
        # Nested lists or maps (a YAML alias can make them huge) are no Sigma values.
        if v is not None and not isinstance(v, str | int | float | bool):
            raise RuleError(f"{key}: values are text, numbers or null", path=path)
    parts = [_one_value(column, cparams, modifiers, v, path) for v in values]
    joiner = " AND " if "all" in modifiers else " OR "
    sql = joiner.join(f"({p[0]})" for p in parts)
    return f"({sql})", [x for p in parts for x in p[1]]


def _selection(name: str, spec: Any, path: str) -> tuple[str, list[Any]]:
    if isinstance(spec, dict):
        if not spec:
            raise RuleError(f"selection {name!r} is empty", path=path)
        parts = [_field_condition(k, v, path) for k, v in spec.items()]
        return "(" + " AND ".join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
    if isinstance(spec, list) and spec:
        if all(isinstance(item, dict) for item in spec):
            parts = [_selection(name, item, path) for item in spec]
        elif all(isinstance(item, str | int) for item in spec):
            # Keywords: searched in the body (Sigma's full-text search).
            parts = [_one_value("body", [], ["contains"], str(item), path) for item in spec]
        else:
            raise RuleError(f"selection {name!r} mixes maps and keywords", path=path)
        return "(" + " OR ".join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]
    raise RuleError(f"selection {name!r}: a mapping, a list of mappings or keywords", path=path)


_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_*]+)")


def compile_detection(detection: dict[str, Any], path: str) -> tuple[str, list[Any]]:
    """The detection's condition as SQL with bound parameters.

    The condition grammar (Sigma): ``not`` binds tighter than ``and``, ``and`` than ``or``;
    parentheses; ``1 of NAME*``, ``all of NAME*``, ``1 of them``, ``all of them``.
    """
    condition = detection.get("condition")
    if isinstance(condition, list):
        condition = " or ".join(f"({c})" for c in condition)
    if not isinstance(condition, str) or not condition.strip():
        raise RuleError("detection condition: a text such as 'selection and not filter'", path=path)
    selections = {k: v for k, v in detection.items() if k != "condition" and k != "timeframe"}
    tokens: list[str] = []
    pos = 0
    while pos < len(condition):
        match = _TOKEN.match(condition, pos)
        if match is None:
            if condition[pos:].strip() == "":
                break
            raise RuleError(f"condition: cannot read {condition[pos:]!r}", path=path)
        tokens.append(match.group(1))
        pos = match.end()
    parser = _ConditionParser(tokens, selections, path)
    sql, params = parser.expression()
    if parser.pos != len(tokens):
        raise RuleError(f"condition: unexpected {tokens[parser.pos]!r}", path=path)
    return sql, params


class _ConditionParser:
    def __init__(self, tokens: list[str], selections: dict[str, Any], path: str) -> None:
        self.tokens = tokens
        self.selections = selections
        self.path = path
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos].lower() if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        if self.pos >= len(self.tokens):
            raise RuleError("condition ends too early", path=self.path)
        self.pos += 1
        return self.tokens[self.pos - 1]

    def expression(self) -> tuple[str, list[Any]]:
        parts = [self._and()]
        while self._peek() == "or":
            self._take()
            parts.append(self._and())
        return self._join(parts, "OR")

    def _and(self) -> tuple[str, list[Any]]:
        parts = [self._not()]
        while self._peek() == "and":
            self._take()
            parts.append(self._not())
        return self._join(parts, "AND")

    def _not(self) -> tuple[str, list[Any]]:
        if self._peek() == "not":
            self._take()
            sql, params = self._not()
            # NOT over a NULL comparison would be NULL: a missing field is "not matching".
            return f"(NOT coalesce({sql}, false))", params
        return self._atom()

    def _atom(self) -> tuple[str, list[Any]]:
        token = self._take()
        low = token.lower()
        if token == "(":  # noqa: S105 - a parenthesis, not a password
            inner = self.expression()
            if self._take() != ")":
                raise RuleError("condition: missing ')'", path=self.path)
            return inner
        if low in ("1", "all") and self._peek() == "of":
            self._take()
            target = self._take()
            names = (
                sorted(self.selections)
                if target.lower() == "them"
                else sorted(n for n in self.selections if _glob(target, n))
            )
            if not names:
                raise RuleError(f"condition: no selection matches {target!r}", path=self.path)
            parts = [_selection(n, self.selections[n], self.path) for n in names]
            return self._join(parts, "AND" if low == "all" else "OR")
        if token not in self.selections:
            raise RuleError(f"condition names no selection {token!r}", path=self.path)
        return _selection(token, self.selections[token], self.path)

    @staticmethod
    def _join(parts: list[tuple[str, list[Any]]], op: str) -> tuple[str, list[Any]]:
        if len(parts) == 1:
            return parts[0]
        return "(" + f" {op} ".join(p[0] for p in parts) + ")", [x for p in parts for x in p[1]]


def _glob(pattern: str, name: str) -> bool:
    return re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name) is not None
