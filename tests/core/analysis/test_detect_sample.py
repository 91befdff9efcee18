"""On the shipped sample, every step of the planted incident is found, nothing else above low."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from analysis_evidence import findings

from auditlens.core.analysis.findings import Finding, severity_rank
from auditlens.core.sample import generate_raw


def ns(text: str) -> int:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


@pytest.fixture(scope="module")
def detected(sample_case: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    folder = tmp_path_factory.mktemp("detect-sample") / "case"
    shutil.copytree(sample_case, folder)
    return findings(folder)


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # The shipped sample is `auditlens sample --records 6000 --days 3 --seed 7` (Makefile).
    return generate_raw(tmp_path_factory.mktemp("facts"), records=6000, days=3, seed=7).incident


def covering(found: list[Finding], rule: str, t: int, slack: int = 2_000_000) -> Finding:
    """The finding of ``rule`` with an event at ``t`` (audit times are milliseconds)."""
    for f in found:
        if f.rule == rule and any(abs(e.time_ns - t) <= slack for e in f.events):
            return f
    raise AssertionError(f"no {rule} finding holds an event at {t}")


def test_every_step_of_the_planted_incident_is_found(
    detected: list[Finding], incident: dict[str, str]
) -> None:
    actor = incident["actor_id"]
    night_start, night_end = ns(incident["night_start"]), ns(incident["night_end"])
    # 1. the failed login from the new address
    assert covering(detected, "failed-login-new-address", night_start).actor_id == actor
    # 2. the login from the new address, on a network no one used
    login = next(f for f in detected if f.rule == "login-new-address" and f.actor_id == actor)
    assert login.severity == "medium" and incident["new_ip"] in login.explanation
    # 3. the self-granted admin role, used at once
    assert covering(detected, "role-self-grant", ns(incident["role_change_at"])).severity == "high"
    assert covering(detected, "role-grant-then-use", ns(incident["role_change_at"]))
    # 4. every download, audited or not, in one mass-access finding
    mass = [f for f in detected if f.rule == "mass-recording-access"]
    assert [f.actor_id for f in mass] == [actor]
    downloads = {e.time_ns for e in mass[0].events}
    assert len(mass[0].events) >= 2 * int(incident["downloads"])
    # 5. the audit sink disabled, and re-enabled
    assert covering(detected, "audit-disabled", ns(incident["silent_start"])).severity == "high"
    assert covering(detected, "audit-config-change", ns(incident["silent_end"]))
    # 6. the audit stream's silence, with its bounds
    silence = [f for f in detected if f.rule == "audit-stream-silence"]
    assert len(silence) == 1
    assert abs(silence[0].time_first_ns - ns(incident["silent_start"])) < 2_000_000
    assert abs(silence[0].time_last_ns - ns(incident["silent_end"])) < 2_000_000
    # 7. the export and the downloads the audit stream lacks
    missing = covering(detected, "missing-witness", ns(incident["export_at"]), 60 * 10**9)
    assert missing.severity == "high" and missing.actor_id == actor
    unaudited = int(incident["downloads"]) - int(incident["downloads_audited"])
    assert f"{unaudited} DOWNLOAD, 1 EXPORT" in missing.explanation
    assert covering(detected, "data-export", ns(incident["export_at"]), 90 * 10**9)
    # 8. the whole night, logout included, at hours the actor never works
    night = covering(detected, "off-hours-activity", night_end)
    assert night.actor_id == actor and night.time_first_ns <= night_start + 2_000_000
    assert downloads <= {e.time_ns for e in night.events}


def test_nothing_outside_the_incident_is_above_low(
    detected: list[Finding], incident: dict[str, str]
) -> None:
    start, end = ns(incident["night_start"]), ns(incident["night_end"])
    loud = [f for f in detected if severity_rank(f.severity) > severity_rank("low")]
    assert len(loud) >= 9
    outside = [
        (f.rule, f.actor_id)
        for f in loud
        if f.time_last_ns < start - 2_000_000 or f.time_first_ns > end + 2_000_000
    ]
    assert outside == []
