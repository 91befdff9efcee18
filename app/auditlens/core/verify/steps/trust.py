"""Step 4, Trust (docs/verification.md §2; the trust store: docs/bundle-format.md §10).

:func:`check_signer` is the one trust check of a signer's key: a bundle's step 4
(:func:`check_trust`) and a signed PDF report's step 7 (``core/report/pdfverify.py``,
docs/report.md) both run it, each with the time its signature was made.
"""

from __future__ import annotations

from auditlens.core.bundle.manifest import ENVELOPE_PATH, Manifest
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.verify.check import BundleCheck
from auditlens.core.verify.findings import FindingSink
from auditlens.core.verify.trust import TrustedKey, TrustStore


def check_trust(check: BundleCheck, manifest: Manifest, signer: str) -> None:
    """Step 4: the signer's key is in a trust store, not revoked, valid when the bundle was sealed.

    Runs only for a signature that verified (step 3).
    """
    check.count_check()
    check_signer(
        check.trust,
        signer,
        manifest.sealed_at,
        check.sink,
        where=check.at(ENVELOPE_PATH),
        made="bundle sealed",
    )


def check_signer(
    trust: TrustStore,
    key_id: str,
    signed_at: str,
    sink: FindingSink,
    *,
    where: str,
    made: str,
    signer: str = "",
) -> TrustedKey | None:
    """Whether the key ``key_id`` of a verified signature made at ``signed_at`` is to be believed.

    Adds to ``sink``: ``UNTRUSTED_SIGNER`` (and nothing else) when the key is not in ``trust``,
    an empty store trusting nothing; else ``KEY_REVOKED``, ``KEY_EXPIRED`` when ``signed_at``
    (RFC 3339, "" when the signature names no time) is outside the key's validity or not
    known, and ``SAMPLE_TRUST`` for a key of a sample store.

    Args:
        trust: the investigator's trust store.
        key_id: the signature's key id (hex).
        signed_at: when the signature was made, as the signed document says.
        sink: where the findings go.
        where: the findings' place.
        made: what was made when, for ``KEY_EXPIRED`` ("bundle sealed").
        signer: the signer's name, when the signature carries one.

    Returns:
        The trusted key, or None when the key is not trusted.
    """
    trusted = trust.get(key_id)
    if trusted is None:
        why = "no trust store was given" if not len(trust) else "its key is not in the trust store"
        by = f" by {signer}" if signer else ""
        sink.add(
            "UNTRUSTED_SIGNER",
            f"valid signature{by}, but {why}",
            path=where,
            expected="a trusted key",
            actual=key_id,
        )
        return None
    try:
        signed_ns = parse_time_ns(signed_at) if signed_at else None
    except ValueError:
        signed_ns = None
    if trusted.revoked_at_ns is not None:
        sink.add("KEY_REVOKED", trusted.revocation(), path=where, actual=key_id)
    if trusted.outside_validity(signed_ns):
        # No readable time is not a time outside the bounds: it is validity that cannot be shown
        # (docs/verification.md §2, step 4), and the message must not claim more.
        what = (
            f"{made} outside the key's validity"
            if signed_ns is not None
            else f"{made} at no readable time: it cannot be shown within the key's validity"
        )
        sink.add(
            "KEY_EXPIRED",
            what,
            path=where,
            expected="within the trust store's not_before..not_after",
            actual=signed_at[:64] or "no signing time",
        )
    if trusted.sample:
        sink.add(
            "SAMPLE_TRUST",
            "trusted through a sample trust store: for demonstration only",
            path=where,
            actual=key_id,
        )
    return trusted
