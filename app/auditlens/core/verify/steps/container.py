"""Step 1, Container (docs/verification.md §2)."""

from __future__ import annotations

from collections import Counter

from auditlens.core.bundle.container import Container, Entry, unsafe_reason
from auditlens.core.bundle.manifest import MANIFEST_PATH
from auditlens.core.verify.check import BundleCheck


def check_container(check: BundleCheck, container: Container) -> dict[str, Entry] | None:
    """Step 1: every entry listed; unsafe, duplicated and hidden ones reported, never used.

    Returns the usable files by name (no duplicated name, no unsafe entry), or ``None`` when
    there is no ``manifest.json`` to go on with.
    """
    check.count_check()
    seen: set[str] = set()
    for entry in container.entries:
        reason = unsafe_reason(entry)
        if reason is not None:
            check.add("UNSAFE_PATH", f"{reason}; never opened", path=f"{check.name}!{entry.name}")
        if entry.name in seen:
            check.add(
                "DUPLICATE_ENTRY",
                "entry name appears more than once; neither copy is trusted",
                path=f"{check.name}!{entry.name}",
            )
        seen.add(entry.name)
    hidden = container.trailing_bytes()
    if hidden:
        check.add(
            "TRAILING_DATA",
            f"{hidden} bytes hidden outside the archive's listed entries",
            path=check.name,
            expected="0",
            actual=str(hidden),
        )
    files = container.files()
    counts = Counter(e.name for e in container.entries)
    duplicates = {name for name, count in counts.items() if count > 1}
    for name in duplicates:
        files.pop(name, None)
    if MANIFEST_PATH not in files:
        if not files:
            check.add(
                "MANIFEST_MISSING",
                "no manifest.json (and no files): not a bundle",
                path=check.name,
            )
        else:
            nested = sorted(n for n in files if n.count("/") == 1 and n.endswith(MANIFEST_PATH))
            hint = (
                f" (its files are inside the folder {nested[0].split('/')[0]!r}: a bundle's "
                "files are at the container's root, bundle-format §2)"
                if nested
                else ""
            )
            check.add("MANIFEST_MISSING", f"the bundle has no manifest.json{hint}", path=check.name)
        return None
    return dict(files)
