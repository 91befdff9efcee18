r"""Pod logs: what a Kubernetes node keeps of a container's stdout and stderr.

Three forms, one format each:

* ``cri-log``: the container runtime's log files (containerd, CRI-O), as the kubelet keeps them
  under ``/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log``:
  ``2026-03-02T00:04:28.017123456Z stdout F {...}``. The runtime cuts a long line into partial
  lines tagged ``P`` and ends it with one tagged ``F``; they are joined back into one entry.
* ``docker-json-log``: Docker's ``json-file`` driver: ``{"log":"{...}\n","stream":"stdout",
  "time":"2026-03-02T00:04:28.017123456Z"}``; a line Docker cut (16 KiB) has no ``\n`` at the
  end of its ``log`` and is joined with the next.
* ``kubectl-log``: ``kubectl logs --timestamps`` output: ``2026-03-02T00:04:28.017123456Z {...}``
  (joined already; no stream).

Recognised by the first non-blank line's shape (docs/case.md, "Accepted formats").

Split: each entry becomes one stored line, a JSON object in the shape Docker writes and Fluent
Bit's Kubernetes filter extends: ``{"time": <the runtime's time as written>, "stream": "stdout"
(null for kubectl), "log": <the entry's text, joined, without its newline>, "kubernetes":
{"namespace_name", "pod_name", "pod_id", "container_name", "restart_count"}}``, the last only
when the file's path has the kubelet's layout. The text is kept verbatim: a JSON object as its
own bytes (it must follow the one set of rules, formats/jsontext.py), any other text as a JSON
string. A record's origin is the line of its last part.

Event (:func:`pod_log_event`): a text that is an audit-logger record is that audit event (its
own time; the runtime's time as the observed time), mapped by the ``audit`` profiles; any other
text is a log event at the runtime's time with the text as its body. The stream and the
Kubernetes metadata become the attributes ``log.iostream``, ``k8s.namespace.name``,
``k8s.pod.name``, ``k8s.pod.uid``, ``k8s.container.name`` and ``k8s.container.restart_count``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

import msgspec

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.audit_json import audit_event, audit_time_ns
from auditlens.core.formats.base import EvidenceFormat, Sample, SourceRecord
from auditlens.core.formats.jsontext import MAX_JSON_LINE, json_or_none, strict_json_loads
from auditlens.core.formats.records import AUDIT, POD_LOG, record_form
from auditlens.core.formats.streams import iter_lines
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.formats.values import kubernetes_attributes

_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})"
_CRI = re.compile(rf"({_TIME}) (stdout|stderr) ([PF])(?::\S*)? ?(.*)", re.ASCII | re.DOTALL)
_KUBECTL = re.compile(rf"({_TIME}) (.*)", re.ASCII | re.DOTALL)
# The same up to the text: the text (``.*``) matches whatever follows, so a line matches these
# where it fully matches the above, with the same groups; the text is the rest of the line (the
# whole line's match cost 0.37 us per record, mostly the text).
_CRI_HEAD = re.compile(rf"({_TIME}) (stdout|stderr) ([PF])(?::\S*)? ?", re.ASCII)
_KUBECTL_HEAD = re.compile(rf"({_TIME}) ", re.ASCII)
# The common heads on the line's bytes (the runtime's full line, kubectl's line), matched before
# decoding anything: ASCII by their construction, so each matches where its text pattern above
# matches the decoded line, with the same groups and end. The text after them is then read from
# its bytes (entry_record): decoding the whole line and encoding the text back cost 2.5 k
# instructions per record of a CRI line (callgrind, bench/README.md "bench_formats.py").
_CRI_FULL_HEAD = re.compile(rf"({_TIME}) (stdout|stderr) F ".encode(), re.ASCII)
_KUBECTL_HEAD_BYTES = re.compile(rf"({_TIME}) ".encode(), re.ASCII)
_STREAMS = {b"stdout": "stdout", b"stderr": "stderr"}
# /var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart count>.log
_POD_DIR = re.compile(r"([a-z0-9-]+)_([a-z0-9.-]+)_([0-9a-f-]{36})")
MAX_ENTRY = MAX_JSON_LINE  # a joined entry: as long as any record line may be
_encode = msgspec.json.encode


def path_kubernetes(path: str) -> dict[str, Any] | None:
    """The Kubernetes metadata the kubelet's layout of ``path`` gives, or None."""
    parts = PurePath(path).parts
    if len(parts) < 3 or not parts[-1].endswith(".log"):
        return None
    pod_dir = _POD_DIR.fullmatch(parts[-3])
    if pod_dir is None:
        return None
    namespace, pod, uid = pod_dir.groups()
    meta: dict[str, Any] = {
        "namespace_name": namespace,
        "pod_name": pod,
        "pod_id": uid,
        "container_name": parts[-2],
    }
    restart = parts[-1][: -len(".log")]
    if restart.isdigit() and restart.isascii():
        meta["restart_count"] = int(restart)
    return meta


def _time(text: str, path: str, line: int) -> int:
    try:
        return parse_time_ns(text)
    except ValueError as exc:
        raise InvalidInputError(f"runtime time: {exc}", path=path, line=line) from exc


def entry_record(
    time_text: str,
    text: str | None,
    data: bytes,
    stream: str | None,
    kubernetes: dict[str, Any] | None,
    path: str,
    line: int,
) -> SourceRecord:
    """The stored line of one entry, with its event time (as :func:`pod_log_event` gives it).

    ``data`` is the entry's text in UTF-8, ``text`` that text when the caller has it decoded
    (None: decoded here when needed). A text that is a JSON object is stored as that object, its
    bytes as they were (valid JSON inside JSON): the import then decodes the entry once. Any
    other text is a JSON string.

    Raises:
        InvalidInputError: the runtime's time or the JSON text is not valid.
        UnicodeDecodeError: ``text`` is None and ``data``, no JSON object, is not UTF-8.
    """
    global _last_entry
    time_ns = runtime_ns = _time(time_text, path, line)
    audit = False
    inner: Any = json_or_none(data, path=path, line=line) if data[:1] == b"{" else None
    if type(inner) is dict:
        log = data
        if record_form(inner) == AUDIT:
            audit = True
            try:
                time_ns = audit_time_ns(inner)
            except ValueError as exc:
                raise InvalidInputError(
                    f"the audit record in the entry: {exc}", path=path, line=line
                ) from exc
    else:
        inner = data.decode("utf-8") if text is None else text
        log = _encode(inner)
    between, after = _wrapping(stream, kubernetes)
    stored = b"".join((b'{"time":', _encode(time_text), between, log, after))
    value: dict[str, Any] = (
        {"time": time_text, "stream": stream, "log": inner}
        if kubernetes is None
        else {"time": time_text, "stream": stream, "log": inner, "kubernetes": kubernetes}
    )
    _last_entry = (value, runtime_ns, audit)
    return SourceRecord(stored, time_ns, "log", path, line, value)


# The last entry a split built (its value, which SourceRecord.value hands the normalizer as it
# is), with the runtime's time it read and whether its text is an audit record: pod_log_event
# takes these for that very value instead of reading the time and deciding the form again
# (bench/README.md, "bench_formats.py"). Keyed by identity: the module holds the value, so no
# other object has its id meanwhile; nothing changes a value once split (SourceRecord). A stored
# line decoded afresh (a sealed bundle) is another object and is read in full.
_last_entry: tuple[Any, int, bool] = (None, 0, False)


# The last stream and Kubernetes metadata a stored line was built with, and their JSON around the
# entry's text: every entry of a file has the same (kubelet's path) or few (stdout, stderr), so
# they are encoded once per run of entries, not per entry (bench/README.md, "bench_formats.py").
_last_wrapping: tuple[Any, Any, tuple[bytes, bytes]] = (None, object(), (b"", b""))


def _wrapping(stream: str | None, kubernetes: dict[str, Any] | None) -> tuple[bytes, bytes]:
    """The stored line's JSON between the time and the text, and after the text."""
    global _last_wrapping
    last = _last_wrapping  # one read: another thread may replace it meanwhile
    # ``is`` for the metadata: the same object for a file's entries; equal values of other
    # types (1 and True) would encode differently.
    if last[1] is kubernetes and last[0] == stream and type(last[0]) is type(stream):
        return last[2]
    after = b',"kubernetes":' + _encode(kubernetes) + b"}" if kubernetes is not None else b"}"
    pieces = (b',"stream":' + _encode(stream) + b',"log":', after)
    _last_wrapping = (stream, kubernetes, pieces)
    return pieces


# The two layouts of an entry's line that the runtimes' and Fluent Bit's writers give it, read
# by their parts (entry_reading): Docker's json-file line, and a record of Fluent Bit's CRI
# parser (without its Kubernetes metadata: formats/fluentbit.py, read_record).
_DOCKER_LINE_TAIL = re.compile(rb',"stream":"(stdout|stderr)","time":"([0-9A-Za-z:.+-]{1,40})"\}')
_CRI_RECORD_HEAD = re.compile(
    rb'\{"time":"([0-9A-Za-z:.+-]{1,40})","stream":"(stdout|stderr)","_p":"([PF])","log":'
)
_decode_text = msgspec.json.Decoder(str).decode


def entry_reading(data: bytes) -> dict[str, Any] | None:
    """The strict reading of an entry line in one of the two layouts above, or None.

    ``{"log":S,"stream":"stdout","time":"T"}`` or ``{"time":"T","stream":"stdout","_p":"F",
    "log":S}``, exactly so (no other key, no whitespace around the fixed parts): S, read alone
    as a JSON text, must be one string (msgspec refuses invalid UTF-8, lone surrogates and
    control characters, as the rules do); the other members are literals of ASCII letters,
    digits and ``:.+-`` (no escape). The line is then an object of these three or four members,
    none twice, whose values these are: what :func:`strict_json_loads` gives for it. ``None``
    for any other line or any doubt: the caller reads it whole (the error is that reading's).
    This saves decoding the object, rescanning its bytes and encoding it back.
    """
    if data.startswith(b'{"log":"'):
        cut = data.rfind(b',"stream":"')
        tail = _DOCKER_LINE_TAIL.fullmatch(data, cut) if cut > 0 else None
        if tail is None:
            return None
        try:
            text = _decode_text(data[7:cut])
        except (msgspec.DecodeError, RecursionError):
            return None
        return {"log": text, "stream": tail[1].decode(), "time": tail[2].decode()}
    head = _CRI_RECORD_HEAD.match(data)
    if head is None or not data.endswith(b"}"):
        return None
    try:
        text = _decode_text(data[head.end() : -1])
    except (msgspec.DecodeError, RecursionError):
        return None
    return {
        "time": head[1].decode(),
        "stream": head[2].decode(),
        "_p": head[3].decode(),
        "log": text,
    }


def is_entry(value: Any) -> bool:
    """Whether a parsed JSON value is a pod log entry: ``log`` and ``time`` texts, a ``stream``."""
    return (
        type(value) is dict
        and type(value.get("log")) is str
        and type(value.get("time")) is str
        and "stream" in value
    )


# The last Kubernetes metadata mapped, as its MessagePack encoding, and its attributes: every entry
# of a pod's log carries the same (from the file's path, or Fluent Bit's filter), so it is mapped
# once per run of entries. The key is the encoding, not the dict: Python's == takes True for 1 and
# 1.0, and 0.0 for -0.0, so a record would get its predecessor's values; MessagePack writes each of
# these (and bytes apart from text) differently. Encoding a pod's metadata costs about a third of
# mapping it (0.36 against 1.2 us for a Fluent Bit record's, measured), so the cache still pays.
_last_kubernetes: tuple[bytes, dict[str, Any]] = (b"", {})


def _kubernetes_attributes(kubernetes: dict[str, Any]) -> dict[str, Any]:
    """:func:`kubernetes_attributes` of ``kubernetes`` alone (do not change the answer)."""
    global _last_kubernetes
    try:
        key = _encode_msgpack(kubernetes)
    except (TypeError, ValueError, OverflowError):
        key = b""  # a value MessagePack cannot write: mapped anew, never taken from the cache
    last = _last_kubernetes  # one read: another thread may replace it meanwhile
    if key and last[0] == key:
        return last[1]
    attributes: dict[str, Any] = {}
    kubernetes_attributes(kubernetes, attributes)
    _last_kubernetes = (key, attributes)
    return attributes


_encode_msgpack = msgspec.msgpack.Encoder().encode


# The last stream and Kubernetes metadata mapped to attributes, those attributes (not to be
# changed: shared by the entries of a run) and their JSON, as :data:`_last_wrapping`.
_last_extra: tuple[Any, Any, dict[str, Any], bytes] = (None, object(), {}, b"{}")


def _extra(stream: Any, kubernetes: Any) -> tuple[dict[str, Any], bytes]:
    """The attributes of an entry's stream and Kubernetes metadata, and their JSON."""
    global _last_extra
    last = _last_extra  # one read: another thread may replace it meanwhile
    if last[1] is kubernetes and last[0] == stream and type(last[0]) is type(stream):
        return last[2], last[3]
    extra: dict[str, Any] = {}
    if stream is not None:
        extra["log.iostream"] = stream
    if type(kubernetes) is dict:
        extra.update(_kubernetes_attributes(kubernetes))
    encoded = _encode(extra)
    _last_extra = (stream, kubernetes, extra, encoded)
    return extra, encoded


def pod_log_event(entry: dict[str, Any], row: dict[str, Any]) -> tuple[str, Any]:
    """Fill ``row`` with what a stored pod log entry says; return the profile kind and its view.

    Raises:
        InvalidInputError: the runtime's time or the wrapped audit record is not valid.
    """
    split, runtime, audit = _last_entry  # one read: another thread may replace it meanwhile
    log = entry["log"]
    if split is not entry:  # not the value the split just built (above): read it in full
        try:
            runtime = parse_time_ns(entry["time"])
        except ValueError as exc:
            raise InvalidInputError(f"pod log entry: runtime time: {exc}") from exc
        audit = type(log) is dict and record_form(log) == AUDIT
    extra, extra_json = _extra(entry.get("stream"), entry.get("kubernetes"))
    if audit:
        audit_event(log, row, extra, extra_json)
        row["observed_ns"] = runtime
        return AUDIT, log
    row["kind"] = "log"
    row["time_ns"] = row["observed_ns"] = runtime
    row["body"] = (log or None) if type(log) is str else _encode(log).decode("utf-8")
    row["attributes"] = extra_json.decode("utf-8")
    return "log", dict(extra)  # the profiles' view: not the cached attributes themselves


def _bytes_entry(
    head: re.Match[bytes],
    stream: str | None,
    raw: bytes,
    kubernetes: dict[str, Any] | None,
    path: str,
    line: int,
) -> SourceRecord | None:
    """The entry of a line whose head matched its bytes, read so; None when in any doubt.

    ``head`` is the match of :data:`_CRI_FULL_HEAD` or :data:`_KUBECTL_HEAD_BYTES`, which is
    ASCII: the line is UTF-8 when its text is, and the text is read as JSON (strictly, UTF-8
    included) or decoded. The record is then the one the line read as text gives. A line that
    is not UTF-8 or breaks a rule gives None: it is read as text, whose error says why, as it
    always did (the same reading, so the same first error).
    """
    try:
        return entry_record(
            head[1].decode(), None, raw[head.end() :], stream, kubernetes, path, line
        )
    except (UnicodeDecodeError, InvalidInputError):
        return None


class _Joiner:
    """Joins partial entries, bounded in size; refuses an entry left open at the end."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.parts: list[str] = []
        self.size = 0
        self.first = 0

    def add(self, text: str, line: int) -> None:
        if not self.parts:
            self.first = line
        self.parts.append(text)
        self.size += len(text)
        if self.size > MAX_ENTRY:
            raise InvalidInputError(
                f"an entry joined from partial lines {self.first}-{line} exceeds {MAX_ENTRY} bytes",
                path=self.path,
                line=line,
            )

    def take(self) -> str:
        text = self.parts[0] if len(self.parts) == 1 else "".join(self.parts)
        self.parts.clear()
        self.size = 0
        return text

    def finish(self) -> None:
        if self.parts:
            raise InvalidInputError(
                f"the file ends inside an entry: partial lines from line {self.first} have no "
                "final part (cut while the runtime was writing it?)",
                path=self.path,
                line=self.first,
            )


def _text(data: bytes, path: str, line: int) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"invalid UTF-8 at byte {exc.start} of the line", path=path, line=line
        ) from exc


DOCKER_KEYS = frozenset({"log", "stream", "time", "attrs"})


def first_text_line(sample: Sample) -> str | None:
    """The first non-blank line of a text input as text, or None (binary, not UTF-8)."""
    line = sample.text_line()
    if line is None:
        return None
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


class CriLog(EvidenceFormat):
    """The container runtime's log files (CRI), as the kubelet keeps them."""

    name = "cri-log"
    title = "container runtime (CRI) pod log: TIME STREAM P|F TEXT per line"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        line = first_text_line(sample)
        if line is None:
            return "not a text line"
        if _CRI.fullmatch(line) is None:
            return f"line {sample.number} is not 'TIME stdout|stderr P|F TEXT': {line[:40]!r}"
        return None

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        path = sample.path
        kubernetes = path_kubernetes(path)
        joiners: dict[str, _Joiner] = {}  # stdout and stderr interleave: one each
        for number, raw in iter_lines(sample.stream(), path=path):
            full = _CRI_FULL_HEAD.match(raw)
            if full is not None:
                stream = _STREAMS[full[2]]
                joiner = joiners.get(stream)
                if joiner is None or not joiner.parts:
                    # A whole entry, read from its bytes; any doubt (not UTF-8, an error):
                    # the line is read as text below, which says why.
                    record = _bytes_entry(full, stream, raw, kubernetes, path, number)
                    if record is not None:
                        yield record
                        continue
            if not raw.strip():
                continue
            line = _text(raw, path, number)
            match = _CRI_HEAD.match(line)
            if match is None:
                raise InvalidInputError(
                    f"not a CRI log line ('TIME stdout|stderr P|F TEXT'): {raw[:60]!r}",
                    path=path,
                    line=number,
                )
            time_text, stream, tag = match.groups()
            content = line[match.end() :]
            joiner = joiners.get(stream)
            if tag == "F" and (joiner is None or not joiner.parts):
                yield entry_record(
                    time_text, content, content.encode(), stream, kubernetes, path, number
                )
                continue
            if joiner is None:
                joiner = joiners[stream] = _Joiner(path)
            joiner.add(content, number)
            if tag == "F":
                # The entry's runtime time is its last part's: the runtime stamps each part.
                text = joiner.take()
                yield entry_record(time_text, text, text.encode(), stream, kubernetes, path, number)
        for joiner in joiners.values():
            joiner.finish()


class DockerJsonLog(EvidenceFormat):
    """Docker's ``json-file`` logging driver: one JSON object per line."""

    name = "docker-json-log"
    title = 'Docker json-file log: {"log": TEXT, "stream": ..., "time": ...} per line'

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        if not sample.is_text or not sample.line_is_json():
            return "the first line is not a JSON object"
        value = sample.value()
        if record_form(value) != POD_LOG or not value.keys() <= DOCKER_KEYS:
            return f"line {sample.number} has not Docker's log, stream and time alone"
        return None

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        path = sample.path
        kubernetes = path_kubernetes(path)
        joiners: dict[str, _Joiner] = {}
        for number, raw in iter_lines(sample.stream(), path=path):
            value = entry_reading(raw)
            if value is None:
                if not raw.strip():
                    continue
                value = strict_json_loads(raw, path=path, line=number, bounded_integers=True)
            if not is_entry(value):
                raise InvalidInputError(
                    "not a Docker json-file entry (log, stream, time)", path=path, line=number
                )
            stream = value["stream"]
            if stream is not None and type(stream) is not str:
                raise InvalidInputError("stream is not text", path=path, line=number)
            joiner = joiners.get(str(stream))
            if joiner is None:
                joiner = joiners[str(stream)] = _Joiner(path)
            log = value["log"]
            if log.endswith("\n"):
                text = log[:-1].removesuffix("\r")
                if joiner.parts or len(text) > MAX_ENTRY:  # joined, or refused with the limit
                    joiner.add(text, number)
                    text = joiner.take()
                yield entry_record(
                    value["time"], text, text.encode(), stream, kubernetes, path, number
                )
            else:
                joiner.add(log, number)  # Docker cut a long line: the rest follows
        for joiner in joiners.values():
            joiner.finish()


class KubectlLog(EvidenceFormat):
    """``kubectl logs --timestamps`` output: an RFC 3339 time, a space, the line."""

    name = "kubectl-log"
    title = "kubectl logs --timestamps output: TIME TEXT per line"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        line = first_text_line(sample)
        if line is None:
            return "not a text line"
        if _KUBECTL.fullmatch(line) is None:
            return f"line {sample.number} does not start with an RFC 3339 time: {line[:40]!r}"
        if _CRI.fullmatch(line) is not None:
            return f"line {sample.number} has a stream and a P/F tag (cri-log)"
        return None

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        path = sample.path
        kubernetes = path_kubernetes(path)
        for number, raw in iter_lines(sample.stream(), path=path):
            head = _KUBECTL_HEAD_BYTES.match(raw)
            if head is not None:
                # Read from its bytes, as a CRI line above; any doubt: read as text below.
                record = _bytes_entry(head, None, raw, kubernetes, path, number)
                if record is not None:
                    yield record
                    continue
            if not raw.strip():
                continue
            line = _text(raw, path, number)
            match = _KUBECTL_HEAD.match(line)
            if match is None:
                raise InvalidInputError(
                    f"not 'TIME TEXT' (kubectl logs --timestamps): {raw[:60]!r}",
                    path=path,
                    line=number,
                )
            content = line[match.end() :]
            yield entry_record(
                match.group(1), content, content.encode(), None, kubernetes, path, number
            )
