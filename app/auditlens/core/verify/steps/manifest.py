"""Step 2, Manifest (docs/verification.md §2)."""

from __future__ import annotations

import hashlib

from auditlens.core.bundle.canonical import canonicalize
from auditlens.core.bundle.container import Container
from auditlens.core.bundle.manifest import MANIFEST_PATH, MAX_MANIFEST_BYTES, parse_manifest
from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.jsontext import strict_json_loads
from auditlens.core.verify.check import BundleCheck


def check_manifest(check: BundleCheck, container: Container) -> bytes | None:
    """Step 2: ``manifest.json`` parsed strictly, every field checked, canonical form compared.

    Sets ``check.report.manifest``; returns the manifest's bytes, or ``None`` when it is invalid.
    """
    check.count_check()
    where = f"{check.name}!{MANIFEST_PATH}"
    data = container.read(MANIFEST_PATH, MAX_MANIFEST_BYTES)
    try:
        manifest = parse_manifest(data, source=where)
    except InvalidInputError as exc:
        check.add("MANIFEST_INVALID", exc.message, path=where)
        return None
    check.report.manifest = manifest
    check.report.manifest_sha256 = hashlib.sha256(data).hexdigest()
    check.count_check()
    try:
        canonical = canonicalize(strict_json_loads(data, path=where))
    except InvalidInputError as exc:
        # Parsable but outside the canonical subset (a float, a huge integer, a lone
        # surrogate): no sealer of this format writes it.
        check.add("MANIFEST_INVALID", f"not canonicalizable: {exc.message}", path=where)
        check.report.manifest = None
        return None
    if canonical != data:
        check.add(
            "NONCANONICAL_MANIFEST",
            "manifest bytes are not RFC 8785 canonical JSON",
            path=where,
            expected=hashlib.sha256(canonical).hexdigest(),
            actual=check.report.manifest_sha256,
        )
    return data
