"""Opening the path (docs/verification.md §2, before step 1): bundle, raw evidence or neither."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.registry import read_records
from auditlens.core.progress import Progress
from auditlens.core.verify.check import BundleCheck

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")


def looks_raw(path: Path) -> bool:
    """Whether a file that is no bundle is plausibly raw evidence (JSON, proto, zstd or gzip)."""
    if not path.is_file() or path.name.lower().endswith(ARCHIVE_SUFFIXES):
        return False
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except OSError:
        return False
    if not head:
        return False
    return (
        head.lstrip()[:1] in (b"{", b"[")
        or head.startswith((b"\x28\xb5\x2f\xfd", b"\x1f\x8b"))
        or (len(head) >= 5 and int.from_bytes(head[:4], "big") < (64 << 20) and head[4] == 0x0A)
    )


def check_raw_evidence(check: BundleCheck) -> Generator[Progress, None, None]:
    """Raw evidence proves nothing, but must be readable evidence (verification.md §2, opening)."""
    count = 0
    try:
        for count, _record in enumerate(read_records(check.path), start=1):
            if count % 50_000 == 0:
                check.token.check()
                yield Progress("reading", count, None, "records")
    except InvalidInputError as exc:
        check.report.sealed = True  # not evidence at all: the verdict is invalid, not unsealed
        check.add(
            "NOT_A_BUNDLE",
            f"neither a bundle nor readable raw evidence: {exc.message}",
            path=exc.path or check.name,
            line=exc.line,
            offset=exc.offset,
        )
        return
    check.add(
        "UNSEALED_INPUT",
        f"raw evidence ({count:,} records) without a seal; integrity not provable",
        path=check.name,
    )


# -- the steps -----------------------------------------------------------------------
