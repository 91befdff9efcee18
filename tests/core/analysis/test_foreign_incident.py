"""An incident in evidence this project did not generate: audit JSON alone, no traces.

A week of a hand-written tenant (``northwind``, June 2026, its own actors, addresses and hours);
on the fifth night a quality lead, ``u-ravel``, logs in from a hotel network, makes itself an
administrator, downloads sixteen recordings, switches the audit sink off, exports the contacts
and deletes a recording. Every step must be found at medium or above, and the ordinary week
must raise nothing above low.
"""

from __future__ import annotations

import pytest
from analysis_evidence import DAY, HOUR, MINUTE, MONDAY, SECOND, Evidence, findings

from auditlens.core.analysis.findings import Finding, severity_rank

NIGHT = MONDAY + 4 * DAY + 22 * HOUR + 50 * MINUTE  # Friday 22:50 UTC
HOTEL = "192.0.2.201"


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    ev = Evidence()
    staff = [("u-ravel", 10), ("u-sato", 11), ("u-mbeki", 12), ("u-lund", 13), ("u-ortiz", 14)]
    for actor, host in staff:
        ev.routine(actor, range(5), range(8, 17), f"10.77.4.{host}", per_hour=3)
    # Ordinary work that the rules must leave at low: a playback or two, an export, a deletion.
    ev.record(MONDAY + DAY + 11 * HOUR, "u-sato", "PLAYBACK", "recording", "rec-a1", "10.77.4.11")
    ev.record(
        MONDAY + 2 * DAY + 14 * HOUR,
        "u-mbeki",
        "EXPORT",
        "contact",
        "export-q2",
        "10.77.4.12",
        level="WARN",
    )
    ev.record(
        MONDAY + 3 * DAY + 9 * HOUR,
        "u-lund",
        "DELETE",
        "recording",
        "rec-old",
        "10.77.4.13",
        level="WARN",
    )

    t = NIGHT
    ev.record(t, "u-ravel", "LOGIN_SUCCESS", "session", "s-night", HOTEL)
    t += 3 * MINUTE
    ev.record(
        t,
        "u-ravel",
        "ROLE_CHANGE",
        "user",
        "u-ravel",
        HOTEL,
        level="WARN",
        updated={"roles": ["qa-lead", "admin"], "previous_roles": ["qa-lead"]},
    )
    for k in range(16):
        t += 20 * SECOND
        ev.record(t, "u-ravel", "DOWNLOAD", "recording", f"rec-n{k:02d}", HOTEL)
    t += 2 * MINUTE
    ev.record(
        t,
        "u-ravel",
        "CONFIG_CHANGE",
        "config",
        "northwind/logging.audit_sink",
        HOTEL,
        level="WARN",
        updated={"value": "off", "previous_value": "on"},
    )
    t += 4 * MINUTE
    ev.record(
        t,
        "u-ravel",
        "EXPORT",
        "contact",
        "export-all",
        HOTEL,
        level="WARN",
        updated={"rows": 182_000},
    )
    t += MINUTE
    ev.record(t, "u-ravel", "DELETE", "recording", "rec-n00", HOTEL, level="WARN")
    return findings(ev.case(tmp_path_factory.mktemp("foreign")))


def loud(found: list[Finding]) -> list[Finding]:
    return [f for f in found if severity_rank(f.severity) >= severity_rank("medium")]


def test_every_step_is_found_at_medium_or_above(found: list[Finding]) -> None:
    rules = {f.rule for f in loud(found) if f.actor_id == "u-ravel"}
    assert {
        "login-new-address",
        "role-self-grant",
        "role-grant-then-use",
        "mass-recording-access",
        "audit-disabled",
        "off-hours-activity",
    } <= rules
    night = next(f for f in found if f.rule == "off-hours-activity")
    # the whole night, the export and the deletion included, is one finding
    assert len(night.events) == 21 and night.time_first_ns == NIGHT
    assert "EXPORT" in night.explanation and "DELETE" in night.explanation


def test_the_ordinary_week_raises_nothing_above_low(found: list[Finding]) -> None:
    assert [f.rule for f in loud(found) if f.time_last_ns < NIGHT] == []
    assert {f.actor_id for f in loud(found)} == {"u-ravel"}
