"""Each shipped rule fires on evidence written for it and stays quiet on its near miss.

The evidence is hand-written (analysis_evidence.py): tenant ``northwind``, June 2026, the
platform's audit JSON alone unless a rule needs the roles or a second stream.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from analysis_evidence import DAY, HOUR, MINUTE, MONDAY, SECOND, Evidence, findings, of_rule


def office_week(ev: Evidence, *actors: str, days: range = range(4)) -> None:
    """Ordinary weekdays 09-16 for each actor from its own office address."""
    for n, actor in enumerate(actors):
        ev.routine(actor, days, range(9, 17), f"10.77.1.{10 + n}")


DAY4 = MONDAY + 4 * DAY


# -- logins ------------------------------------------------------------------------------------


def test_login_from_a_new_network_is_medium_and_from_the_usual_address_nothing(
    tmp_path: Path,
) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen", "u-park")
    ev.record(DAY4 + 9 * HOUR, "u-olsen", "LOGIN_SUCCESS", "session", "s-new", "192.0.2.55")
    ev.record(DAY4 + 9 * HOUR, "u-park", "LOGIN_SUCCESS", "session", "s-usual", "10.77.1.11")
    found = of_rule(findings(ev.case(tmp_path)), "login-new-address")
    assert [(f.actor_id, f.severity) for f in found] == [("u-olsen", "medium")]
    assert "192.0.2.55" in found[0].explanation
    assert "no one in the case used 192.0.2.0/24 before" in found[0].explanation


def test_a_new_address_inside_a_network_in_use_is_only_low(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen", "u-park")
    ev.record(DAY4 + 10 * HOUR, "u-olsen", "LOGIN_SUCCESS", "session", "s-vpn", "10.77.1.200")
    found = of_rule(findings(ev.case(tmp_path)), "login-new-address")
    assert [(f.actor_id, f.severity) for f in found] == [("u-olsen", "low")]


def test_failed_login_from_a_new_address_fires_and_from_the_usual_one_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen", "u-park")
    ev.record(DAY4 + 9 * HOUR, "u-olsen", "LOGIN_FAILURE", "session", "-", "192.0.2.66")
    ev.record(DAY4 + 9 * HOUR, "u-park", "LOGIN_FAILURE", "session", "-", "10.77.1.11")
    found = of_rule(findings(ev.case(tmp_path)), "failed-login-new-address")
    assert [f.actor_id for f in found] == ["u-olsen"]


def test_five_failed_logins_in_ten_minutes_are_a_burst_four_are_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen", "u-park")
    for k in range(5):
        ev.record(DAY4 + 8 * HOUR + k * MINUTE, "u-olsen", "LOGIN_FAILURE", "session", "-")
    for k in range(4):
        ev.record(
            DAY4 + 8 * HOUR + k * MINUTE, "u-park", "LOGIN_FAILURE", "session", "-", "10.77.1.11"
        )
    found = of_rule(findings(ev.case(tmp_path)), "failed-login-burst-actor")
    assert [(f.actor_id, len(f.events)) for f in found] == [("u-olsen", 5)]
    assert found[0].explanation.startswith("5 failed logins in 10 minutes by actor_id u-olsen")


def test_failed_logins_sprayed_from_one_address_fire_below_ten_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen")
    for k in range(10):
        ev.record(
            DAY4 + 2 * HOUR + k * 40 * SECOND,
            f"u-guess{k}",
            "LOGIN_FAILURE",
            "session",
            "-",
            "192.0.2.99",
        )
    for k in range(9):
        ev.record(
            DAY4 + 3 * HOUR + k * 40 * SECOND,
            f"u-try{k}",
            "LOGIN_FAILURE",
            "session",
            "-",
            "192.0.2.98",
        )
    found = of_rule(findings(ev.case(tmp_path)), "failed-login-burst-address")
    assert len(found) == 1
    assert "source_ip 192.0.2.99" in found[0].explanation
    assert len(found[0].events) == 10


# -- hours -----------------------------------------------------------------------------------


def test_actions_at_hours_never_worked_fire_and_in_office_hours_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen", "u-park", "u-quist")
    for k in range(6):
        ev.record(DAY4 + 3 * HOUR + k * 3 * MINUTE, "u-olsen", "READ", "contact", f"ct-n{k}")
        ev.record(
            DAY4 + 11 * HOUR + k * 3 * MINUTE, "u-park", "READ", "contact", f"ct-d{k}", "10.77.1.11"
        )
    found = of_rule(findings(ev.case(tmp_path)), "off-hours-activity")
    assert [(f.actor_id, f.severity, len(f.events)) for f in found] == [("u-olsen", "medium", 6)]
    assert "in hours (03) it never acted in on its 4 other active days" in found[0].explanation


# -- recordings ------------------------------------------------------------------------------


def test_mass_download_fires_and_the_same_count_spread_over_hours_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen", "u-park")
    for k in range(12):
        ev.record(
            DAY4 + 10 * HOUR + k * 30 * SECOND, "u-olsen", "DOWNLOAD", "recording", f"rec-{k:03d}"
        )
        ev.record(
            DAY4 + 9 * HOUR + k * 15 * MINUTE,
            "u-park",
            "DOWNLOAD",
            "recording",
            f"rec-p{k:03d}",
            "10.77.1.11",
        )
    found = of_rule(findings(ev.case(tmp_path)), "mass-recording-access")
    assert [(f.actor_id, f.severity, len(f.events)) for f in found] == [("u-olsen", "high", 12)]
    assert "12 recordings played or downloaded in 10 minutes" in found[0].explanation


def test_mass_download_threshold_follows_the_role_baseline(tmp_path: Path) -> None:
    # Quality reviewers of this tenant routinely play 8 recordings in ten minutes: 12 by one of
    # them is below three times the others' 99th percentile.
    ev = Evidence()
    for n, actor in enumerate(("qa-1", "qa-2", "qa-3")):
        for day in range(4):
            for k in range(8):
                ev.record(
                    MONDAY + day * DAY + 10 * HOUR + k * 60 * SECOND,
                    actor,
                    "PLAYBACK",
                    "recording",
                    f"rec-{actor}-{day}-{k}",
                    f"10.77.2.{n}",
                    log_roles=["qa"],
                )
    for k in range(12):
        ev.record(
            DAY4 + 10 * HOUR + k * 30 * SECOND,
            "qa-1",
            "PLAYBACK",
            "recording",
            f"rec-burst-{k}",
            "10.77.2.0",
            log_roles=["qa"],
        )
    assert of_rule(findings(ev.case(tmp_path)), "mass-recording-access") == []


def test_recording_deletion_fires_and_contact_deletion_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen")
    ev.record(DAY4 + 10 * HOUR, "u-olsen", "DELETE", "recording", "rec-777", level="WARN")
    ev.record(DAY4 + 11 * HOUR, "u-olsen", "DELETE", "contact", "ct-777", level="WARN")
    found = of_rule(findings(ev.case(tmp_path)), "recording-deletion")
    assert [(f.actor_id, f.severity) for f in found] == [("u-olsen", "low")]
    assert "DELETE of recording rec-777" in found[0].explanation


def test_export_fires_and_a_read_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-olsen")
    ev.record(
        DAY4 + 10 * HOUR,
        "u-olsen",
        "EXPORT",
        "contact",
        "export-9f1",
        level="WARN",
        updated={"rows": 90000},
    )
    found = of_rule(findings(ev.case(tmp_path)), "data-export")
    assert [f.actor_id for f in found] == ["u-olsen"]
    assert "export-9f1" in found[0].explanation


# -- roles -----------------------------------------------------------------------------------


def grant(ev: Evidence, t: int, actor: str, target: str, roles: list[str]) -> None:
    ev.record(
        t,
        actor,
        "ROLE_CHANGE",
        "user",
        target,
        level="WARN",
        updated={"roles": roles, "previous_roles": ["agent"]},
    )


def test_role_change_fires_and_a_user_update_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-admin", "u-bo")
    grant(ev, DAY4 + 10 * HOUR, "u-admin", "u-bo", ["agent", "team-lead"])
    ev.record(DAY4 + 11 * HOUR, "u-admin", "UPDATE", "user", "u-bo")
    found = of_rule(findings(ev.case(tmp_path)), "role-change")
    assert [(f.actor_id, f.severity) for f in found] == [("u-admin", "low")]


def test_a_self_grant_is_high_and_a_grant_to_another_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-admin", "u-bo")
    grant(ev, DAY4 + 10 * HOUR, "u-bo", "u-bo", ["agent", "team-lead"])
    grant(ev, DAY4 + 12 * HOUR, "u-admin", "u-bo", ["agent"])
    found = of_rule(findings(ev.case(tmp_path)), "role-self-grant")
    assert [(f.actor_id, f.severity) for f in found] == [("u-bo", "high")]
    # The same action's weaker rule speaks through the strongest one.
    assert "also: Role or permission changed (low)" in found[0].explanation


def test_granting_admin_fires_and_granting_team_lead_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-admin", "u-bo", "u-cy")
    grant(ev, DAY4 + 10 * HOUR, "u-admin", "u-bo", ["agent", "admin"])
    grant(ev, DAY4 + 11 * HOUR, "u-admin", "u-cy", ["agent", "team-lead"])
    found = of_rule(findings(ev.case(tmp_path)), "admin-role-grant")
    assert [(f.actor_id, f.severity) for f in found] == [("u-admin", "medium")]
    assert "u-bo" in found[0].explanation


def _clock_text(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_a_grant_used_within_minutes_fires_and_used_hours_later_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-admin", "u-bo", "u-cy")
    grant(ev, DAY4 + 10 * HOUR, "u-admin", "u-bo", ["agent", "team-lead"])
    ev.record(DAY4 + 10 * HOUR + 6 * MINUTE, "u-bo", "EXPORT", "contact", "export-1", "10.77.1.11")
    grant(ev, DAY4 + 12 * HOUR, "u-admin", "u-cy", ["agent", "team-lead"])
    ev.record(DAY4 + 15 * HOUR, "u-cy", "EXPORT", "contact", "export-2", "10.77.1.12")
    found = of_rule(findings(ev.case(tmp_path)), "role-grant-then-use")
    assert [(f.actor_id, len(f.events)) for f in found] == [("u-admin", 2)]
    assert "for user u-bo within 30 minutes" in found[0].explanation
    # Every clock time in a finding's words is labelled with its zone, as the others are.
    use = _clock_text(DAY4 + 10 * HOUR + 6 * MINUTE)
    assert found[0].explanation.endswith(f"from {use} UTC")


# -- supervision -----------------------------------------------------------------------------


def test_a_monitor_by_an_account_without_a_supervisory_role_fires(tmp_path: Path) -> None:
    ev = Evidence()
    ev.record(
        DAY4 + 10 * HOUR,
        "u-agent7",
        "MONITOR",
        "conversation",
        "conv-a1",
        audit=False,
        log_roles=["agent"],
        conversation="conv-a1",
    )
    ev.record(
        DAY4 + 11 * HOUR,
        "u-sup2",
        "MONITOR",
        "conversation",
        "conv-a2",
        audit=False,
        log_roles=["supervisor"],
        conversation="conv-a2",
    )
    found = of_rule(findings(ev.case(tmp_path)), "monitor-by-non-supervisor")
    assert [(f.actor_id, f.severity) for f in found] == [("u-agent7", "medium")]


def test_a_monitor_from_another_tenant_fires_and_from_the_agents_tenant_not(
    tmp_path: Path,
) -> None:
    ev = Evidence()
    for conv, sup, tenant in (
        ("conv-x", "u-sup-far", "contoso"),
        ("conv-y", "u-sup-near", "northwind"),
    ):
        ev.record(
            DAY4 + 10 * HOUR,
            "u-agent1",
            "UPDATE",
            "contact",
            "ct-1",
            audit=False,
            log_roles=["agent"],
            conversation=conv,
        )
        ev.record(
            DAY4 + 10 * HOUR + MINUTE,
            sup,
            "MONITOR",
            "conversation",
            conv,
            tenant=tenant,
            audit=False,
            log_roles=["supervisor"],
            conversation=conv,
        )
    found = of_rule(findings(ev.case(tmp_path)), "monitor-outside-team")
    assert [(f.actor_id, f.severity) for f in found] == [("u-sup-far", "high")]
    assert "2 different tenant values (contoso, northwind)" in found[0].explanation


# -- settings --------------------------------------------------------------------------------


def config(ev: Evidence, t: int, key: str, value: str, previous: str) -> None:
    ev.record(
        t,
        "u-admin",
        "CONFIG_CHANGE",
        "config",
        key,
        level="WARN",
        updated={"value": value, "previous_value": previous},
    )


def test_audit_setting_changes_are_medium_disabling_is_high_others_nothing(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-admin")
    config(ev, DAY4 + 10 * HOUR, "northwind/audit.level", "debug", "info")
    config(ev, DAY4 + 11 * HOUR, "northwind/audit.sink.siem", "disabled", "enabled")
    config(ev, DAY4 + 12 * HOUR, "northwind/queue.max_wait_s", "90", "60")
    found = findings(ev.case(tmp_path))
    changed = of_rule(found, "audit-config-change")
    disabled = of_rule(found, "audit-disabled")
    assert [f.severity for f in changed] == ["medium"]
    assert "audit.level" in changed[0].explanation
    assert [f.severity for f in disabled] == ["high"]
    assert "audit.sink.siem" in disabled[0].explanation
    assert not any("queue.max_wait_s" in f.explanation for f in found)


def test_retention_change_fires_and_a_queue_setting_not(tmp_path: Path) -> None:
    ev = Evidence()
    office_week(ev, "u-admin")
    config(ev, DAY4 + 10 * HOUR, "northwind/recording.retention_days", "7", "365")
    config(ev, DAY4 + 11 * HOUR, "northwind/queue.max_wait_s", "90", "60")
    found = of_rule(findings(ev.case(tmp_path)), "retention-config-change")
    assert [(f.severity, "retention_days" in f.explanation) for f in found] == [("low", True)]


# -- streams ---------------------------------------------------------------------------------


def two_streams(ev: Evidence, silent_from: int | None) -> None:
    """Four days of reads, each recorded in the audit log and as an OTLP log record; from
    ``silent_from`` on, for 40 minutes, only as OTLP log records."""
    for day in range(4):
        for k in range(60):
            t = MONDAY + day * DAY + 8 * HOUR + k * 8 * MINUTE
            silent = silent_from is not None and silent_from <= t < silent_from + 40 * MINUTE
            ev.record(
                t,
                f"u-{k % 5}",
                "READ",
                "contact",
                f"ct-{day}-{k}",
                f"10.77.1.{k % 5}",
                log_roles=["agent"],
                audit=not silent,
            )


def test_an_audit_stream_silent_while_logs_go_on_fires_and_a_quiet_night_not(
    tmp_path: Path,
) -> None:
    ev = Evidence()
    two_streams(ev, MONDAY + 2 * DAY + 12 * HOUR)
    found = findings(ev.case(tmp_path / "silent"))
    silence = of_rule(found, "audit-stream-silence")
    assert len(silence) == 1
    assert silence[0].events[0].stream_id.endswith("audit.jsonl")
    assert silence[0].severity == "high"
    missing = of_rule(found, "missing-witness")
    assert [(f.severity, len(f.events)) for f in missing] == [("high", 5)]
    assert all(e.stream_id.endswith("otel-logs.jsonl") for e in missing[0].events)

    quiet = Evidence()
    two_streams(quiet, None)
    found = findings(quiet.case(tmp_path / "quiet"))
    assert of_rule(found, "audit-stream-silence") == []
    assert of_rule(found, "missing-witness") == []
