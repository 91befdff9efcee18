"""Step 4's validity check says what it knows: a time outside the key's bounds, or no time."""

from auditlens.core.crypto import keys
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.verify.findings import FindingSink
from auditlens.core.verify.steps.trust import check_signer
from auditlens.core.verify.trust import TrustedKey, TrustStore

NOT_AFTER = "2026-06-30T23:59:59Z"


def bounded_store():
    key = keys.generate("ed25519")
    store = TrustStore()
    store.add(
        TrustedKey(
            key.key_id,
            key.algorithm,
            key.public_key(),
            "Sealer prod, tenant-a",
            not_before_ns=parse_time_ns("2026-01-01T00:00:00Z"),
            not_after_ns=parse_time_ns(NOT_AFTER),
        )
    )
    return store, key.key_id


def expired(signed_at):
    store, key_id = bounded_store()
    sink = FindingSink()
    check_signer(store, key_id, signed_at, sink, where="B!manifest.dsse.json", made="bundle sealed")
    return [f for f in sink.findings if f.code == "KEY_EXPIRED"]


def test_a_time_after_the_keys_validity_is_named_as_outside_it():
    (finding,) = expired("2026-11-14T09:30:00.250Z")
    assert finding.message == "bundle sealed outside the key's validity"
    assert finding.actual == "2026-11-14T09:30:00.250Z"


def test_no_signing_time_is_not_called_outside_the_validity_but_unshowable():
    for signed_at, actual in (("", "no signing time"), ("2026-13-40T99:00:00Z", None)):
        (finding,) = expired(signed_at)
        assert finding.message == (
            "bundle sealed at no readable time: it cannot be shown within the key's validity"
        )
        assert finding.actual == (actual or signed_at)


def test_a_time_within_the_validity_gives_no_finding():
    assert expired("2026-03-02T08:00:00Z") == []
