"""Fluent Bit's file output as evidence: the platform's pod logs as its shipper keeps them.

How the files here are made, as Fluent Bit writes them: the tail input reads
``/var/log/containers/*.log`` with the CRI parser (keys ``time``, ``stream``, ``_p``, ``log``),
the Kubernetes filter adds ``kubernetes`` (``pod_name``, ``namespace_name``, ``pod_id``,
``labels``, ``annotations``, ``host``, ``container_name``, ``docker_id``, ``container_hash``,
``container_image``), and the file output writes, by its ``Format``: ``out_file`` (the default)
``TAG: [SECONDS.NANOSECONDS, {record}]``; ``plain`` the record's JSON alone; Fluent Bit's
``json_lines`` form adds ``date`` (seconds, a double); ``msgpack`` its event stream as it is,
``[[EventTime, {metadata}], {record}]`` per event (Fluent Bit 2.1 and later). With the filter's
``Merge_Log On`` the container's JSON line is also merged into the record's top level.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.base import take_sample
from auditlens.core.formats.registry import read_records, recognise
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.resources import profiles_dir
from auditlens.core.store.normalize import Normalizer, load_profiles

NORMALIZER = Normalizer(load_profiles([profiles_dir()]))
TAG = "kube.var.log.containers.audit-logger-6d5f8b7c9-q2kxv_cc-prod_audit-logger-4f3a9c2e7b1d.log"
AUDIT = {
    "timestamp": "2026-03-02T00:04:28.015Z",
    "user_id": "sup-004",
    "user_name": "Rui Costa",
    "action": "DOWNLOAD",
    "resource": "recording",
    "resource_id": "rec-7",
    "source_ip_address": "10.20.3.4",
    "attributes": {"service": "recording-service", "tenantId": "acme", "updated_data": None},
    "type": "audit_logging",
    "level": "INFO",
}
KUBERNETES = {
    "pod_name": "audit-logger-6d5f8b7c9-q2kxv",
    "namespace_name": "cc-prod",
    "pod_id": "0c6f1e7a-4b2d-4e8f-9a1c-3d5b7e9f2a4c",
    "labels": {"app": "audit-logger", "pod-template-hash": "6d5f8b7c9"},
    "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-03-01T22:00:00Z"},
    "host": "cc-node-3",
    "container_name": "audit-logger",
    "docker_id": "4f3a9c2e7b1d8f6a0e5c3b9d7a2f1e8c6b4d0a9f3e7c5b1d8a6f2e0c4b9d7a3f",
    "container_hash": "registry.cc.example/audit-logger@sha256:" + "ab" * 32,
    "container_image": "registry.cc.example/audit-logger:9.3.0",
}


def record(log: str, time: str = "2026-03-02T00:04:28.017123456Z") -> dict:
    return {"time": time, "stream": "stdout", "_p": "F", "log": log, "kubernetes": KUBERNETES}


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def test_the_default_out_file_form(tmp_path: Path) -> None:
    path = tmp_path / "fluent-bit" / TAG
    path.parent.mkdir()
    audit_text = json.dumps(AUDIT)
    path.write_text(
        f"{TAG}: [1772409868.017123456, {compact(record(audit_text))}]\n"
        f"{TAG}: [1772409868.500000000, "
        f"{compact(record('GET /healthz 200', '2026-03-02T00:04:28.5Z'))}]\n"
    )
    assert recognise(take_sample(path.open("rb"), str(path))).name == "fluentbit-file"
    audit, text = (NORMALIZER.row(r.line) for r in read_records(path))
    assert (audit["kind"], audit["actor_id"], audit["action"], audit["resource_id"]) == (
        "audit",
        "sup-004",
        "DOWNLOAD",
        "rec-7",
    )
    assert audit["time_ns"] == parse_time_ns("2026-03-02T00:04:28.015Z")
    assert audit["observed_ns"] == parse_time_ns("2026-03-02T00:04:28.017123456Z")
    attributes = json.loads(audit["attributes"])
    assert attributes["k8s.pod.name"] == "audit-logger-6d5f8b7c9-q2kxv"
    assert attributes["k8s.namespace.name"] == "cc-prod"
    assert attributes["k8s.node.name"] == "cc-node-3"
    assert attributes["k8s.pod.label.app"] == "audit-logger"
    assert attributes["container.image.name"] == "registry.cc.example/audit-logger:9.3.0"
    assert attributes["log.iostream"] == "stdout"
    assert (text["kind"], text["body"]) == ("log", "GET /healthz 200")
    assert text["time_ns"] == parse_time_ns("2026-03-02T00:04:28.5Z")


def test_plain_and_json_lines_forms(tmp_path: Path) -> None:
    path = tmp_path / "plain.log"
    path.write_text(compact(record(json.dumps(AUDIT))) + "\n")
    assert recognise(take_sample(path.open("rb"), str(path))).name == "fluentbit-json"
    (row,) = (NORMALIZER.row(r.line) for r in read_records(path))
    assert (row["action"], row["observed_ns"]) == (
        "DOWNLOAD",
        parse_time_ns("2026-03-02T00:04:28.017123456Z"),
    )
    # json_lines: the output's time as "date" (seconds, a double) and no runtime time.
    lines = {"date": 1772409868.017123, "log": "disk 91% full", "kubernetes": KUBERNETES}
    path.write_text(compact(lines) + "\n")
    (row,) = (NORMALIZER.row(r.line) for r in read_records(path))
    assert (row["kind"], row["body"]) == ("log", "disk 91% full")
    assert row["time_ns"] == parse_time_ns("2026-03-02T00:04:28.017123Z")


def test_merge_log_puts_the_audit_record_beside_the_pod(tmp_path: Path) -> None:
    merged = {**record(json.dumps(AUDIT)), **AUDIT}
    path = tmp_path / "merged.log"
    path.write_text(compact(merged) + "\n")
    (row,) = (NORMALIZER.row(r.line) for r in read_records(path))
    assert (row["kind"], row["action"], row["actor_id"]) == ("audit", "DOWNLOAD", "sup-004")
    assert json.loads(row["attributes"])["k8s.pod.name"] == "audit-logger-6d5f8b7c9-q2kxv"


def test_a_record_without_any_time_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "plain.log"
    path.write_text(
        compact(record("first")) + "\n" + compact({"log": "x", "kubernetes": KUBERNETES}) + "\n"
    )
    with pytest.raises(InvalidInputError, match="has no time") as refused:
        list(read_records(path))
    assert refused.value.line == 2


def event_time(seconds: int, nanos: int) -> msgspec.msgpack.Ext:
    return msgspec.msgpack.Ext(0, seconds.to_bytes(4, "big") + nanos.to_bytes(4, "big"))


def test_the_msgpack_form(tmp_path: Path) -> None:
    # Fluent Bit 2.1+ writes [[EventTime, {metadata}], {record}]; earlier [EventTime, {record}].
    first = [[event_time(1772409868, 17123456), {}], record(json.dumps(AUDIT))]
    second = [event_time(1772409869, 0), {"log": "disk 91% full", "kubernetes": KUBERNETES}]
    data = msgspec.msgpack.encode(first) + msgspec.msgpack.encode(second)
    path = tmp_path / "out.msgpack"
    path.write_bytes(data)
    assert recognise(take_sample(path.open("rb"), str(path))).name == "fluentbit-msgpack"
    records = list(read_records(path))
    assert [r.origin for r in records] == [0, len(msgspec.msgpack.encode(first))]
    audit, text = (NORMALIZER.row(r.line) for r in records)
    assert (audit["action"], audit["observed_ns"]) == (
        "DOWNLOAD",
        parse_time_ns("2026-03-02T00:04:28.017123456Z"),
    )
    assert json.loads(audit["attributes"])["k8s.pod.label.app"] == "audit-logger"
    assert (text["body"], text["time_ns"]) == ("disk 91% full", 1772409869 * 10**9)
    # Cut inside the second event: refused at its offset.
    path.write_bytes(data[:-3])
    with pytest.raises(InvalidInputError, match="ends inside an event") as refused:
        list(read_records(path))
    assert refused.value.offset == len(msgspec.msgpack.encode(first))


def test_a_msgpack_map_giving_a_key_twice_is_refused(tmp_path: Path) -> None:
    # {"log": "a", "log": "b"} written by hand: a map of two pairs with the same key.
    body = b"\x82" + msgspec.msgpack.encode("log") + msgspec.msgpack.encode("a")
    body += msgspec.msgpack.encode("log") + msgspec.msgpack.encode("b")
    path = tmp_path / "dup.msgpack"
    path.write_bytes(b"\x92" + msgspec.msgpack.encode(event_time(1772409868, 0)) + body)
    with pytest.raises(InvalidInputError, match="gives a key twice") as refused:
        list(read_records(path))
    assert refused.value.offset == 0


def _read_events(data: bytes, *, fast: bool, monkeypatch: pytest.MonkeyPatch) -> object:
    """Every (offset, event) of ``data``, or the refusal, read with or without the fast path."""
    import io

    from auditlens.core.formats import fluentbit_msgpack

    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(fluentbit_msgpack, "_fast_event", lambda _buffer, _at: None)
        try:
            return repr(list(fluentbit_msgpack._events(io.BytesIO(data), "in.msgpack")))
        except InvalidInputError as exc:
            return exc.diagnostics()


_EVENTS = [
    msgspec.msgpack.encode([[event_time(1772409868, 17123456), {}], record(json.dumps(AUDIT))]),
    msgspec.msgpack.encode([event_time(1772409869, 5), {"log": "disk full", "n": [1, 2.5]}]),
    msgspec.msgpack.encode([1772409870, {"log": "old form", "kubernetes": KUBERNETES}]),
    msgspec.msgpack.encode([[event_time(1, 2), {"t": event_time(3, 4)}], {"log": "two times"}]),
    b"\x92" + msgspec.msgpack.encode(event_time(1772409868, 0)) + b"\x82\xa3log\xa1a\xa3log\xa1b",
    msgspec.msgpack.encode([1.5, {"log": "x", "ext": msgspec.msgpack.Ext(3, b"ab")}]),
]


@pytest.mark.parametrize("index", range(len(_EVENTS)))
def test_the_fast_msgpack_reading_agrees_with_the_careful_one(
    index: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each event alone, after a good one, and cut short: the same events or the same refusal.
    for data in (_EVENTS[index], _EVENTS[0] + _EVENTS[index], (_EVENTS[0] + _EVENTS[index])[:-2]):
        assert _read_events(data, fast=True, monkeypatch=monkeypatch) == _read_events(
            data, fast=False, monkeypatch=monkeypatch
        )


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(_EVENTS[0]) + len(_EVENTS[1]) - 1), st.binary(min_size=1, max_size=3))
def test_the_fast_msgpack_reading_agrees_on_mutated_events(at: int, patch: bytes) -> None:
    data = _EVENTS[0] + _EVENTS[1]
    data = data[:at] + patch + data[at + len(patch) :]
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert _read_events(data, fast=True, monkeypatch=monkeypatch) == _read_events(
            data, fast=False, monkeypatch=monkeypatch
        )


def test_fluent_bits_own_events_take_the_fast_path() -> None:
    from auditlens.core.formats.fluentbit_msgpack import _fast_event

    data = _EVENTS[0] + _EVENTS[1] + _EVENTS[2]
    first = _fast_event(data, 0)
    second = _fast_event(data, len(_EVENTS[0]))
    assert first is not None and second is not None
    assert first[0] == len(_EVENTS[0])
    assert first[1][0][0] == (1772409868, 17123456)
    assert second[1][0] == (1772409869, 5)
    assert _fast_event(data, len(_EVENTS[0]) + len(_EVENTS[1])) is not None
