"""Step 4, Trust (docs/verification.md §2; the trust store: docs/bundle-format.md §10)."""

from __future__ import annotations

from auditlens.core.bundle.manifest import ENVELOPE_PATH, Manifest
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.verify.check import BundleCheck


def check_trust(check: BundleCheck, manifest: Manifest, signer: str) -> None:
    """Step 4: the signer's key is in a trust store, not revoked, valid when the bundle was sealed.

    Runs only for a signature that verified (step 3).
    """
    where = check.at(ENVELOPE_PATH)
    check.count_check()
    trusted = check.trust.get(signer)
    if trusted is None:
        why = (
            "no trust store was given"
            if not len(check.trust)
            else "its key is not in the trust store"
        )
        check.add(
            "UNTRUSTED_SIGNER",
            f"valid signature, but {why}",
            path=where,
            expected="a trusted key",
            actual=signer,
        )
        return
    try:
        sealed = parse_time_ns(manifest.sealed_at)
    except ValueError:
        sealed = None
    if trusted.revoked_at_ns is not None:
        check.add(
            "KEY_REVOKED",
            trusted.revocation(),
            path=where,
            actual=signer,
        )
    if trusted.outside_validity(sealed):
        check.add(
            "KEY_EXPIRED",
            "bundle sealed outside the key's validity",
            path=where,
            expected="within the trust store's not_before..not_after",
            actual=manifest.sealed_at[:64],
        )
    if trusted.sample:
        check.add(
            "SAMPLE_TRUST",
            "trusted through a sample trust store: for demonstration only",
            path=where,
            actual=signer,
        )
