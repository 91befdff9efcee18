"""Step 5, Inventory (docs/verification.md §2)."""

from __future__ import annotations

import hashlib

from auditlens.core.bundle.container import Container, Entry, unsafe_reason
from auditlens.core.bundle.manifest import ENVELOPE_PATH, MANIFEST_PATH, FileEntry, Manifest
from auditlens.core.verify.check import BundleCheck

READ_CHUNK = 8 * 1024 * 1024


def unsafe_reason_path(name: str) -> str | None:
    """Why a manifest-listed path is unsafe, or ``None``."""
    return unsafe_reason(Entry(name, 0, "file"))


def digest_member(container: Container, name: str) -> tuple[str, int]:
    """SHA-256 (hex) and size of a member, read as a stream."""
    digest = hashlib.sha256()
    size = 0
    with container.open(name) as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def check_inventory(
    check: BundleCheck, container: Container, files: dict[str, Entry], manifest: Manifest
) -> dict[str, FileEntry]:
    """Step 5: listed files present (index files digested), nothing unlisted.

    Returns the listed files fit for the next steps by path; data files are digested in step 7.
    """
    listed = {f.path: f for f in manifest.files}
    ok: dict[str, FileEntry] = {}
    for entry in manifest.files:
        check.count_check()
        check.report.files_checked += 1
        where = f"{check.name}!{entry.path}"
        if unsafe_reason_path(entry.path):
            check.add(
                "UNSAFE_PATH",
                f"manifest lists an unsafe path: {unsafe_reason_path(entry.path)}",
                path=where,
            )
            continue
        if entry.path not in files:
            check.add(
                "MISSING_FILE",
                "listed in the manifest but absent",
                path=where,
                expected=entry.sha256,
                actual="absent",
            )
            continue
        if entry.role == "data":
            ok[entry.path] = entry  # digested in step 7, with the records
            continue
        digest, size = digest_member(container, entry.path)
        if digest != entry.sha256 or size != entry.size:
            check.add(
                "FILE_DIGEST_MISMATCH",
                f"{entry.role} file differs from the manifest",
                path=where,
                expected=f"{entry.size} bytes sha256:{entry.sha256}",
                actual=f"{size} bytes sha256:{digest}",
            )
            continue
        ok[entry.path] = entry
    for name in sorted(files):
        if name not in listed and name not in (MANIFEST_PATH, ENVELOPE_PATH):
            check.count_check()
            check.add(
                "UNLISTED_FILE",
                "present in the bundle but not listed in the manifest",
                path=f"{check.name}!{name}",
                expected="absent",
                actual=f"{files[name].size} bytes",
            )
    return ok
