"""Pod logs as evidence: CRI log files, Docker json-file logs, ``kubectl logs --timestamps``.

How the files here are made, as the tools write them:

* CRI: containerd's and CRI-O's log writer puts ``<time> <stream> <tag> <text>`` on each line,
  the time in RFC 3339 with nanoseconds (Go's ``RFC3339Nano``, trailing zeros trimmed), and cuts
  a line longer than its limit (16 KiB by default) into parts tagged ``P`` ending with one
  tagged ``F``; stdout and stderr go to the same file, interleaved. The kubelet keeps the file as
  ``/var/log/pods/<namespace>_<pod>_<pod uid>/<container>/<restart count>.log``.
* Docker's ``json-file`` driver writes ``{"log":"<text>\\n","stream":"stdout","time":"<time>"}``
  per line, and a line over 16 KiB as several entries, only the last ending in ``\\n``.
* ``kubectl logs --timestamps`` prints ``<time> <text>`` per line, parts already joined.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditlens.core.errors import InvalidInputError, UnsupportedFormatError
from auditlens.core.formats import podlogs
from auditlens.core.formats.base import SourceRecord
from auditlens.core.formats.registry import read_records
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.resources import profiles_dir
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.store.normalize import Normalizer, load_profiles
from auditlens.core.verify.trust import TrustStore
from golden.make_golden import run

NORMALIZER = Normalizer(load_profiles([profiles_dir()]))
PART = 16 * 1024  # containerd's and Docker's line limit
POD = "cc-prod_recording-7f9c4d-xk2p9_5b0c8e2a-3f1d-4c8e-9a7b-2d4f6e8a1c3b"


def audit_line(action: str, at: str, padding: int = 0) -> str:
    return json.dumps(
        {
            "timestamp": at,
            "user_id": "sup-004",
            "user_name": "Rui Costa",
            "action": action,
            "resource": "recording",
            "resource_id": "rec-7",
            "source_ip_address": "10.20.3.4",
            "attributes": {
                "service": "recording",
                "tenantId": "acme",
                "updated_data": "x" * padding,
            },
            "type": "audit_logging",
            "level": "INFO",
        }
    )


def pod_log(tmp_path: Path) -> Path:
    folder = tmp_path / "var" / "log" / "pods" / POD / "recording"
    folder.mkdir(parents=True)
    return folder / "0.log"


def cri_lines(text: str, stream: str, times: list[str]) -> list[str]:
    parts = [text[i : i + PART] for i in range(0, len(text), PART)] or [""]
    assert len(parts) == len(times)
    tags = ["P"] * (len(parts) - 1) + ["F"]
    return [f"{t} {stream} {tag} {part}" for t, tag, part in zip(times, tags, parts, strict=True)]


def entry(record: object) -> dict:
    return json.loads(record.line)  # type: ignore[attr-defined]


def assert_value_is_the_line(record: SourceRecord) -> None:
    """The value a split hands the importer is the stored line decoded, key order included."""
    assert record.value is not None
    decoded = msgspec.json.decode(record.line)
    assert msgspec.json.encode(record.value) == msgspec.json.encode(decoded)
    assert NORMALIZER.row(record.line, False, record.value) == NORMALIZER.row(record.line)


def test_the_value_of_each_entry_is_its_stored_line_decoded(tmp_path: Path) -> None:
    # Text, a JSON object that is no audit record, JSON that is not an object, an audit record
    # cut into parts, each on stdout and stderr: the importer maps the value, never the line.
    path = pod_log(tmp_path)
    at = "2026-03-02T00:04:28.017123456Z"
    lines = [
        f"{at} stderr F disk 91% full",
        f'{at} stdout F {{"level":"warn","msg":"slow query","ms":1250.5}}',
        f"{at} stdout F [1, 2]",
        f"{at} stdout F {{not json",
        *cri_lines(
            audit_line("DOWNLOAD", "2026-03-02T00:04:28.015Z", 2 * PART), "stdout", [at, at, at]
        ),
    ]
    path.write_text("\n".join(lines) + "\n")
    records = list(read_records(path))
    assert len(records) == 5
    for record in records:
        assert_value_is_the_line(record)


def test_cri_partial_lines_are_joined_with_their_final_line(tmp_path: Path) -> None:
    long = audit_line("EXPORT", "2026-03-02T00:04:27.990Z", padding=40_000)
    short = audit_line("LOGIN_SUCCESS", "2026-03-02T00:04:26.500Z")
    times = [
        "2026-03-02T00:04:28.01712Z",
        "2026-03-02T00:04:28.017123Z",
        "2026-03-02T00:04:28.0172Z",
    ]
    long_parts = cri_lines(long, "stdout", times)
    lines = [
        f"2026-03-02T00:04:26.501234567Z stdout F {short}",
        long_parts[0],
        "2026-03-02T00:04:28.01713Z stderr F WARN export of 120 recordings is large",
        long_parts[1],
        long_parts[2],
    ]
    path = pod_log(tmp_path)
    path.write_text("\n".join(lines) + "\n")
    records = list(read_records(path))
    assert [r.origin for r in records] == [1, 3, 5]
    first, warning, joined = (entry(r) for r in records)
    # The three parts, joined in order across the stderr line, kept byte for byte.
    assert joined["log"] == json.loads(long)
    assert long.encode() in records[2].line
    assert joined["time"] == "2026-03-02T00:04:28.0172Z"  # the final part's runtime time
    assert warning["log"] == "WARN export of 120 recordings is large"
    assert [e["stream"] for e in (first, warning, joined)] == ["stdout", "stderr", "stdout"]
    assert joined["kubernetes"] == {
        "namespace_name": "cc-prod",
        "pod_name": "recording-7f9c4d-xk2p9",
        "pod_id": "5b0c8e2a-3f1d-4c8e-9a7b-2d4f6e8a1c3b",
        "container_name": "recording",
        "restart_count": 0,
    }
    # The wrapped audit record is read by the existing profiles, at its own time; the
    # runtime's time is kept as the observed time, the stream and pod as attributes.
    row = NORMALIZER.row(records[2].line)
    assert (row["kind"], row["actor_id"], row["action"], row["resource_id"]) == (
        "audit",
        "sup-004",
        "EXPORT",
        "rec-7",
    )
    assert row["time_ns"] == records[2].time_ns == parse_time_ns("2026-03-02T00:04:27.990Z")
    assert row["observed_ns"] == parse_time_ns("2026-03-02T00:04:28.0172Z")
    attributes = json.loads(row["attributes"])
    assert attributes["k8s.pod.name"] == "recording-7f9c4d-xk2p9"
    assert attributes["log.iostream"] == "stdout"
    assert attributes["tenantId"] == "acme"
    text = NORMALIZER.row(records[1].line)
    assert (text["kind"], text["body"], text["action"]) == (
        "log",
        "WARN export of 120 recordings is large",
        None,
    )
    assert text["time_ns"] == records[1].time_ns == parse_time_ns("2026-03-02T00:04:28.01713Z")


def test_a_cri_file_cut_inside_an_entry_is_refused_with_the_line(tmp_path: Path) -> None:
    long = audit_line("EXPORT", "2026-03-02T00:04:27.990Z", padding=20_000)
    parts = cri_lines(long, "stdout", ["2026-03-02T00:04:28Z", "2026-03-02T00:04:28.1Z"])
    path = pod_log(tmp_path)
    path.write_text(f"2026-03-02T00:04:20Z stdout F hello\n{parts[0]}\n")
    with pytest.raises(InvalidInputError, match="ends inside an entry") as refused:
        list(read_records(path))
    assert refused.value.line == 2
    path.write_text("2026-03-02T00:04:20Z stdout F hello\n2026-03-02T99:04:20Z stdout F x\n")
    with pytest.raises(InvalidInputError, match="out of range") as refused:
        list(read_records(path))
    assert refused.value.line == 2


def test_docker_json_file_entries_are_joined_and_imported(tmp_path: Path) -> None:
    long = audit_line("DELETE", "2026-03-02T00:05:00.000Z", padding=20_000) + "\n"
    entries = [
        {"log": long[:PART], "stream": "stdout", "time": "2026-03-02T00:05:00.100000001Z"},
        {"log": long[PART:], "stream": "stdout", "time": "2026-03-02T00:05:00.100000002Z"},
        {"log": "plain text line\n", "stream": "stderr", "time": "2026-03-02T00:05:01Z"},
    ]
    folder = tmp_path / "containers" / "3f2a9c"
    folder.mkdir(parents=True)
    path = folder / "3f2a9c-json.log"
    path.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in entries))
    records = list(read_records(path))
    assert [r.origin for r in records] == [2, 3]
    stored = entry(records[0])
    assert stored["log"] == json.loads(long)
    assert "kubernetes" not in stored  # not the kubelet's layout: nothing is guessed
    assert (stored["stream"], stored["time"]) == ("stdout", "2026-03-02T00:05:00.100000002Z")
    case = tmp_path / "case"
    with Case.open(case, create=True) as opened:
        run(import_inputs(opened, [path], TrustStore()))
        found = opened.db.execute(
            "SELECT action, actor_id, body FROM events ORDER BY time_ns"
        ).fetchall()
    assert found == [("DELETE", "sup-004", None), (None, None, "plain text line")]


def test_kubectl_timestamps_output(tmp_path: Path) -> None:
    path = tmp_path / "recording.log"
    text = audit_line("UPDATE", "2026-03-02T00:06:00.000Z")
    path.write_text(
        f"2026-03-02T00:06:00.002411813Z {text}\n2026-03-02T00:06:01.5Z GET /healthz 200\n"
    )
    records = list(read_records(path))
    assert [entry(r)["log"] for r in records] == [json.loads(text), "GET /healthz 200"]
    assert [entry(r)["stream"] for r in records] == [None, None]
    row = NORMALIZER.row(records[0].line)
    assert row["action"] == "UPDATE"
    assert row["observed_ns"] == parse_time_ns("2026-03-02T00:06:00.002411813Z")
    assert "log.iostream" not in json.loads(row["attributes"])
    assert NORMALIZER.row(records[1].line)["time_ns"] == parse_time_ns("2026-03-02T00:06:01.5Z")


def test_a_line_of_another_shape_is_refused_with_its_line(tmp_path: Path) -> None:
    path = pod_log(tmp_path)
    path.write_text("2026-03-02T00:04:20Z stdout F hello\nsomething else\n")
    with pytest.raises(InvalidInputError, match="not a CRI log line") as refused:
        list(read_records(path))
    assert refused.value.line == 2
    path.write_text("hello world\n")
    with pytest.raises(UnsupportedFormatError, match="cri-log: line 1 is not") as refused:
        list(read_records(path))


def test_a_json_entry_breaking_the_rules_is_refused_not_taken_for_text(tmp_path: Path) -> None:
    path = pod_log(tmp_path)
    bad = audit_line("EXPORT", "2026-03-02T00:04:27.990Z").replace(
        '"action": "EXPORT"', '"action": "READ", "action": "EXPORT"'
    )
    path.write_text(f"2026-03-02T00:04:20Z stdout F {bad}\n")
    with pytest.raises(InvalidInputError, match="duplicate key 'action'") as refused:
        list(read_records(path))
    assert refused.value.line == 1
    # In a bundle of another sealer: flagged at import, never shown with either value.
    stored = f'{{"time": "2026-03-02T00:04:20Z", "stream": "stdout", "log": {bad}}}'
    with pytest.raises(InvalidInputError, match="duplicate key 'action'"):
        NORMALIZER.row(stored.encode())


def test_the_sample_writes_its_audit_stream_as_pod_logs_that_import_alike(tmp_path: Path) -> None:
    from auditlens.core.sample.generator import generate_raw, minimum_records, write_pod_logs

    raw = generate_raw(tmp_path / "raw", records=minimum_records(1), days=1, seed=11)
    paths = write_pod_logs(raw, tmp_path / "pods", seed=11)
    (audit_file,) = raw.streams[2].files
    audit = [NORMALIZER.row(r.line) for r in read_records(audit_file)]
    assert audit
    for record in read_records(audit_file):
        assert_value_is_the_line(record)
    for path in paths:
        records = list(read_records(path))
        for record in records:
            assert_value_is_the_line(record)
        rows = [NORMALIZER.row(r.line) for r in records]
        assert [(r["time_ns"], r["actor_id"], r["action"], r["resource_id"]) for r in rows] == [
            (r["time_ns"], r["actor_id"], r["action"], r["resource_id"]) for r in audit
        ]
        assert all(r["observed_ns"] > r["time_ns"] for r in rows)
    again = write_pod_logs(raw, tmp_path / "again", seed=11)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in paths]


def test_auditlens_sample_pod_logs_writes_them(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from auditlens.cli.main import main
    from auditlens.core.sample.generator import minimum_records

    out = tmp_path / "sample"
    code = main(
        [
            "sample",
            "--out",
            str(out),
            "--records",
            str(max(minimum_records(1), 50)),
            "--days",
            "1",
            "--pod-logs",
            "--metrics",
        ]
    )
    assert code == 0
    said = capsys.readouterr().out
    written = sorted(
        p.relative_to(out / "raw" / "pods") for p in (out / "raw" / "pods").rglob("*.*")
    )
    assert len(written) == 6
    for path in written:
        assert str(out / "raw" / "pods" / path) in said
    assert f"wrote OTLP metrics: {out / 'raw' / 'metrics' / 'metrics-2026-03-02.jsonl'}" in said


_LINE_CHARS = '0123456789-T:.Z+ \tPF:x{}"\r\n٣é'


@settings(max_examples=600, deadline=None)
@given(
    head=st.sampled_from(
        [
            "2026-03-02T00:04:28.017123456Z stdout F",
            "2026-03-02T00:04:28Z stderr P",
            "2026-03-02T00:04:28.5+01:00 stdout F:x",
            "2026-03-02T00:04:28.017123456Z",
            "2026-03-02T00:04:28.0171234567Z stdout F",
            "",
        ]
    ),
    rest=st.text(alphabet=_LINE_CHARS, max_size=30),
)
def test_the_line_heads_split_a_line_as_the_whole_line_patterns(head: str, rest: str) -> None:
    # The splits match the time, stream and tag only and take the rest as the text: the same
    # lines, cut the same way, as the whole-line patterns the formats are described by.
    line = head + rest
    for whole, start in (
        (podlogs._CRI, podlogs._CRI_HEAD),
        (podlogs._KUBECTL, podlogs._KUBECTL_HEAD),
    ):
        full = whole.fullmatch(line)
        part = start.match(line)
        assert (full is None) == (part is None)
        if full is not None and part is not None:
            assert full.groups() == (*part.groups(), line[part.end() :])


@pytest.mark.parametrize(
    ("first", "second"),
    [(1, True), (True, 1), (1, 1.0), (0.0, -0.0), (b"ab", "ab"), (0, False)],
)
def test_kubernetes_metadata_equal_in_python_but_not_in_value_is_mapped_anew(
    first: object, second: object
) -> None:
    # Two pods' metadata that Python's == calls equal (True == 1 == 1.0, 0.0 == -0.0) must each
    # keep their own values: an entry never takes its predecessor's attributes.
    before = podlogs._kubernetes_attributes({"pod_name": "audit-0", "labels": {"tier": first}})
    after = podlogs._kubernetes_attributes({"pod_name": "audit-0", "labels": {"tier": second}})
    assert type(before["k8s.pod.label.tier"]) is type(first)
    assert type(after["k8s.pod.label.tier"]) is type(second)
    assert repr(after["k8s.pod.label.tier"]) == repr(second)


def test_the_same_kubernetes_metadata_is_mapped_once() -> None:
    metadata = {"pod_name": "audit-0", "namespace_name": "cc-prod", "labels": {"app": "audit"}}
    first = podlogs._kubernetes_attributes(metadata)
    again = podlogs._kubernetes_attributes(json.loads(json.dumps(metadata)))
    assert again is first


_KEYS = st.sampled_from(["service", "tenantId", "log.iostream", "k8s.pod.name", "é", ""])
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.binary(max_size=3),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(
    own=st.dictionaries(_KEYS, _VALUES, max_size=4),
    extra=st.dictionaries(_KEYS, _VALUES, max_size=4),
    level=st.sampled_from([None, "INFO"]),
)
def test_the_shared_json_of_the_wrapping_attributes_gives_the_same_attributes(
    own: dict, extra: dict, level: str | None
) -> None:
    # audit_event writes a run's extra attributes from their JSON (podlogs._extra): the same
    # text as merging them into the record's own and encoding the whole, key order included.
    from auditlens.core.formats.audit_json import audit_event

    record: dict = {"timestamp": "2026-03-02T00:04:28.015Z", "action": "READ"}
    if own:
        record["attributes"] = own
    if level is not None:
        record["level"] = level
    merged: dict = {}
    shared: dict = {}
    audit_event(record, merged, dict(extra))
    audit_event(record, shared, extra, msgspec.json.encode(extra))
    assert shared == merged


_DOCKER_LINE = (
    b'{"log":"{\\"timestamp\\":\\"2026-03-02T00:04:28.015Z\\",\\"action\\":\\"READ\\"}\\n",'
    b'"stream":"stdout","time":"2026-03-02T00:04:28.017123456Z"}'
)
_FLUENT_BIT_RECORD = (
    b'{"time":"2026-03-02T00:04:28.017123456Z","stream":"stderr","_p":"F",'
    b'"log":"disk \\u00e9 91% full\\t\\"x\\""}'
)
_ENTRY_LINES = {
    "docker": _DOCKER_LINE,
    "fluent bit": _FLUENT_BIT_RECORD,
    "log given twice": _DOCKER_LINE.replace(b'{"log":', b'{"log":"a","log":'),
    "stream given twice": _DOCKER_LINE.replace(b'"stream":', b'"stream":"x","stream":'),
    "a lone surrogate": _DOCKER_LINE.replace(b"READ", b"\\ud800"),
    "a control character": _DOCKER_LINE.replace(b"READ", b"\x01"),
    "invalid UTF-8": _FLUENT_BIT_RECORD.replace(b"disk", b"\xff"),
    "not a string": b'{"log":1,"stream":"stdout","time":"2026-03-02T00:04:28Z"}',
    "an object for a string": _FLUENT_BIT_RECORD.replace(
        b'"log":"disk', b'"log":{"a":"disk'
    ).replace(b'"}', b'"}}'),
    "whitespace": _FLUENT_BIT_RECORD.replace(b'"log":', b'"log": ').replace(b'"}', b'" }'),
    "a time with an escape": _DOCKER_LINE.replace(b'Z"}', b'\\u005a"}'),
    "no closing brace": _FLUENT_BIT_RECORD[:-1],
    "a bracket for the brace": _FLUENT_BIT_RECORD[:-1] + b"]",
    "the tail's text in the log": _DOCKER_LINE.replace(
        b"READ", b'\\",\\"stream\\":\\"stdout\\",\\"time\\":\\"1\\"}'
    ),
}


def _strict(line: bytes) -> str:
    from auditlens.core.formats.jsontext import strict_json_loads

    try:
        return repr(strict_json_loads(line, path="in.log", line=1, bounded_integers=True))
    except InvalidInputError as exc:
        return exc.diagnostics()


@pytest.mark.parametrize("name", _ENTRY_LINES)
def test_an_entry_read_by_its_parts_is_the_strict_reading_of_it(name: str) -> None:
    line = _ENTRY_LINES[name]
    value = podlogs.entry_reading(line)
    if value is not None:
        assert repr(value) == _strict(line)
    # Read by its parts: the layouts, whitespace around the text (JSON's own), a text holding
    # the tail's bytes escaped; every other line is left to the whole reading.
    by_parts = ("docker", "fluent bit", "whitespace", "the tail's text in the log")
    assert (value is not None) == (name in by_parts)


@settings(max_examples=500, deadline=None)
@given(
    which=st.sampled_from([_DOCKER_LINE, _FLUENT_BIT_RECORD]),
    at=st.integers(0, len(_DOCKER_LINE)),
    patch=st.sampled_from([b'"', b"\\", b",", b":", b"}", b"{", b" ", b"\\u", b'","log":"'])
    | st.binary(min_size=1, max_size=3),
    replace=st.booleans(),
)
def test_entry_reading_agrees_with_the_strict_reading_on_mutated_lines(
    which: bytes, at: int, patch: bytes, replace: bool
) -> None:
    line = which[:at] + patch + which[at + (len(patch) if replace else 0) :]
    value = podlogs.entry_reading(line)
    if value is not None:
        assert repr(value) == _strict(line)


# -- the faster ways and the slower ones give the same answers ---------------------------------

_HEADS = [
    "2026-03-02T00:04:28.017123456Z stdout F ",
    "2026-03-02T00:04:28Z stderr F ",
    "2026-03-02T00:04:28.017123456Z stdout P ",
    "2026-03-02T00:04:28.5+01:00 stdout F:x ",
    "2026-03-02T00:04:28.017123456Z stdout F",
    "2026-03-02T99:04:28Z stdout F ",
    "2026-02-30T00:04:28.017123456Z stderr F ",
    "2026-03-02T00:04:28.017123456Z ",
    "2026-03-02T00:04:28+01:00 ",
    "2026-03-02T24:00:00Z ",
    "",
]
_TEXTS = [
    audit_line("EXPORT", "2026-03-02T00:04:27.990Z"),
    audit_line("EXPORT", "2026-03-02T25:04:27.990Z"),  # the audit record's own time is wrong
    audit_line("READ", "2026-03-02T00:04:27.990Z").replace('"level"', '"action": "X", "level"'),
    '{"timestamp": "2026-03-02T00:04:27Z"}',  # JSON, no audit record
    '{"s": "\\ud800"}',
    '{"n": 1e400}',
    '{"n": ' + "1" * 41 + "}",
    "{not json",
    "[1, 2]",
    "plain text \u00e9 91% full",
    "",
    " ",
    "{}",
]


def _split_and_map(path: Path) -> list[object]:
    """Every record of ``path`` and its row as the importer makes it, or the error, in order.

    Each record is mapped as soon as it is split (as the importer does: its value is then the
    one the split just built) and again from its stored line alone (as a sealed bundle's).
    """
    outcome: list[object] = []
    try:
        for record in read_records(path):
            handed = podlogs._last_entry[0] is record.value
            row = NORMALIZER.row(record.line, False, record.value)
            outcome.append(
                (
                    record.line,
                    record.time_ns,
                    record.kind,
                    record.origin,
                    msgspec.json.encode(record.value),
                    handed,
                )
            )
            assert row == NORMALIZER.row(record.line)
    except InvalidInputError as exc:
        outcome.append(exc.diagnostics())
    return outcome


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(_HEADS),
            st.sampled_from(_TEXTS),
            st.sampled_from([b"", b"\xff", b"\xc3", b"\r", b" ", b'"', b"}"]),
            st.integers(0, 400),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_cri_and_kubectl_lines_read_from_their_bytes_as_from_their_text(
    lines: list[tuple[str, str, bytes, int]],
) -> None:
    # The splits read a line whose head matches its bytes without decoding it (_bytes_entry):
    # the same records, values and rows, or the same first error with its line, as reading
    # every line as text (the heads made never to match).
    data = b""
    for head, text, patch, at in lines:
        line = (head + text).encode()
        at = min(at, len(line))
        data += line[:at] + patch + line[at:] + b"\n"
    with tempfile.TemporaryDirectory() as folder:
        path = pod_log(Path(folder))
        path.write_bytes(data)
        fast = _split_and_map(path)
        with pytest.MonkeyPatch.context() as patched:
            never = re.compile(rb"(?!)")
            patched.setattr(podlogs, "_CRI_FULL_HEAD", never)
            patched.setattr(podlogs, "_KUBECTL_HEAD_BYTES", never)
            slow = _split_and_map(path)
    assert [o[:5] if type(o) is tuple else o for o in fast] == [
        o[:5] if type(o) is tuple else o for o in slow
    ]


def test_the_bytes_reading_is_taken_for_whole_lines(tmp_path: Path) -> None:
    # Not only agreement: the common lines (the runtime's F lines, kubectl's) take it.
    text = audit_line("EXPORT", "2026-03-02T00:04:27.990Z")
    path = pod_log(tmp_path)
    path.write_text(f"2026-03-02T00:04:28.017123456Z stdout F {text}\n")
    taken = []
    original = podlogs.entry_record

    def spy(time_text: str, text: str | None, *rest: object) -> SourceRecord:
        taken.append(text is None)
        return original(time_text, text, *rest)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(podlogs, "entry_record", spy)
        list(read_records(path))
        kubectl = tmp_path / "recording.log"
        kubectl.write_text(f"2026-03-02T00:04:28.017123456Z {text}\n")
        list(read_records(kubectl))
    assert taken == [True, True]


def test_the_split_hands_its_reading_of_an_entry_to_the_normalizer(tmp_path: Path) -> None:
    # The runtime's time and the entry's form are taken from the split for the value it built
    # (podlogs._last_entry), and only for it: the same row as mapping the stored line afresh.
    path = pod_log(tmp_path)
    text = audit_line("EXPORT", "2026-03-02T00:04:27.990Z")
    path.write_text(
        f"2026-03-02T00:04:28.017123456Z stdout F {text}\n"
        "2026-03-02T00:04:29.5Z stderr F disk 91% full\n"
    )
    outcome = _split_and_map(path)
    assert [o[5] for o in outcome] == [True, True]  # type: ignore[index]
    # Mapped after the next entry was split: its own reading, not the last entry's.
    first, second = read_records(path)
    rows = [NORMALIZER.row(r.line, False, r.value) for r in (first, second)]
    assert [r["kind"] for r in rows] == ["audit", "log"]
    assert rows[0]["observed_ns"] == parse_time_ns("2026-03-02T00:04:28.017123456Z")
    assert rows[1]["time_ns"] == parse_time_ns("2026-03-02T00:04:29.5Z")
