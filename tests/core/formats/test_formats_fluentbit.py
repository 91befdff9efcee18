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
import re
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


# -- a record whose Kubernetes metadata is its predecessor's (fluentbit.read_record) ----------


def _whole(line: bytes) -> str:
    """The strict reading of ``line`` (value with every type, or the refusal), as one text."""
    from auditlens.core.formats.jsontext import strict_json_loads

    try:
        return repr(strict_json_loads(line, path="in.log", line=7, bounded_integers=True))
    except InvalidInputError as exc:
        return exc.diagnostics()


def _read(line: bytes) -> str:
    from auditlens.core.formats.fluentbit import read_record

    try:
        return repr(read_record(line, "in.log", 7))
    except InvalidInputError as exc:
        return exc.diagnostics()


FIRST = compact(record(json.dumps(AUDIT))).encode()
METADATA = compact(KUBERNETES).encode()


def with_labels(tier: str) -> bytes:
    """FIRST with ``labels.tier`` written as ``tier`` (JSON text), the rest the same bytes."""
    return FIRST.replace(b'"labels":{', b'"labels":{"tier":' + tier.encode() + b",")


# Records after FIRST: the same metadata, metadata one byte or one type apart, and records
# whose tail is FIRST's but whose whole is not FIRST's shape (each must read as read whole).
AFTER_FIRST = {
    "same record": FIRST,
    "same metadata, other text": FIRST.replace(b"DOWNLOAD", b"EXPORT"),
    "metadata one byte apart": FIRST.replace(b"cc-node-3", b"cc-node-4"),
    "kubernetes given twice": b'{"kubernetes":{},"log":"x","kubernetes":' + METADATA + b"}",
    "kubernetes given twice, last first": b'{"kubernetes":'
    + METADATA
    + b',"kubernetes":'
    + METADATA
    + b"}",
    "nothing before the metadata": b'{,"kubernetes":' + METADATA + b"}",
    "only the metadata": b'{"kubernetes":' + METADATA + b"}",
    "inside a string": b'{"log":"x' + b',"kubernetes":' + METADATA + b"}",
    "after an escaped quote": b'{"log":"x\\"' + b',"kubernetes":' + METADATA + b"}",
    "after an escaped backslash": b'{"log":"x\\\\"' + b',"kubernetes":' + METADATA + b"}",
    "inside a nested object": b'{"a":{"b":1' + b',"kubernetes":' + METADATA + b"}}",
    "after a nested object": b'{"a":{"b":1}' + b',"kubernetes":' + METADATA + b"}",
    "inside an array": b'{"a":[1' + b',"kubernetes":' + METADATA + b"]}",
    "in a document that is an array": b'[{"a":1}' + b',"kubernetes":' + METADATA + b"}",
    "whitespace before it": b'{"log":"x" \t' + b',"kubernetes":' + METADATA + b"}",
    "a duplicate key before it": b'{"log":"x","log":"y"' + b',"kubernetes":' + METADATA + b"}",
    "a long integer before it": b'{"n":' + b"1" * 41 + b',"kubernetes":' + METADATA + b"}",
    "NaN before it": b'{"n":NaN' + b',"kubernetes":' + METADATA + b"}",
    "a lone surrogate before it": b'{"log":"\\ud800"' + b',"kubernetes":' + METADATA + b"}",
    "invalid UTF-8 before it": b'{"log":"\xff"' + b',"kubernetes":' + METADATA + b"}",
    "deep nesting before it": b'{"n":'
    + b"[" * 3000
    + b"]" * 3000
    + b',"kubernetes":'
    + METADATA
    + b"}",
}


@pytest.mark.parametrize("name", AFTER_FIRST)
def test_a_record_after_one_with_its_metadata_reads_as_read_whole(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditlens.core.formats import fluentbit

    monkeypatch.setattr(fluentbit, "_last_tail", (b"\x00", {}))
    assert _read(FIRST) == _whole(FIRST)
    assert _read(AFTER_FIRST[name]) == _whole(AFTER_FIRST[name])


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("1", "true"),
        ("true", "1"),
        ("1", "1.0"),
        ("0.0", "-0.0"),
        ("0", "false"),
        ('"a"', '"\\u0061"'),
    ],
)
def test_metadata_equal_in_python_but_not_in_bytes_is_read_anew(
    first: str, second: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditlens.core.formats import fluentbit

    monkeypatch.setattr(fluentbit, "_last_tail", (b"\x00", {}))
    before = fluentbit.read_record(with_labels(first), "in.log", 1)
    after = fluentbit.read_record(with_labels(second), "in.log", 2)
    assert repr(before) == _whole(with_labels(first))
    assert repr(after) == _whole(with_labels(second))
    assert after["kubernetes"] is not before["kubernetes"]


def test_records_of_one_pod_share_one_reading_of_its_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the fast path is for: the pod log caches (formats/podlogs.py) key on this object.
    from auditlens.core.formats import fluentbit

    monkeypatch.setattr(fluentbit, "_last_tail", (b"\x00", {}))
    first = fluentbit.read_record(FIRST, "in.log", 1)
    second = fluentbit.read_record(FIRST.replace(b"DOWNLOAD", b"EXPORT"), "in.log", 2)
    assert second["kubernetes"] is first["kubernetes"]
    assert first["kubernetes"] == KUBERNETES
    assert list(second) == list(json.loads(FIRST))  # the key order as written


@settings(max_examples=400, deadline=None)
@given(
    at=st.integers(0, len(FIRST) - 1),
    patch=st.sampled_from(
        [
            b"{",
            b"}",
            b"[",
            b"]",
            b'"',
            b",",
            b":",
            b"\\",
            b" ",
            b"1",
            b"x",
            b'"kubernetes":',
            b"\xff",
        ]
    )
    | st.binary(min_size=1, max_size=3),
    replace=st.booleans(),
)
def test_read_record_agrees_with_the_whole_reading_on_mutated_records(
    at: int, patch: bytes, replace: bool
) -> None:
    from auditlens.core.formats import fluentbit

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(fluentbit, "_last_tail", (b"\x00", {}))
        changed = FIRST[:at] + patch + FIRST[at + (len(patch) if replace else 0) :]
        assert _read(FIRST) == _whole(FIRST)
        assert _read(changed) == _whole(changed)
        assert _read(FIRST) == _whole(FIRST)  # and after it, whatever it taught


def _split_out_file(data: bytes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Every record of a fluentbit-file input (line, time, value), or the refusal, as text."""
    path = tmp_path / "out.log"
    path.write_bytes(data)
    try:
        return repr([(r.line, r.time_ns, r.origin, r.value) for r in read_records(path)])
    except InvalidInputError as exc:
        return exc.diagnostics()


@settings(max_examples=300, deadline=None)
@given(
    tag=st.text(alphabet="kube.var-log_é \t:[", min_size=0, max_size=8).map(str.encode)
    | st.sampled_from([b"kube\xff", b"\xe9t\xc3"]),
    when=st.sampled_from(
        ["1772409868.017123456", "1772409868", "1772409868.5", "17724098680000", "x"]
    ),
    gap=st.sampled_from([", ", ",", ",  "]),
    end=st.sampled_from(["]", "] ", "]]", "", "}", "x", "}]"]),
)
def test_the_out_file_lines_bytes_are_cut_as_the_text_pattern_cuts_them(
    tag: bytes, when: str, gap: str, end: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from auditlens.core.formats import fluentbit

    tmp_path = tmp_path_factory.mktemp("out")
    first = f"{TAG}: [1772409868.017123456, {compact(record('first'))}]\n".encode()
    line = tag + f": [{when}{gap}{compact(record(json.dumps(AUDIT)))}{end}\n".encode()
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = _split_out_file(first + line, monkeypatch, tmp_path)
        monkeypatch.setattr(fluentbit, "_OUT_FILE_HEAD", re.compile(rb"(?!)(\S+)(\d)?(\d)?"))
        slow = _split_out_file(first + line, monkeypatch, tmp_path)
    assert fast == slow


def test_metadata_of_many_brackets_is_read_with_its_record_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The reuse's proof bounds the metadata's nesting (FAST_MAX_BRACKETS): beyond it, each
    # record is read whole, its metadata its own object.
    from auditlens.core.formats import fluentbit
    from auditlens.core.formats.jsontext import FAST_MAX_BRACKETS

    monkeypatch.setattr(fluentbit, "_last_tail", (b"\x00", {}))
    own = METADATA.count(b"{") + METADATA.count(b"[")  # with the label's brackets: the bound
    deep = with_labels("[" * (FAST_MAX_BRACKETS - own + 1) + "]" * (FAST_MAX_BRACKETS - own + 1))
    first = fluentbit.read_record(deep, "in.log", 1)
    second = fluentbit.read_record(deep, "in.log", 2)
    assert repr(second) == _whole(deep)
    assert second["kubernetes"] is not first["kubernetes"]
    shallow = with_labels("[" * (FAST_MAX_BRACKETS - own) + "]" * (FAST_MAX_BRACKETS - own))
    first = fluentbit.read_record(shallow, "in.log", 3)
    assert fluentbit.read_record(shallow, "in.log", 4)["kubernetes"] is first["kubernetes"]


# -- msgpack: an event whose record's metadata is its predecessor's --------------------------

_POD_EVENT = msgspec.msgpack.encode(
    [[event_time(1772409868, 17123456), {}], record(json.dumps(AUDIT))]
)
_KEY_AND_METADATA = msgspec.msgpack.encode("kubernetes") + msgspec.msgpack.encode(KUBERNETES)


def _pod_event(**changes: object) -> bytes:
    return msgspec.msgpack.encode(
        [[event_time(1772409869, 5), {}], {**record(json.dumps(AUDIT)), **changes}]
    )


_AFTER_POD_EVENT = {
    "same event": _POD_EVENT,
    "other text": _pod_event(log="disk 91% full"),
    "metadata one byte apart": _pod_event(kubernetes={**KUBERNETES, "host": "cc-node-4"}),
    "metadata True for 1": _pod_event(kubernetes={**KUBERNETES, "labels": {"tier": True}}),
    "metadata 1 for True": _pod_event(kubernetes={**KUBERNETES, "labels": {"tier": 1}}),
    "old form": msgspec.msgpack.encode([event_time(1772409870, 0), record("old form")]),
    "time as an integer": msgspec.msgpack.encode([1772409870, record("integer time")]),
    "metadata in the header": msgspec.msgpack.encode(
        [[event_time(1772409870, 0), {"k": 1}], record("header metadata")]
    ),
    "kubernetes given twice": b"\x92"
    + msgspec.msgpack.encode([event_time(1772409870, 0), {}])
    + b"\x83\xa3log\xa1x"
    + _KEY_AND_METADATA
    + _KEY_AND_METADATA,
    "kubernetes given twice, another value first": b"\x92"
    + msgspec.msgpack.encode([event_time(1772409870, 0), {}])
    + b"\x83"
    + msgspec.msgpack.encode("kubernetes")
    + msgspec.msgpack.encode({})
    + b"\xa3log\xa1x"
    + _KEY_AND_METADATA,
    "kubernetes given twice, once": b"\x92"
    + msgspec.msgpack.encode([event_time(1772409870, 0), {}])
    + b"\x82"
    + _KEY_AND_METADATA
    + _KEY_AND_METADATA,
    "a map of one entry": b"\x92"
    + msgspec.msgpack.encode([event_time(1772409870, 0), {}])
    + b"\x81"
    + _KEY_AND_METADATA,
    "a map counting one entry more": b"\x92"
    + msgspec.msgpack.encode([event_time(1772409870, 0), {}])
    + b"\x83\xa3log\xa1x"
    + _KEY_AND_METADATA,
    "a map counting one entry less": b"\x92"
    + msgspec.msgpack.encode([event_time(1772409870, 0), {}])
    + b"\x81\xa3log\xa1x"
    + _KEY_AND_METADATA,
    "many entries (map16)": _pod_event(**{f"k{i}": i for i in range(20)}),
    "kubernetes not last": msgspec.msgpack.encode(
        [[event_time(1772409870, 0), {}], {"kubernetes": KUBERNETES, "log": "x"}]
    ),
    "an EventTime in the record": _pod_event(t=event_time(3, 4)),
    "cut in the metadata": _POD_EVENT[:-5],
}


@pytest.mark.parametrize("name", _AFTER_POD_EVENT)
def test_an_event_after_one_with_its_metadata_reads_as_read_carefully(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditlens.core.formats import fluentbit_msgpack

    for data in (
        _POD_EVENT + _AFTER_POD_EVENT[name],
        _POD_EVENT + _AFTER_POD_EVENT[name] + _POD_EVENT,
    ):
        monkeypatch.setattr(fluentbit_msgpack, "_last_tail", (b"\x00", {}))
        assert _read_events(data, fast=True, monkeypatch=monkeypatch) == _read_events(
            data, fast=False, monkeypatch=monkeypatch
        )


def test_events_of_one_pod_share_one_reading_of_its_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from auditlens.core.formats import fluentbit_msgpack

    monkeypatch.setattr(fluentbit_msgpack, "_last_tail", (b"\x00", {}))
    data = _POD_EVENT + _pod_event(log="disk 91% full") + _POD_EVENT
    events = [event for _, event in fluentbit_msgpack._events(io.BytesIO(data), "in.msgpack")]
    assert len(events) == 3
    assert events[1][1]["kubernetes"] is events[0][1]["kubernetes"]
    assert events[2][1]["kubernetes"] is events[0][1]["kubernetes"]
    assert events[1][1]["log"] == "disk 91% full"
    assert list(events[1][1]) == list(record("x"))  # the key order as written
    assert events[1][0][0] == (1772409869, 5)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2 * len(_POD_EVENT) - 1), st.binary(min_size=1, max_size=3))
def test_the_metadata_reuse_agrees_on_mutated_events(at: int, patch: bytes) -> None:
    from auditlens.core.formats import fluentbit_msgpack

    data = _POD_EVENT + _POD_EVENT + _POD_EVENT
    data = data[:at] + patch + data[at + len(patch) :]
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(fluentbit_msgpack, "_last_tail", (b"\x00", {}))
        assert _read_events(data, fast=True, monkeypatch=monkeypatch) == _read_events(
            data, fast=False, monkeypatch=monkeypatch
        )
