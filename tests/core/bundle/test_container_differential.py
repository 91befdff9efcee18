"""Differential tests of the strict container reader against GNU tar, bsdtar and unzip.

docs/bundle-format.md §2.1: a bundle verifies only if every common reader would extract exactly
the bytes verified. Hypothesis builds archives (valid ones and the hostile shapes of issue 16:
bytes hidden between zip entries, local entries the central directory does not list, a deflate
stream running past its declared size with a forged CRC, local and central headers that
disagree, a tar folder member carrying data, GNU long names, non-zero padding, trailing bytes)
and each archive is read by :mod:`auditlens.core.bundle.container` and extracted by the real
tools. **Whenever the reader accepts an archive, every tool must extract exactly the files and
bytes it read**; each hostile shape must moreover be refused.

The tools are Debian's ``tar``, ``libarchive-tools`` (bsdtar, also read from a pipe: libarchive's
streaming zip reader, which walks local headers as Java's ``ZipInputStream`` does) and
``unzip``, beside Python's own ``zipfile`` and ``tarfile``; ``tools/system-deps.sh`` installs
them for ``make test``. Without them these tests fail (never skip): they are the evidence that
the reader is strict enough.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlens.core.bundle.container import open_container, unsafe_reason
from auditlens.core.errors import InvalidInputError

TOOLS = {"tar": "tar", "bsdtar": "libarchive-tools", "unzip": "unzip"}
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    missing = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    assert not missing, (
        f"missing Debian packages {missing}: run 'bash tools/system-deps.sh' as root "
        "(make test does), these tests compare the reader with them"
    )


# --- what the reader accepts, and what it read ------------------------------------------------


def read_strictly(path: Path) -> dict[str, bytes] | None:
    """The files the reader reads, or None when it refuses the archive (as verify would)."""
    try:
        with open_container(path) as container:
            names = [entry.name for entry in container.entries]
            if len(names) != len(set(names)) or container.trailing_bytes():
                return None
            if any(unsafe_reason(entry) for entry in container.entries):
                return None
            files = container.files()
            return {name: container.read(name, 1 << 24) for name in files}
    except InvalidInputError:
        return None


def extracted(folder: Path) -> dict[str, bytes]:
    result: dict[str, bytes] = {}
    for item in sorted(folder.rglob("*")):
        name = item.relative_to(folder).as_posix()
        if item.is_symlink() or not (item.is_file() or item.is_dir()):
            result[name] = b"<not a regular file>"
        elif item.is_file():
            result[name] = item.read_bytes()
    return result


def extract_all(path: Path, scratch: Path, *, zip_archive: bool) -> dict[str, dict[str, bytes]]:
    """What each tool extracts; a tool that fails or warns yields a marker instead."""
    commands = {"bsdtar": ["bsdtar", "-xf", str(path)]}
    if zip_archive:
        commands["unzip"] = ["unzip", "-q", "-o", str(path), "-d", "{out}"]
        commands["bsdtar-stream"] = ["bsdtar", "-xf", "-"]
    else:
        commands["gnutar"] = ["tar", "-xf", str(path), "--warning=no-timestamp"]
        commands["bsdtar-stream"] = ["bsdtar", "-xf", "-"]
    views: dict[str, dict[str, bytes]] = {}
    for tool, command in commands.items():
        out = scratch / tool
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        argv = [part.replace("{out}", str(out)) for part in command]
        with path.open("rb") as stdin:
            done = subprocess.run(
                argv,
                cwd=out,
                stdin=stdin if command[-1] == "-" else subprocess.DEVNULL,
                capture_output=True,
                timeout=60,
                check=False,
            )
        view = extracted(out)
        if done.returncode != 0 or done.stderr.strip():
            view["<tool complained>"] = done.stderr[-300:]
        views[tool] = view
    views["python"] = python_view(path, scratch / "python", zip_archive=zip_archive)
    return views


def python_view(path: Path, out: Path, *, zip_archive: bool) -> dict[str, bytes]:
    """What Python's own zipfile or tarfile extracts."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    try:
        if zip_archive:
            with zipfile.ZipFile(path) as archive:
                archive.extractall(out)
        else:
            with tarfile.open(path) as archive:
                archive.extractall(out, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, OSError, ValueError, EOFError) as exc:
        return {"<python refused>": str(exc).encode()}
    return extracted(out)


def assert_agreement(path: Path, scratch: Path, *, zip_archive: bool) -> dict[str, bytes] | None:
    ours = read_strictly(path)
    if ours is None:
        return None
    for tool, view in extract_all(path, scratch, zip_archive=zip_archive).items():
        assert view == ours, f"{tool} extracts other bytes than the reader read from {path}"
    return ours


# --- building archives byte by byte -------------------------------------------------------------

NAMES = st.lists(
    st.tuples(
        st.sampled_from(["", "data/", "index/"]),
        st.text(alphabet="abcdefghij0123456789_-", min_size=1, max_size=12),
        st.sampled_from([".jsonl", ".json", ".bin"]),
    ).map(lambda t: t[0] + t[1] + t[2]),
    min_size=1,
    max_size=5,
    unique=True,
)
CONTENT = st.binary(max_size=3000) | st.builds(
    lambda line, n: line * n, st.binary(min_size=1, max_size=60), st.integers(1, 200)
)


@dataclass
class ZipEntry:
    name: str
    data: bytes
    deflate: bool
    local_name: str | None = None  # a local header naming another file
    crc_delta: int = 0  # a CRC that does not match the data
    gap_after: bytes = b""  # bytes hidden after the entry's data
    comment: bytes = b""
    forged_tail: bytes = b""  # a deflate stream that goes on past the declared size


def deflate_raw(data: bytes, *, final: bool = True) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(
        zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH
    )


def build_zip(
    entries: list[ZipEntry], *, unlisted: bytes | None = None, comment: bytes = b""
) -> bytes:
    out = bytearray()
    central = bytearray()
    if unlisted is not None:
        out += local_header(b"hidden.jsonl", 0, zlib.crc32(unlisted), len(unlisted), len(unlisted))
        out += unlisted
    for entry in entries:
        name = entry.name.encode()
        method = 8 if entry.deflate else 0
        if entry.forged_tail:
            sealed = deflate_raw(entry.data, final=False)
            stream = sealed + deflate_raw(entry.forged_tail)
            compressed = len(sealed)  # the declared size stops where the sealed bytes end
        else:
            stream = deflate_raw(entry.data) if entry.deflate else entry.data
            compressed = len(stream)
        crc = (zlib.crc32(entry.data) + entry.crc_delta) & 0xFFFFFFFF
        offset = len(out)
        local_name = (entry.local_name or entry.name).encode()
        out += local_header(local_name, method, crc, compressed, len(entry.data))
        out += stream + entry.gap_after
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            0x0314,
            20,
            0,
            method,
            0,
            0x21,
            crc,
            compressed,
            len(entry.data),
            len(name),
            0,
            len(entry.comment),
            0,
            0,
            0o100644 << 16,
            offset,
        )
        central += name + entry.comment
    start = len(out)
    out += central
    out += struct.pack(
        "<4sHHHHIIH",
        b"PK\x05\x06",
        0,
        0,
        len(entries),
        len(entries),
        len(central),
        start,
        len(comment),
    )
    return bytes(out + comment)


def local_header(name: bytes, method: int, crc: int, compressed: int, size: int) -> bytes:
    return (
        struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            0,
            method,
            0,
            0x21,
            crc,
            compressed,
            size,
            len(name),
            0,
        )
        + name
    )


def tar_header(
    name: str, size: int, kind: bytes = b"0", *, gnu: bool = False, checksum_delta: int = 0
) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = kind
    info.mode = 0o755 if kind == b"5" else 0o644
    block = bytearray(info.tobuf(tarfile.GNU_FORMAT if gnu else tarfile.USTAR_FORMAT))
    if checksum_delta:
        block[148:156] = b"%06o\x00 " % (int(block[148:154], 8) + checksum_delta)
    return bytes(block)


def pad(data: bytes, filler: int = 0) -> bytes:
    return data + bytes([filler]) * (-len(data) % 512)


@dataclass
class TarMember:
    name: str
    data: bytes
    dir_with_data: bytes = b""  # a folder member before it, whose "data" is this
    bad_padding: bool = False


def build_tar(
    members: list[TarMember], *, gnu: bool = False, dot_slash: bool = False, tail: bytes = b""
) -> bytes:
    out = bytearray()
    if dot_slash:
        out += tar_header("./", 0, b"5", gnu=gnu)
    for member in members:
        name = ("./" if dot_slash else "") + member.name
        if member.dir_with_data:
            out += tar_header(name.rsplit("/", 1)[0] + "/x/", len(member.dir_with_data), b"5")
            out += pad(member.dir_with_data)
        out += tar_header(name, len(member.data), gnu=gnu)
        out += pad(member.data, 0x20 if member.bad_padding and len(member.data) % 512 else 0)
    out += bytes(1024)
    out += bytes(-len(out) % 10240)
    return bytes(out + tail)


def write(path: Path, data: bytes, *, gz: bool | str = False) -> Path:
    """``data`` as is, gzipped, or (``gz="two"``) as two gzip members split mid-way (§2.1)."""
    import gzip

    if gz == "two":
        half = len(data) // 2 + 7
        data = gzip.compress(data[:half], mtime=0) + gzip.compress(data[half:], mtime=0)
    elif gz:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


# --- properties -----------------------------------------------------------------------------


@EXAMPLES
@given(names=NAMES, data=st.data())
def test_valid_zips_are_read_as_every_tool_extracts_them(names, data, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("zip")
    entries = [ZipEntry(n, data.draw(CONTENT), data.draw(st.booleans())) for n in names]
    path = write(scratch / "b.zip", build_zip(entries))
    ours = assert_agreement(path, scratch, zip_archive=True)
    assert ours == {e.name: e.data for e in entries}


@EXAMPLES
@given(
    names=NAMES,
    data=st.data(),
    gnu=st.booleans(),
    dot=st.booleans(),
    gz=st.sampled_from([False, True, "two"]),
)
def test_valid_tars_are_read_as_every_tool_extracts_them(
    names, data, gnu, dot, gz, tmp_path_factory
):
    scratch = tmp_path_factory.mktemp("tar")
    members = [TarMember(n, data.draw(CONTENT)) for n in names]
    path = write(scratch / "b.tar", build_tar(members, gnu=gnu, dot_slash=dot), gz=gz)
    ours = assert_agreement(path, scratch, zip_archive=False)
    # "./manifest.json" names the same file as "manifest.json" for every extractor (§2.1).
    assert ours == {m.name: m.data for m in members}


HOSTILE_EXAMPLES = settings(EXAMPLES, max_examples=8)


@pytest.mark.parametrize(
    "shape",
    ["gap", "unlisted", "forged_tail", "local_name", "stored_crc", "deflated_crc", "comment"],
)
@HOSTILE_EXAMPLES
@given(names=NAMES, data=st.data())
def test_hostile_zips_are_refused_and_never_read_differently(names, data, shape, tmp_path_factory):
    scratch = tmp_path_factory.mktemp("hzip")
    entries = [ZipEntry(n, data.draw(CONTENT), data.draw(st.booleans())) for n in names]
    victim = data.draw(st.integers(0, len(entries) - 1))
    target = entries[victim]
    unlisted = None
    forged = b'{"action":"EXPORT","user_id":"forged"}\n'
    if shape == "gap":
        target.gap_after = forged
    elif shape == "unlisted":
        unlisted = forged
    elif shape == "forged_tail":
        target.deflate = True
        target.forged_tail = forged
    elif shape == "local_name":
        target.local_name = target.name + "x"
    elif shape in ("stored_crc", "deflated_crc"):
        target.deflate = shape == "deflated_crc"
        target.crc_delta = 1
    else:
        target.comment = forged
    path = write(scratch / "b.zip", build_zip(entries, unlisted=unlisted))
    assert read_strictly(path) is None, f"{shape}: accepted"
    assert_agreement(path, scratch, zip_archive=True)


@pytest.mark.parametrize("shape", ["dir_with_data", "bad_padding", "long_name", "tail", "checksum"])
@HOSTILE_EXAMPLES
@given(names=NAMES, data=st.data(), gz=st.booleans())
def test_hostile_tars_are_refused_and_never_read_differently(
    names, data, shape, gz, tmp_path_factory
):
    scratch = tmp_path_factory.mktemp("htar")
    members = [TarMember(n, data.draw(CONTENT)) for n in names]
    target = members[data.draw(st.integers(0, len(members) - 1))]
    tail = b""
    forged = b'{"action":"EXPORT","user_id":"forged"}\n'
    if shape == "dir_with_data":
        # The folder's "data" is a complete member: GNU tar, which ignores a folder's size,
        # extracts it; readers that skip the size do not.
        target.name = "data/" + target.name.rsplit("/", 1)[-1]
        target.dir_with_data = tar_header("data/00001.jsonl", len(forged)) + pad(forged)
    elif shape == "bad_padding":
        target.data = target.data + b"x" if len(target.data) % 512 == 0 else target.data
        target.bad_padding = True
    elif shape == "long_name":
        target.name = "data/" + "n" * 110 + ".jsonl"
    elif shape == "tail":
        tail = pad(tar_header("data/00009.jsonl", len(forged)) + pad(forged))
    raw = build_tar(members, gnu=shape == "long_name", tail=tail)
    if shape == "long_name":
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
            for member in members:
                info = tarfile.TarInfo(member.name)
                info.size = len(member.data)
                archive.addfile(info, io.BytesIO(member.data))
        raw = buffer.getvalue()
    if shape == "checksum":
        raw = tar_header(members[0].name, 0, checksum_delta=1) + raw
    path = write(scratch / "b.tar", raw, gz=gz)
    assert read_strictly(path) is None, f"{shape}: accepted"
    assert_agreement(path, scratch, zip_archive=False)


def test_the_reference_sealers_archives_are_accepted(tmp_path):
    """The sealer's own zip (deflated, Zip64 local headers) and pax .tar.gz read as a folder."""
    from auditlens.core.bundle.seal import seal
    from auditlens.core.crypto.keys import sample_key

    lines = [
        b'{"timestamp":"2026-03-02T08:00:0%dZ","user_id":"agent-042","action":"LOGIN"}' % i
        for i in range(5)
    ]
    raw = tmp_path / "audit.jsonl"
    raw.write_bytes(b"\n".join(lines) + b"\n")
    views = []
    for name in ("b", "b.zip", "b.tar.gz"):
        job = seal(
            [raw],
            sample_key("differential"),
            tmp_path / name,
            checkpoint_every=2,
            sealed_at="2026-03-02T09:00:00Z",  # the three seals write the same manifest
        )
        for _ in job:
            pass
        if name == "b":
            views.append(read_strictly(tmp_path / name))
        else:
            views.append(
                assert_agreement(
                    tmp_path / name, tmp_path / (name + "-x"), zip_archive=name.endswith(".zip")
                )
            )
    assert views[0] is not None and views[0] == views[1] == views[2]
