"""The detection run: rules over the case's actions, correlations, baselines, corroboration.

The run reads as its steps (docs/detections.md, "The run"):

1. order the timeline (``ord``) if an import left it stale;
2. link the witnesses of each action (corroboration.build_witnesses);
3. run every detection rule as one SQL query with bound parameters; its matching events become
   actions with all their witnesses;
4. run each correlation over its rules' actions (Sigma's event_count, value_count,
   temporal_ordered; AuditLens's first_seen, off_hours, stream_silence, missing_witness), with
   the baselines of baselines.py for thresholds and explanations;
5. store the findings (findings.store) and journal the run.

Invariants: nothing here writes anything but the ``detections`` table and the journal; a
cancelled run leaves the previous findings as they were.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditlens.core.analysis import baselines, corroboration
from auditlens.core.analysis.findings import EventRef, Finding, ordered, severity_rank, store
from auditlens.core.analysis.sigma import Correlation, Rule, load_rules, parse_timespan
from auditlens.core.analysis.sigma import threshold_met as _met
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.resources import resources_dir
from auditlens.core.store import queries
from auditlens.core.store.case import Case

# Columns every matched action carries (for grouping, explanations and findings).
_COLUMNS = (
    "actor_id",
    "actor_role",
    "action",
    "outcome",
    "resource_type",
    "resource_id",
    "source_ip",
    "tenant",
    "session_id",
    "conversation_id",
    "trace_id",
)
DAY_NS = baselines.DAY_NS
HOUR_NS = baselines.HOUR_NS


def rules_dir() -> Path:
    """The shipped rules (``resources/rules``)."""
    return resources_dir() / "rules"


@dataclass
class Act:
    """One action matched by a rule, with every witness of it."""

    key: int
    time_ns: int
    time_last_ns: int
    events: list[EventRef]
    values: dict[str, Any]

    def get(self, name: str) -> Any:
        """A field of the action (the first non-null among its witnesses, matched ones first)."""
        return self.values.get(name)


@dataclass(frozen=True)
class DetectReport:
    """What a detection run did."""

    rules: int
    findings: list[Finding]
    actions: int
    rule_digest: str
    by_severity: dict[str, int] = field(default_factory=dict)


class _Run:
    def __init__(self, case: Case, rules: list[Rule]) -> None:
        self.case = case
        self.rules = rules
        self.by_ref: dict[str, Rule] = {}
        for rule in rules:
            self.by_ref[rule.id] = rule
            if rule.name:
                self.by_ref[rule.name] = rule
        self._cache: dict[str, list[Act]] = {}
        self._roles: dict[str, str] | None = None

    # -- step 3: rules to actions ---------------------------------------------------------

    def actions(
        self, rule: Rule, extra: str = "", extra_params: list[Any] | None = None
    ) -> list[Act]:
        """The actions whose witnesses match ``rule`` (and ``extra``, a condition with params)."""
        if not extra and rule.id in self._cache:
            return self._cache[rule.id]
        where, params = rule.where()
        if extra:
            where = f"({where}) AND ({extra})"
            params = [*params, *(extra_params or [])]
        db = self.case.db
        db.execute(
            f"CREATE OR REPLACE TEMP TABLE al_m AS SELECT ord FROM events WHERE {where}",  # noqa: S608
            params,
        )
        cols = ", ".join(f"e.{c}" for c in _COLUMNS)
        cursor = db.execute(
            f"""WITH mk AS (SELECT m.ord, coalesce(w.key, m.ord) AS key
                            FROM al_m m LEFT JOIN al_witness w ON w.ord = m.ord),
            keys AS (SELECT DISTINCT key FROM mk),
            wit AS (SELECT w.ord, w.key FROM al_witness w JOIN keys USING (key)
                    UNION SELECT ord, key FROM mk)
            SELECT 0, wit.key, e.ord, e.time_ns, e.stream_id, e.seq, e.kind,
                wit.ord IN (SELECT ord FROM al_m) AS matched, {cols}
            FROM wit JOIN events e ON e.ord = wit.ord
            ORDER BY wit.key, matched DESC, e.time_ns, e.ord"""  # noqa: S608
        )
        acts = _acts(iter_rows(cursor)).get(0, [])
        if not extra:
            self._cache[rule.id] = acts
        return acts

    def prefetch(self, rules: list[Rule]) -> None:
        """Read the actions of all ``rules`` (as :meth:`actions` without ``extra``) at once.

        One scan of ``events`` finds every rule's matches (each row lists the rules it
        matches), and one join with ``events`` reads the witnesses and their fields for all of
        them: per rule, that join read every row of the case and was most of a rule's cost
        (0.4 of 1 s of CPU per rule at 10^7 events, measured); one scan instead of one per rule
        reads each column once (13 rules at 10^7 events: 3.4 s of CPU against 4.4 s, the same
        matches).
        """
        todo = list({r.id: r for r in rules if r.id not in self._cache}.values())
        if not todo:
            return
        parts = [r.where() for r in todo]
        db = self.case.db
        # Each rule's condition is its compiled Sigma (bound parameters); the index is ours. A
        # condition false or NULL gives no index, as WHERE keeps only rows where it is true.
        params = [p for _, ps in parts for p in ps]
        listed = ", ".join(f"CASE WHEN ({sql}) THEN {i} END" for i, (sql, _) in enumerate(parts))
        matching = " OR ".join(f"({sql})" for sql, _ in parts)
        db.execute(
            "CREATE OR REPLACE TEMP TABLE al_mr AS SELECT unnest(list_filter("  # noqa: S608
            f"[{listed}], lambda x: x IS NOT NULL)) AS r, ord FROM events WHERE {matching}",
            params + params,
        )
        cols = ", ".join(f"e.{c}" for c in _COLUMNS)
        cursor = db.execute(
            f"""WITH mk AS (SELECT m.r, m.ord, coalesce(w.key, m.ord) AS key
                            FROM al_mr m LEFT JOIN al_witness w ON w.ord = m.ord),
            keys AS (SELECT DISTINCT r, key FROM mk),
            wit AS (SELECT k.r, w.ord, w.key FROM al_witness w JOIN keys k USING (key)
                    UNION SELECT r, ord, key FROM mk)
            SELECT wit.r, wit.key, e.ord, e.time_ns, e.stream_id, e.seq, e.kind,
                mm.ord IS NOT NULL AS matched, {cols}
            FROM wit JOIN events e ON e.ord = wit.ord
            LEFT JOIN al_mr mm ON mm.r = wit.r AND mm.ord = wit.ord
            ORDER BY wit.r, wit.key, matched DESC, e.time_ns, e.ord"""  # noqa: S608
        )
        found = _acts(iter_rows(cursor))
        for index, rule in enumerate(todo):
            self._cache[rule.id] = found.get(index, [])

    def roles(self) -> dict[str, str]:
        if self._roles is None:
            self._roles = baselines.roles(self.case)
        return self._roles

    # -- step 4: findings -----------------------------------------------------------------

    def plain(self, rule: Rule) -> list[Finding]:
        return [_finding(rule, [act], _describe(act)) for act in self.actions(rule)]

    def correlate(self, rule: Rule) -> list[Finding]:
        corr = rule.correlation
        assert corr is not None  # only correlation rules come here
        handler = getattr(self, "_" + corr.type)
        result: list[Finding] = handler(rule, corr)
        return result

    def _base(self, corr: Correlation, index: int = 0) -> Rule:
        return self.by_ref[corr.rules[index]]

    def _event_count(self, rule: Rule, corr: Correlation) -> list[Finding]:
        acts = [a for r in corr.rules for a in self.actions(self.by_ref[r])]
        groups = _group(acts, corr.group_by)
        span = corr.timespan_ns or DAY_NS
        gte = _lower_bound(corr.condition)
        options = corr.options
        factor = float(options.get("factor", 0))
        peer_counts: dict[str, Counter[int]] = defaultdict(Counter)
        roles = self.roles() if factor else {}
        if factor:
            for key, members in groups.items():
                peer_counts[roles.get(str(key[0]), "")].update(
                    baselines.window_counts([a.time_ns for a in members], span)
                )
        found: list[Finding] = []
        what = str(options.get("what", "matching actions"))
        minutes = _span_text(span)
        for key, members in groups.items():
            if not _bursts(members, span, gte):
                continue  # below the rule's own threshold: no baseline can raise it
            threshold, baseline_text, p99 = gte, "", 0
            if factor:
                role = roles.get(str(key[0]), "")
                own = Counter(baselines.window_counts([a.time_ns for a in members], span))
                peers = peer_counts[role] - own
                p99 = baselines.counted_percentile(peers, 0.99)
                threshold = max(gte, math.floor(factor * p99) + 1)
                baseline_text = (
                    f"; the 99th percentile of the other {role or 'role-less'} actors' "
                    f"counts per {minutes} is {p99}"
                    if peers
                    else f"; no other {role or 'role-less'} actor did this"
                )
            for burst, peak in _bursts(members, span, threshold):
                explanation = (
                    f"{peak} {what} in {minutes} by {_group_text(corr.group_by, key)}"
                    + (f" ({len(burst)} in this burst)" if len(burst) != peak else "")
                    + baseline_text
                )
                score = round(peak / max(p99, 1), 1) if factor else float(peak)
                found.append(_finding(rule, burst, explanation, score=score))
        return found

    def _value_count(self, rule: Rule, corr: Correlation) -> list[Finding]:
        counted = str(corr.condition.get("field", ""))
        column = corr.group_by[0] if corr.group_by else ""
        if not column or not counted:
            return []
        keys = self._value_count_candidates(corr, column, counted)
        if not keys:
            return []
        restrict = f"{column} IN (SELECT unnest(?))"
        first = self.actions(self._base(corr), restrict, [keys])
        acts = list(first)
        for ref in corr.rules[1:]:
            acts += self.actions(self.by_ref[ref], restrict, [keys])
        unique = {a.key: a for a in acts}
        groups = _group(list(unique.values()), corr.group_by)
        span = corr.timespan_ns or 10**19
        found: list[Finding] = []
        first_keys = {a.key for a in first}
        for key, members in groups.items():
            if not any(a.key in first_keys for a in members):
                continue
            members.sort(key=lambda a: a.time_ns)
            start = 0
            for end in range(len(members)):
                while members[end].time_ns - members[start].time_ns > span:
                    start += 1
                window = members[start : end + 1]
                values = {a.get(counted) for a in window if a.get(counted) is not None}
                if _met(corr.condition, len(values)) and any(a.key in first_keys for a in window):
                    actor = next((a.get("actor_id") for a in window if a.key in first_keys), None)
                    explanation = (
                        f"{len(values)} different {counted} values "
                        f"({', '.join(sorted(map(str, values)))}) "
                        f"within {_span_text(span)} for {_group_text(corr.group_by, key)}"
                    )
                    found.append(_finding(rule, window, explanation, actor=actor))
                    break
        return found

    def _value_count_candidates(self, corr: Correlation, column: str, counted: str) -> list[str]:
        """Group values where the rules' events, over the whole case, reach the count.

        One aggregate in DuckDB (``column`` and ``counted`` are validated event fields): only
        these groups are read as actions and checked within the timespan, since a window never
        holds more distinct values than the whole case.
        """
        first_sql, first_params = self._base(corr).where()
        parts = [self.by_ref[r].where() for r in corr.rules]
        where = " OR ".join(f"({sql})" for sql, _ in parts)
        params = [p for _, ps in parts for p in ps]
        rows = self.case.db.execute(
            f"""SELECT {column} FROM events WHERE {column} IN (
                    SELECT {column} FROM events WHERE {first_sql})
                AND ({where})
            GROUP BY {column} HAVING count(DISTINCT {counted}) >= ?""",  # noqa: S608
            [*first_params, *params, _lower_bound(corr.condition)],
        ).fetchall()
        return sorted(str(r[0]) for r in rows if r[0] is not None)

    def _temporal_ordered(self, rule: Rule, corr: Correlation) -> list[Finding]:
        alias = corr.group_by[0] if corr.group_by else ""

        def field_of(ref: str) -> str:
            mapping = corr.aliases.get(alias)
            return mapping.get(ref, alias) if mapping else alias

        chain = [self.actions(self._base(corr))]
        first_field = field_of(corr.rules[0])
        keys = sorted({str(a.get(first_field)) for a in chain[0] if a.get(first_field)})
        for ref in corr.rules[1:]:
            column = field_of(ref)
            chain.append(
                self.actions(self.by_ref[ref], f"{column} IN (SELECT unnest(?))", [keys])
                if keys
                else []
            )
        span = corr.timespan_ns or DAY_NS
        # Each later rule's actions by the value they share, in time order (a scan of every
        # action per start took 9.9 s of CPU at 10^7 events).
        by_value: list[dict[Any, list[Act]]] = [{}]
        for index, ref in enumerate(corr.rules[1:], start=1):
            column = field_of(ref)
            indexed: dict[Any, list[Act]] = defaultdict(list)
            for act in chain[index]:
                indexed[act.get(column)].append(act)
            by_value.append(indexed)
        found: list[Finding] = []
        for start in chain[0]:
            value = start.get(first_field)
            if value is None:
                continue
            steps = [start]
            t = start.time_ns
            for index in range(1, len(corr.rules)):
                nxt = [
                    a
                    for a in by_value[index].get(value, [])
                    if t <= a.time_ns <= start.time_ns + span and a.key != start.key
                ]
                if not nxt:
                    steps = []
                    break
                steps += nxt
                t = nxt[0].time_ns
            if steps:
                titles = " then ".join(self.by_ref[r].title.lower() for r in corr.rules)
                explanation = (
                    f"{titles} for {alias} {value} within {_span_text(span)}: "
                    f"{_describe(start)}, followed by {len(steps) - 1} action(s) "
                    f"({_mix(steps[1:])}) from {_clock(steps[1].time_ns)} UTC"
                )
                found.append(_finding(rule, steps, explanation, actor=start.get("actor_id")))
        return found

    def _first_seen(self, rule: Rule, corr: Correlation) -> list[Finding]:
        options = corr.options
        group = corr.group_by[0] if corr.group_by else "actor_id"
        value_field = str(options.get("field", "source_ip"))
        history = parse_timespan(options.get("min_history", "1d"), rule.path)
        recent = parse_timespan(options.get("novelty", "1h"), rule.path)
        prefix = int(options.get("network_prefix", 0))
        known_level = str(options.get("known_network_level", rule.level))
        firsts = baselines.first_uses(self.case, group, value_field)
        spans = baselines.group_spans(self.case, group)
        used: dict[Any, list[tuple[int, Any]]] = defaultdict(list)
        networks: dict[str, int] = {}
        for (g, value), (t, _n) in firsts.items():
            used[g].append((t, value))
            if prefix:
                net = _network(str(value), prefix)
                networks[net] = min(networks.get(net, t), t)
        # Per value, the novel uses: several groups new to one value at once (one address trying
        # many accounts) are one finding.
        novel: dict[Any, list[tuple[Act, Any, int, float, str, str]]] = defaultdict(list)
        seen: set[tuple[Any, Any]] = set()
        for act in self.actions(self._base(corr)):
            g, v = act.get(group), act.get(value_field)
            if g is None or v is None or (g, v) in seen:
                continue
            first_t, _ = firsts.get((g, v), (act.time_ns, 0))
            g_first, _g_last, _g_events = spans.get(g, (act.time_ns, act.time_ns, 0))
            if first_t < act.time_ns - recent or first_t - g_first < history:
                continue
            seen.add((g, v))
            days = (first_t - g_first) / DAY_NS
            before = sorted(str(x) for t, x in used[g] if t < first_t)
            known = ", ".join(before[:5]) + (
                f" and {len(before) - 5} more" if len(before) > 5 else ""
            )
            text = (
                f"first use of {value_field} {v} by {group} {g} after {days:.1f} days of history "
                f"(it had used {len(before)}: {known or 'none'}"
            )
            level = rule.level
            if prefix:
                net = _network(str(v), prefix)
                if networks.get(net, first_t) < first_t - corroboration.LINK_WINDOW_NS:
                    level = known_level
                    text += f"; other addresses of {net} were in use before"
                else:
                    text += f"; no one in the case used {net} before"
            text += ")"
            if first_t < act.time_ns - corroboration.LINK_WINDOW_NS:
                text += f"; first seen {_duration(act.time_ns - first_t)} earlier"
            novel[v].append((act, g, first_t, days, level, f"{text}: {_describe(act)}"))
        found: list[Finding] = []
        for uses in novel.values():
            uses.sort(key=lambda u: u[0].time_ns)
            batch: list[tuple[Act, Any, int, float, str, str]] = []
            for use in [*uses, None]:
                if use is not None and (
                    not batch or use[0].time_ns - batch[0][0].time_ns <= recent
                ):
                    batch.append(use)
                    continue
                found.append(self._first_seen_finding(rule, group, value_field, recent, batch))
                batch = [] if use is None else [use]
        return found

    @staticmethod
    def _first_seen_finding(
        rule: Rule,
        group: str,
        field: str,
        span: int,
        batch: list[tuple[Act, Any, int, float, str, str]],
    ) -> Finding:
        level = max((u[4] for u in batch), key=severity_rank)
        if len(batch) == 1:
            act, _g, _t, days, _level, text = batch[0]
            return _finding(rule, [act], text, severity=level, score=round(days, 1))
        value = batch[0][0].get(field)
        groups = ", ".join(str(u[1]) for u in batch)
        text = (
            f"{len(batch)} first uses of {field} {value} within {_span_text(span)}, by "
            f"{group} {groups}; " + " | ".join(u[5] for u in batch[:3])
        )
        return _finding(
            rule, [u[0] for u in batch], text, severity=level, score=min(u[3] for u in batch)
        )

    def _off_hours(self, rule: Rule, corr: Correlation) -> list[Finding]:
        options = corr.options
        min_days = int(options.get("min_other_days", 2))
        gap = parse_timespan(options.get("gap", "2h"), rule.path)
        role_share = float(options.get("max_role_share", 0.02))
        active = baselines.active_hours(self.case)
        roles = self.roles()
        shares = baselines.peer_hour_shares(self.case, roles)
        cells: list[tuple[str, int, int]] = []
        usual: dict[tuple[str, int], str] = {}
        for actor, days in active.items():
            if len(days) < min_days + 1:
                continue
            role_shares = shares.get(actor, {})
            for day, hours in days.items():
                other = set().union(*(h for d, h in days.items() if d != day))
                odd = [h for h in hours - other if role_shares.get(h, 0.0) < role_share]
                for hour in odd:
                    cells.append((actor, day, hour))
                if odd:
                    usual[actor, day] = baselines.hour_ranges(sorted(other))
        if not cells:
            return []
        db = self.case.db
        db.execute("CREATE OR REPLACE TEMP TABLE al_cells (actor_id VARCHAR, d BIGINT, h BIGINT)")
        db.executemany("INSERT INTO al_cells VALUES (?, ?, ?)", cells)
        acts = self.actions(
            self._base(corr),
            f"(actor_id, time_ns // {DAY_NS}, (time_ns % {DAY_NS}) // {HOUR_NS}) IN "  # noqa: S608
            "(SELECT (actor_id, d, h) FROM al_cells)",
        )
        gte = _lower_bound(corr.condition) or 1
        found: list[Finding] = []
        for (actor,), members in _group(acts, ("actor_id",)).items():
            run: list[Act] = []
            for act in [*members, None]:
                if act is not None and (not run or act.time_ns - run[-1].time_last_ns <= gap):
                    run.append(act)
                    continue
                if len(run) >= gte:
                    other_days = len(active[str(actor)]) - 1
                    run_hours = sorted({(a.time_ns % DAY_NS) // HOUR_NS for a in run})
                    role = roles.get(str(actor))
                    peak = max(shares.get(str(actor), {}).get(h, 0.0) for h in run_hours)
                    explanation = (
                        f"{len(run)} actions by {actor} between {_clock(run[0].time_ns)} and "
                        f"{_clock(run[-1].time_last_ns)} UTC, in hours "
                        f"({', '.join(f'{h:02d}' for h in run_hours)}) it never acted in on "
                        f"its {other_days} other active days (then: "
                        f"{usual.get((str(actor), run[0].time_ns // DAY_NS), 'none')} UTC), "
                        f"and in which the other members of its role ({role or 'no role named'}) "
                        f"do at most {peak:.1%} of their work ({_mix(run)})"
                    )
                    found.append(_finding(rule, run, explanation, score=float(other_days)))
                run = [] if act is None else [act]
        return found

    def _stream_silence(self, rule: Rule, corr: Correlation) -> list[Finding]:
        options = corr.options
        found = corroboration.stream_silences(
            self.case,
            min_gap_ns=parse_timespan(options.get("min_gap", "10m"), rule.path),
            max_p=float(options.get("max_p", 1e-3)),
            level=rule.level,
        )
        return [_renamed(f, rule) for f in found]

    def _missing_witness(self, rule: Rule, corr: Correlation) -> list[Finding]:
        return [
            _renamed(f, rule) for f in corroboration.missing_witnesses(self.case, level=rule.level)
        ]


def _acts(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[Act]]:
    """Actions per rule index, from rows ordered by rule index, key, matched first, time, ord.

    A row is ``(rule index, key, ord, time_ns, stream_id, seq, kind, matched, *_COLUMNS)``.
    """
    found: dict[int, list[Act]] = {}
    acts: list[Act] = []
    current: Act | None = None
    # In batches: the rows and the actions made of them are never all held twice (at 10^7
    # events a rule matches 10^5 actions, each with its witnesses).
    for row in rows:
        index, key, ord_, time_ns, stream, seq, kind, _matched = row[:8]
        ref = EventRef(int(time_ns or 0), str(stream), int(seq or 0), int(ord_), kind)
        if index not in found:
            acts = found[index] = []
            current = None
        if current is None or current.key != key:
            current = Act(int(key), ref.time_ns, ref.time_ns, [], {})
            acts.append(current)
        current.events.append(ref)
        current.time_ns = min(current.time_ns, ref.time_ns)
        current.time_last_ns = max(current.time_last_ns, ref.time_ns)
        for name, value in zip(_COLUMNS, row[8:], strict=True):
            if value is not None and current.values.get(name) is None:
                current.values[name] = value
    for acts in found.values():
        for act in acts:
            act.events.sort(key=lambda e: (e.time_ns, e.ord or 0))
        acts.sort(key=lambda a: (a.time_ns, a.key))
    return found


def iter_rows(cursor: Any, size: int = 8192) -> Iterator[tuple[Any, ...]]:
    """The rows of a DuckDB result, fetched ``size`` at a time."""
    while batch := cursor.fetchmany(size):
        yield from batch


def _one_per_action(found: list[Finding]) -> list[Finding]:
    """One finding per action: the worst rule's, naming the other rules that matched it.

    A rule matches an action when one of its witnesses matches, so two rules that exclude each
    other on a field only one witness carries (the audit record's ``updated_data``) may both
    match one action; the worse one speaks for it (docs/detections.md, "One finding per action").
    """
    by_action: dict[tuple[int | None, ...], list[Finding]] = defaultdict(list)
    for f in found:
        by_action[tuple(e.ord for e in f.events)].append(f)
    out: list[Finding] = []
    for same in by_action.values():
        same.sort(key=lambda f: -severity_rank(f.severity))
        head, rest = same[0], same[1:]
        if rest:
            also = "; also: " + ", ".join(f"{f.title} ({f.severity})" for f in rest)
            head = replace(head, explanation=head.explanation + also)
        out.append(head)
    return out


def _whole_rules(rule: Rule) -> tuple[str, ...]:
    """The rules a correlation reads all the actions of (no condition added): to prefetch."""
    corr = rule.correlation
    if corr is None:
        return ()
    if corr.type == "event_count":
        return corr.rules
    if corr.type in ("first_seen", "temporal_ordered"):
        return corr.rules[:1]
    return ()


def _renamed(found: Finding, rule: Rule) -> Finding:
    return Finding(
        rule.id,
        found.title,
        found.severity,
        found.actor_id,
        found.time_first_ns,
        found.time_last_ns,
        found.explanation,
        found.events,
        found.score,
        rule.path,
    )


def _lower_bound(condition: dict[str, Any]) -> int:
    if "gte" in condition:
        return int(condition["gte"])
    if "gt" in condition:
        return int(condition["gt"]) + 1
    if "eq" in condition:
        return int(condition["eq"])
    return 1


def _group(acts: Iterable[Act], by: tuple[str, ...]) -> dict[tuple[Any, ...], list[Act]]:
    groups: dict[tuple[Any, ...], list[Act]] = defaultdict(list)
    for act in acts:
        key = tuple(act.get(name) for name in by)
        if any(k is None for k in key):
            continue
        groups[key].append(act)
    for members in groups.values():
        members.sort(key=lambda a: (a.time_ns, a.key))
    return groups


def _bursts(members: list[Act], span: int, threshold: int) -> list[tuple[list[Act], int]]:
    """Maximal runs of actions covered by windows of ``span`` holding >= ``threshold`` actions."""
    marked: list[tuple[int, int]] = []
    peak_at: dict[int, int] = {}
    start = 0
    for end in range(len(members)):
        while members[end].time_ns - members[start].time_ns > span:
            start += 1
        count = end - start + 1
        if count >= threshold:
            if marked and start <= marked[-1][1] + 1:
                marked[-1] = (marked[-1][0], end)
            else:
                marked.append((start, end))
            first = marked[-1][0]
            peak_at[first] = max(peak_at.get(first, 0), count)
    return [(members[a : b + 1], peak_at[a]) for a, b in marked]


def _network(address: str, prefix: int) -> str:
    parts = address.split(".")
    if len(parts) != 4 or prefix not in (8, 16, 24):
        return address
    keep = prefix // 8
    return ".".join(parts[:keep] + ["0"] * (4 - keep)) + f"/{prefix}"


def _span_text(span: int) -> str:
    if span % DAY_NS == 0:
        return f"{span // DAY_NS} day(s)"
    if span % HOUR_NS == 0:
        return f"{span // HOUR_NS} hour(s)"
    if span % (60 * 10**9) == 0:
        return f"{span // (60 * 10**9)} minutes"
    return f"{span / 1e9:.0f} seconds"


def _duration(ns: int) -> str:
    seconds = ns / 1e9
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _clock(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _group_text(by: tuple[str, ...], key: tuple[Any, ...]) -> str:
    return ", ".join(f"{name} {value}" for name, value in zip(by, key, strict=True))


def _mix(acts: list[Act]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for act in acts:
        counts[str(act.get("action"))] += 1
    return ", ".join(f"{n} {a}" for a, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _describe(act: Act) -> str:
    what = act.get("action") or "event"
    target = " ".join(str(x) for x in (act.get("resource_type"), act.get("resource_id")) if x)
    who = act.get("actor_id") or "an unknown actor"
    place = f" from {act.get('source_ip')}" if act.get("source_ip") else ""
    streams = sorted({e.stream_id for e in act.events})
    return (
        f"{what}{' of ' + target if target else ''} by {who}{place} at {_clock(act.time_ns)} UTC, "
        f"recorded by {len(act.events)} witness(es) in {', '.join(streams)}"
    )


def _finding(
    rule: Rule,
    acts: list[Act],
    explanation: str,
    *,
    severity: str | None = None,
    score: float | None = None,
    actor: Any = None,
) -> Finding:
    events = sorted(
        {(e.time_ns, e.ord or 0): e for a in acts for e in a.events}.values(),
        key=lambda e: (e.time_ns, e.ord or 0),
    )
    actors = {a.get("actor_id") for a in acts} - {None}
    if actor is None and len(actors) == 1:
        actor = next(iter(actors))
    return Finding(
        rule=rule.id,
        title=rule.title,
        severity=severity or rule.level,
        actor_id=None if actor is None else str(actor),
        time_first_ns=events[0].time_ns if events else 0,
        time_last_ns=events[-1].time_ns if events else 0,
        explanation=explanation,
        events=tuple(events),
        score=score,
        source=rule.path,
    )


def _digest(rules: list[Rule]) -> str:
    h = hashlib.sha256()
    for path in sorted({r.path for r in rules}):
        h.update(path.encode() + b"\0" + hashlib.sha256(Path(path).read_bytes()).digest())
    return "sha256:" + h.hexdigest()


def run(
    case: Case,
    rule_folders: list[Path] | None = None,
    *,
    token: CancelToken | None = None,
    keep: bool = True,
) -> Generator[Progress, None, DetectReport]:
    """Run the rules (the shipped ones, or ``rule_folders``) over the case; store the findings.

    Args:
        case: the open case (writable when ``keep``).
        rule_folders: folders of rule files; default: the shipped rules.
        token: cancels between rules and interrupts a running query.
        keep: store the findings in the case (``detections``); False only reports them.

    Returns:
        The report, findings worst first.
    """
    token = token or CancelToken()
    token.on_cancel(case.db.interrupt)
    rules = load_rules(rule_folders or [rules_dir()])
    yield Progress("detecting", 0, len(rules), "rules", "ordering the timeline")
    queries.refresh_order(case)
    token.check()
    actions = corroboration.build_witnesses(case)
    engine = _Run(case, rules)
    referenced: dict[str, bool] = {}
    for rule in rules:
        if rule.correlation is not None:
            for ref in rule.correlation.rules:
                target = engine.by_ref[ref].id
                referenced[target] = referenced.get(target, False) or rule.generate
    engine.prefetch(
        [r for r in rules if r.correlation is None and referenced.get(r.id, True)]
        + [engine.by_ref[ref] for r in rules for ref in _whole_rules(r)]
    )
    found: list[Finding] = []
    plain: list[Finding] = []
    for done, rule in enumerate(rules):
        token.check()
        yield Progress("detecting", done, len(rules), "rules", rule.title)
        if rule.correlation is not None:
            found += engine.correlate(rule)
        elif referenced.get(rule.id, True):
            plain += engine.plain(rule)
    token.check()
    result = ordered(found + _one_per_action(plain))
    if keep:
        store(case, result)
    counts: dict[str, int] = defaultdict(int)
    for f in result:
        counts[f.severity] += 1
    yield Progress("detecting", len(rules), len(rules), "rules", "done")
    return DetectReport(len(rules), result, actions, _digest(rules), dict(counts))
