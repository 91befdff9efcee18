"""Actor swimlanes from aggregate queries: ticks per bucket, sessions and address changes.

Each test writes its own events and derives the expected marks from them (never from the
query layer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditlens.core.store import lanes
from auditlens.core.store.case import Case
from auditlens.core.store.queries import refresh_order

SECOND = 1_000_000_000
T0 = 1_772_445_600_000_000_000  # 2026-03-02T10:00:00Z


def write(folder: Path, events: list[dict[str, Any]]) -> Case:
    case = Case.open(folder, create=True)
    for seq, event in enumerate(events):
        case.db.execute(
            "INSERT INTO events (time_ns, actor_id, action, source_ip, session_id, stream_id, "
            "seq, kind) VALUES (?, ?, ?, ?, ?, 's', ?, 'log')",
            [
                event["time_ns"],
                event.get("actor"),
                event.get("action"),
                event.get("ip"),
                event.get("session"),
                seq,
            ],
        )
    refresh_order(case)
    return case


def test_one_tick_per_bucket_and_notable_actions_win(tmp_path: Path) -> None:
    # Two buckets over [T0, T0 + 99 s] (width 50 s): the first has a LOGIN then a DOWNLOAD,
    # the second only VIEWs.
    events = [
        {"time_ns": T0, "actor": "a", "action": "LOGIN"},
        {"time_ns": T0 + 10 * SECOND, "actor": "a", "action": "DOWNLOAD"},
        {"time_ns": T0 + 60 * SECOND, "actor": "a", "action": "VIEW"},
        {"time_ns": T0 + 99 * SECOND, "actor": "a", "action": "VIEW"},
    ]
    with write(tmp_path / "case", events) as case:
        (lane,) = lanes.lanes(case, ["a"], buckets=2)
    assert lane.actor == "a"
    assert lane.ticks == ((T0, "DOWNLOAD"), (T0 + 60 * SECOND, "VIEW"))


def test_every_event_gets_its_own_tick_when_buckets_are_fine(tmp_path: Path) -> None:
    times = [T0 + k * 7 * SECOND for k in range(20)]
    actions = ["VIEW", "EXPORT", "UPDATE", "DELETE"]
    events = [{"time_ns": t, "actor": "a", "action": actions[k % 4]} for k, t in enumerate(times)]
    with write(tmp_path / "case", events) as case:
        (lane,) = lanes.lanes(case, ["a"], buckets=10_000)
    assert lane.ticks == tuple((t, actions[k % 4]) for k, t in enumerate(times))


def test_lanes_follow_the_order_asked_and_keep_actors_apart(tmp_path: Path) -> None:
    events = [
        {"time_ns": T0 + k * SECOND, "actor": actor, "action": f"ACT{k}"}
        for k, actor in enumerate(["a", "b", "a", "c", "b"])
    ]
    with write(tmp_path / "case", events) as case:
        result = lanes.lanes(case, ["b", "a", "nobody"], buckets=1000)
    assert [lane.actor for lane in result] == ["b", "a", "nobody"]
    expected = {
        actor: tuple((e["time_ns"], e["action"]) for e in events if e["actor"] == actor)
        for actor in ("a", "b")
    }
    assert result[0].ticks == expected["b"]
    assert result[1].ticks == expected["a"]
    assert result[2] == lanes.LaneMarks("nobody", (), (), ())


def test_sessions_span_their_first_and_last_event(tmp_path: Path) -> None:
    events = [
        {"time_ns": T0 + 5 * SECOND, "actor": "a", "session": "s1"},
        {"time_ns": T0 + 1 * SECOND, "actor": "a", "session": "s1"},
        {"time_ns": T0 + 9 * SECOND, "actor": "a", "session": "s2"},
        {"time_ns": T0 + 30 * SECOND, "actor": "a", "session": "s2"},
        {"time_ns": T0 + 40 * SECOND, "actor": "a"},  # no session
        {"time_ns": T0 + 2 * SECOND, "actor": "b", "session": "s1"},
    ]
    with write(tmp_path / "case", events) as case:
        a, b = lanes.lanes(case, ["a", "b"])
    spans: dict[tuple[str, str], list[int]] = {}
    for e in events:
        if e.get("session"):
            spans.setdefault((e["actor"], e["session"]), []).append(e["time_ns"])
    expected_a = sorted((min(v), max(v)) for (actor, _), v in spans.items() if actor == "a")
    assert list(a.sessions) == expected_a
    assert b.sessions == ((T0 + 2 * SECOND, T0 + 2 * SECOND),)


def test_address_changes_within_and_across_buckets(tmp_path: Path) -> None:
    ips = ["10.0.0.1", "10.0.0.1", None, "10.0.0.2", "10.0.0.2", "10.0.0.1"]
    events = [
        {"time_ns": T0 + k * 10 * SECOND, "actor": "a", "action": "VIEW", "ip": ip}
        for k, ip in enumerate(ips)
    ]
    # Expected from the events: each time the address differs from the last one seen.
    changes = []
    last = None
    for e in events:
        if e["ip"] is None:
            continue
        if last is not None and e["ip"] != last:
            changes.append(e["time_ns"])
        last = e["ip"]
    with write(tmp_path / "case", events) as case:
        (fine,) = lanes.lanes(case, ["a"], buckets=10_000)
        (coarse,) = lanes.lanes(case, ["a"], buckets=1)
    assert fine.address_changes == tuple(changes)
    # One bucket holding two addresses: one change, at the bucket's first address.
    assert coarse.address_changes == (T0,)


def test_an_empty_case_and_bad_buckets(tmp_path: Path) -> None:
    with write(tmp_path / "case", []) as case:
        assert lanes.lanes(case, ["a"]) == [lanes.LaneMarks("a", (), (), ())]
        assert lanes.lanes(case, []) == []
        with pytest.raises(ValueError, match="positive"):
            lanes.lanes(case, ["a"], buckets=0)
