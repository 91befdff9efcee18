"""The compliance lens: what the evidence holds of each framework's audit requirements.

The requirements and their sources are in docs/compliance.md; this module holds them as data
(:data:`FRAMEWORKS`) and checks each against the case: an *event* requirement is met when the
case holds events of the kinds it names, a *field* requirement by the share of action records
that carry the field. Gaps of the audit trail come from verification (sequence and bundle gaps,
deletions, tampering) and from corroboration (a stream silent while others go on). GDPR
Article 33's 72 hours are counted from the first event of the worst findings of the last
detection run, the earliest moment the controller could have become aware.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditlens.core.analysis import corroboration
from auditlens.core.analysis.findings import load, severity_rank
from auditlens.core.store import queries
from auditlens.core.store.case import Case

# Event kinds, each as the normalized actions that record it (docs/compliance.md, "Event kinds").
EVENT_KINDS: dict[str, tuple[str, ...]] = {
    "login": ("LOGIN_SUCCESS", "LOGOUT"),
    "failed_login": ("LOGIN_FAILURE",),
    "privilege_change": ("ROLE_CHANGE", "PERMISSION_GRANT", "ROLE_GRANT"),
    "config_change": ("CONFIG_CHANGE",),
    "data_access": ("READ", "PLAYBACK", "DOWNLOAD", "MONITOR", "BARGE_IN"),
    "data_export": ("EXPORT", "BULK_EXPORT", "DATA_EXPORT"),
    "object_create_delete": ("CREATE", "DELETE"),
    "data_change": ("CREATE", "UPDATE", "DELETE"),
    "erasure": ("DELETE",),
    "audit_log_change": ("CONFIG_CHANGE",),
    "audit_log_access": ("AUDIT_READ", "AUDIT_EXPORT", "LOG_ACCESS"),
}
# Audit-log changes are configuration changes of an audit or logging setting.
_AUDIT_SETTING = "(resource_id ILIKE '%audit%' OR resource_id ILIKE '%log%')"

FIELDS: dict[str, tuple[str, str]] = {
    "user": ("actor_id", "who acted"),
    "event_type": ("action", "what was done"),
    "time": ("time_ns", "date and time"),
    "outcome": ("outcome", "success or failure"),
    "origin": ("source_ip", "where it came from"),
    "resource": ("resource_id", "the data, component or resource affected"),
    "component": ("service", "the system component"),
}


@dataclass(frozen=True)
class Requirement:
    """One requirement: ``ref`` in the framework, what it asks, and the kinds or fields."""

    ref: str
    text: str
    events: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


FRAMEWORKS: dict[str, tuple[Requirement, ...]] = {
    "PCI DSS v4.0 Req. 10": (
        Requirement("10.2.1.1", "individual user access to cardholder data", ("data_access",)),
        Requirement(
            "10.2.1.2",
            "actions taken with administrative access",
            ("privilege_change", "config_change"),
        ),
        Requirement("10.2.1.3", "access to audit logs", ("audit_log_access",)),
        Requirement("10.2.1.4", "invalid logical access attempts", ("failed_login",)),
        Requirement(
            "10.2.1.5",
            "changes to identification and authentication credentials, privilege elevation",
            ("privilege_change",),
        ),
        Requirement(
            "10.2.1.6", "initialising, stopping or pausing the audit logs", ("audit_log_change",)
        ),
        Requirement(
            "10.2.1.7", "creation and deletion of system-level objects", ("object_create_delete",)
        ),
        Requirement(
            "10.2.2",
            "per event: user, type, date and time, outcome, origin, affected resource",
            fields=("user", "event_type", "time", "outcome", "origin", "resource"),
        ),
    ),
    "SOC 2 (TSC 2017) CC6/CC7": (
        Requirement("CC6.1", "logical access: logins and failed logins", ("login", "failed_login")),
        Requirement("CC6.2/CC6.3", "granting, changing and removing access", ("privilege_change",)),
        Requirement(
            "CC7.2",
            "monitoring for anomalies: changes to configuration and audit settings",
            ("config_change", "audit_log_change"),
        ),
        Requirement(
            "CC7.2 (records)",
            "records that say who, what, when, where and with what result",
            fields=("user", "event_type", "time", "origin", "outcome"),
        ),
    ),
    "ISO/IEC 27001:2013 A.12.4": (
        Requirement(
            "A.12.4.1",
            "event logs of user activities, exceptions, faults and security events",
            ("login", "failed_login", "data_access", "data_change"),
        ),
        Requirement(
            "A.12.4.1 (content)",
            "user IDs, dates, times, key events, device identity or location",
            fields=("user", "time", "event_type", "origin", "component"),
        ),
        Requirement(
            "A.12.4.2",
            "log information protected against tampering (sealed, verified evidence)",
            (),
        ),
        Requirement(
            "A.12.4.3",
            "administrator and operator activities logged",
            ("privilege_change", "config_change"),
        ),
        Requirement("A.12.4.4", "clocks synchronised (no clock-skew findings)", ()),
    ),
    "HIPAA 45 CFR 164.312(b)": (
        Requirement(
            "164.312(b)",
            "activity in systems holding protected information is recorded and can be examined",
            ("login", "data_access", "data_change", "data_export"),
        ),
        Requirement(
            "164.312(b) (records)",
            "each record names the user, the action, the time and the record touched",
            fields=("user", "event_type", "time", "resource"),
        ),
    ),
    "GDPR Art. 30": (
        Requirement(
            "30(1)(d)", "recipients and disclosures of personal data (exports)", ("data_export",)
        ),
        Requirement(
            "30(1)(f)",
            "time limits for erasure: deletions and retention settings",
            ("erasure", "config_change"),
        ),
        Requirement(
            "30(1)(g)", "security measures: access to personal data is recorded", ("data_access",)
        ),
    ),
    "GDPR Art. 33": (
        Requirement(
            "33(1)", "breach notified within 72 hours of awareness (see the window below)", ()
        ),
        Requirement(
            "33(3)/(5)",
            "the breach documented: nature, records concerned, consequences",
            fields=("user", "event_type", "time", "resource"),
        ),
    ),
}

GDPR_WINDOW_NS = 72 * 3600 * 10**9
_GAP_CODES = ("SEQUENCE_GAP", "BUNDLE_GAP", "RECORD_DELETED", "TRUNCATED", "BUNDLE_ROLLBACK")


@dataclass(frozen=True)
class Check:
    """One requirement checked: ``status`` is held, partial, missing or not_checkable."""

    ref: str
    text: str
    status: str
    detail: str


@dataclass(frozen=True)
class Report:
    """The compliance lens over a case."""

    frameworks: dict[str, list[Check]]
    gaps: list[str]
    fields: dict[str, float]
    window: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        return {
            "frameworks": [
                {"framework": name, "requirements": [c.__dict__ for c in checks]}
                for name, checks in self.frameworks.items()
            ],
            "fields": self.fields,
            "gaps": self.gaps,
            "gdpr_art33": self.window,
        }


def assess(case: Case, *, as_of_ns: int | None = None) -> Report:
    """Check every framework's requirements against the case.

    Args:
        case: the open case.
        as_of_ns: the moment the 72-hour window is measured at (default: now).
    """
    queries.refresh_order(case)
    db = case.db
    counts = {
        str(a): int(n)
        for a, n in db.execute(
            "SELECT action, count(*) FROM events WHERE action IS NOT NULL GROUP BY 1"
        ).fetchall()
    }
    audit_changes = int(
        case.scalar(
            f"SELECT count(*) FROM events WHERE action = 'CONFIG_CHANGE' AND {_AUDIT_SETTING}"  # noqa: S608
        )
        or 0
    )
    total = sum(counts.values())
    coverage: dict[str, float] = {}
    for name, (column, _) in FIELDS.items():
        held = int(
            case.scalar(
                f"SELECT count({column}) FROM events WHERE action IS NOT NULL"  # noqa: S608
            )
            or 0
        )
        coverage[name] = held / total if total else 0.0
    verdicts = dict(db.execute("SELECT verdict, count(*) FROM bundles GROUP BY 1").fetchall())
    unsealed = int(case.scalar("SELECT count(*) FROM events WHERE integrity = 'unsealed'") or 0)
    skew = int(case.scalar("SELECT count(*) FROM findings WHERE code = 'CLOCK_SKEW'") or 0)
    gaps = _gaps(case)

    def kind_count(kind: str) -> int:
        if kind == "audit_log_change":
            return audit_changes
        return sum(counts.get(a, 0) for a in EVENT_KINDS[kind])

    frameworks: dict[str, list[Check]] = {}
    for name, requirements in FRAMEWORKS.items():
        checks: list[Check] = []
        for req in requirements:
            if req.events:
                found = {k: kind_count(k) for k in req.events}
                missing = [k for k, n in found.items() if n == 0]
                status = (
                    "missing" if len(missing) == len(found) else "partial" if missing else "held"
                )
                detail = ", ".join(f"{k}: {n:,}" for k, n in found.items())
            elif req.fields:
                shares = {f: coverage[f] for f in req.fields}
                low = [f for f, s in shares.items() if s < 0.99]
                status = (
                    "held"
                    if not low
                    else "missing"
                    if all(shares[f] == 0 for f in low)
                    else "partial"
                )
                detail = ", ".join(f"{f} ({FIELDS[f][0]}) {s:.0%}" for f, s in shares.items())
            elif req.ref == "A.12.4.2":
                tampered = int(verdicts.get("tampered", 0))
                status = "held" if not tampered and not unsealed and verdicts else "partial"
                detail = f"bundles {dict(verdicts)}; unsealed events {unsealed:,}"
            elif req.ref == "A.12.4.4":
                status = "held" if not skew else "partial"
                detail = f"{skew} clock-skew finding(s)"
            else:
                status, detail = "not_checkable", "see the GDPR Art. 33 window"
            checks.append(Check(req.ref, req.text, status, detail))
        frameworks[name] = checks
    return Report(frameworks, gaps, coverage, _window(case, as_of_ns))


def _gaps(case: Case) -> list[str]:
    out = [
        f"{code} in stream {stream} at seq {seq}: {message}"
        for code, stream, seq, message in case.db.execute(
            "SELECT code, stream_id, seq, message FROM findings WHERE list_contains(?, code) "
            "ORDER BY stream_id, seq",
            [list(_GAP_CODES)],
        ).fetchall()
    ]
    corroboration.build_witnesses(case)
    for silence in corroboration.stream_silences(case):
        out.append(
            f"{queries.format_time(silence.time_first_ns)} .. "
            f"{queries.format_time(silence.time_last_ns)}: {silence.explanation}"
        )
    return out


def _window(case: Case, as_of_ns: int | None) -> dict[str, Any]:
    found = [f for f in load(case) if severity_rank(f.severity) >= 3]
    if not found:
        return {"status": "no high or critical finding (run 'auditlens detect' first)"}
    first = min(f.time_first_ns for f in found)
    now = as_of_ns if as_of_ns is not None else int(datetime.now(UTC).timestamp() * 1e9)
    elapsed_h = (now - first) / 3.6e12
    return {
        "first_incident_event": queries.format_time(first),
        "deadline": queries.format_time(first + GDPR_WINDOW_NS),
        "as_of": queries.format_time(now),
        "hours_elapsed": round(elapsed_h, 1),
        "hours_left": round(72 - elapsed_h, 1),
        "status": "within 72 hours" if elapsed_h <= 72 else "past 72 hours",
        "note": "counted from the first event of the high and critical findings: the earliest "
        "moment of awareness; the window runs from when the controller became aware",
    }


def render(report: Report) -> list[str]:
    """The report as lines of text."""
    lines: list[str] = []
    for name, checks in report.frameworks.items():
        lines.append(name)
        for c in checks:
            lines.append(f"  [{c.status.upper():13}] {c.ref}: {c.text}")
            lines.append(f"                  {c.detail}")
    lines.append("Audit trail gaps:")
    lines += [f"  {g}" for g in report.gaps] or ["  none found"]
    lines.append("GDPR Art. 33 window:")
    lines += [f"  {k}: {v}" for k, v in report.window.items()]
    return lines
