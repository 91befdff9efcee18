"""Bad input reaching ``auditlens verify`` (docs/robustness.md).

Every hostile case of ``tests/hostile/make_hostile.py`` goes through the real command line in a
subprocess, with its address space and CPU time capped, so that a regression (a bomb expanding, a
line read whole, a parser recursing) fails here instead of exhausting the machine or hanging the
suite. Each case must give: exit code 1 or 2 matching a verdict of ``tampered`` or ``invalid``,
clean JSON on stdout, no traceback, and the case's finding at its exact place.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.bundle import container
from auditlens.core.bundle.container import open_container
from auditlens.core.errors import InvalidInputError
from auditlens.core.verify.findings import EXIT_CODES, Verdict
from auditlens.core.verify.trust import load_trust
from auditlens.core.verify.verifier import verify_paths
from hostile.make_hostile import (
    BOMB_SIZE,
    BUILDERS,
    DATA1,
    DATA2,
    KNOWN_BUGS,
    Base,
    Case,
    build,
    crc32_zeros,
    make_base,
    regular,
    stored,
    write_raw_zip,
    write_tar,
    write_zip,
)

AUDITLENS = Path(sys.executable).with_name("auditlens")  # the console script of this venv
# docs/architecture.md §8: peak memory under 1.5 GB whatever the input.
MEMORY_CAP = 1536 * 1024 * 1024
CPU_SECONDS = 60  # a hang or a quadratic blow-up dies here instead of stalling the suite
HANG_GUARD_SECONDS = 600  # backstop for a process blocked without using CPU (never asserted)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


@dataclass(frozen=True)
class Run:
    """One ``auditlens verify --json`` run."""

    code: int
    out: str
    err: str

    def report(self) -> dict[str, Any]:
        """The JSON report (fails the test when stdout is not one JSON document)."""
        document: dict[str, Any] = json.loads(self.out)
        return document


def verify(path: Path, trust: Path) -> Run:
    """Run the CLI on ``path`` in a capped subprocess; never raises for a non-zero exit."""
    # Strict UTF-8 output, as a desktop locale gives it (C.UTF-8 would let surrogateescape
    # slip undecodable names through as invalid UTF-8); decoded strictly here too.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    done = subprocess.run(
        [str(AUDITLENS), "verify", str(path), "--json", "--trust", str(trust)],
        capture_output=True,
        encoding="utf-8",
        errors="strict",
        preexec_fn=_limits,
        timeout=HANG_GUARD_SECONDS,
        env=env,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    """The valid bundle every case damages (read-only: cases copy it)."""
    return make_base(tmp_path_factory.mktemp("hostile-base"))


@pytest.fixture(scope="session")
def cases_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the cases are built, each in its own folder."""
    return tmp_path_factory.mktemp("hostile-cases")


def _param(name: str) -> Any:
    if name in KNOWN_BUGS:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
    return name


def _matches(finding: dict[str, Any], case: Case) -> bool:
    return (
        finding["code"] == case.code
        and finding["path"] == case.where
        and (case.line is None or finding["line"] == case.line)
        and (case.mentions is None or case.mentions in finding["message"])
        and (case.actual is None or finding["actual"] == case.actual)
    )


@pytest.mark.parametrize("name", [_param(name) for name in BUILDERS])
def test_hostile_input_is_refused_with_its_place(name: str, base: Base, cases_root: Path) -> None:
    case = build(name, base, cases_root)
    run = verify(case.path, base.trust)

    assert "Traceback" not in run.err, run.err[-3000:]
    assert run.code in (1, 2), (run.code, run.err[-2000:])
    report = run.report()
    assert report["verdict"] in (Verdict.INVALID, Verdict.TAMPERED)
    assert EXIT_CODES[Verdict(report["verdict"])] == run.code
    assert [b["verdict"] for b in report["bundles"]] == [report["verdict"]]
    findings = report["findings"]
    shown = "\n".join(
        f"  {f['code']} {f['path']} line={f['line']} actual={f['actual']}: {f['message'][:120]}"
        for f in findings
    )
    assert any(_matches(f, case) for f in findings), (
        f"{name} ({case.what}): expected {case.code} at {case.where} line={case.line} "
        f"mentioning {case.mentions!r} actual={case.actual!r}; reported:\n{shown}"
    )
    for finding in findings:
        assert finding["path"], finding  # every finding names where


@pytest.mark.parametrize("form", ["folder", "zip", "zip-python-defaults", "tar", "tar.gz"])
def test_the_undamaged_base_verifies_in_every_container(
    form: str, base: Base, tmp_path: Path
) -> None:
    # The hostile cases' findings come from their damage: the same bytes, well packed, verify.
    if form == "folder":
        path = base.folder
    elif form == "zip":
        path = write_zip(tmp_path / "b.zip", base.members())
    elif form == "zip-python-defaults":
        # writestr(name, ...) stores mode 0o600 with no file type bits: still a plain file.
        path = tmp_path / "b.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in base.members():
                archive.writestr(name, data)
        with zipfile.ZipFile(path) as archive:
            assert {i.external_attr >> 16 for i in archive.infolist()} == {0o600}
    else:
        path = write_tar(tmp_path / f"b.{form}", regular(base.members()))
    run = verify(path, base.trust)
    assert "Traceback" not in run.err, run.err[-3000:]
    report = run.report()
    assert (run.code, report["verdict"], report["findings"]) == (0, "verified", [])


def test_zip_bomb_really_expands_and_exceeds_the_ratio_limit(base: Base, tmp_path: Path) -> None:
    case = build("zip_bomb", base, tmp_path)
    with zipfile.ZipFile(case.path) as archive:
        info = archive.getinfo(DATA1)
        assert info.file_size == BOMB_SIZE
        assert info.file_size > container.MIN_RATIO_CHECK_BYTES
        assert info.file_size > container.MAX_COMPRESSION_RATIO * info.compress_size
        assert case.path.stat().st_size * 100 < BOMB_SIZE  # a few MB on disk
        # It really inflates: read (bounded) past the size below which ratios are not checked.
        with archive.open(info) as entry:
            total = 0
            while total <= container.MIN_RATIO_CHECK_BYTES:
                chunk = entry.read(8 << 20)
                assert chunk == bytes(len(chunk)) and chunk
                total += len(chunk)


def test_targz_bomb_really_expands_and_exceeds_the_ratio_limit(base: Base, tmp_path: Path) -> None:
    case = build("targz_bomb", base, tmp_path)
    assert container.MAX_COMPRESSION_RATIO * case.path.stat().st_size < BOMB_SIZE
    with tarfile.open(case.path, "r:gz") as archive:
        member = archive.next()
        while member is not None and member.name != DATA2:
            member = archive.next()
        assert member is not None and member.size == BOMB_SIZE
        entry = archive.extractfile(member)
        assert entry is not None
        total = 0
        while total <= container.MIN_RATIO_CHECK_BYTES:  # bounded: stop past the threshold
            chunk = entry.read(8 << 20)
            assert chunk == bytes(len(chunk)) and chunk
            total += len(chunk)


def test_crc32_of_appended_zeros_matches_zlib() -> None:
    for data in (b"", b"abc", bytes(range(256)) * 3):
        for count in (0, 1, 3, 512, 4096 + 17, 1 << 20):
            assert crc32_zeros(zlib.crc32(data), count) == zlib.crc32(data + bytes(count))


def _drive(job: Any) -> Any:
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def _members_of(path: Path) -> dict[str, bytes] | None:
    """The files of a container as read back, or None when it cannot be read whole."""
    try:
        with open_container(path) as opened:
            return {name: opened.read(name, 1 << 20) for name in opened.files()}
    except InvalidInputError:
        return None


def _mutate(data: bytes, rng: random.Random) -> bytes:
    mutated = bytearray(data)
    how = rng.choice(["flip", "cut", "insert", "zero"])
    at = rng.randrange(len(mutated))
    if how == "flip":
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
    elif how == "cut":
        del mutated[at:]
    elif how == "insert":
        mutated[at:at] = rng.randbytes(rng.randint(1, 64))
    else:
        mutated[at : at + 16] = bytes(len(mutated[at : at + 16]))
    return bytes(mutated)


@pytest.mark.parametrize("form", ["zip", "zip-stored", "tar", "tar.gz"])
def test_randomly_damaged_archives_never_crash_verify(
    form: str, base: Base, tmp_path: Path
) -> None:
    # In-process (fast) companion of the cases above: seeded random damage anywhere in the
    # archive. verify must return a verdict, never raise; "verified" only when the files read
    # back are exactly the sealed ones (the damage hit bytes that carry no bundle content).
    if form == "zip":
        pristine = write_zip(tmp_path / "pristine.zip", base.members()).read_bytes()
    elif form == "zip-stored":
        write_raw_zip(tmp_path / "pristine.zip", [stored(n, d) for n, d in base.members()])
        pristine = (tmp_path / "pristine.zip").read_bytes()
    else:
        pristine = write_tar(tmp_path / f"pristine.{form}", regular(base.members())).read_bytes()
    sealed = dict(base.members())
    trust = load_trust(base.trust)
    rng = random.Random(f"bad-input-{form}")
    target = tmp_path / f"damaged.{form.removesuffix('-stored')}"
    verdicts = set()
    for _ in range(150):
        target.write_bytes(_mutate(pristine, rng))
        report = _drive(verify_paths([target], trust, workers=1))
        verdicts.add(report.verdict)
        assert all(f.path for f in report.findings)
        if report.verdict not in (Verdict.INVALID, Verdict.TAMPERED):
            assert report.verdict is Verdict.VERIFIED
            assert _members_of(target) == sealed
    assert Verdict.INVALID in verdicts or Verdict.TAMPERED in verdicts
