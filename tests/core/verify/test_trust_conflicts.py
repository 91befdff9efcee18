"""Trust store conflicts are refused, never settled in silence (issue 16, point 8).

A key listed twice (the second entry revoked) used to verify through the first entry, and
``"sample": "true"`` (a string) was read as false; both are now refused, naming the entry.
"""

import json

import pytest

from auditlens.core.crypto import keys
from auditlens.core.errors import TrustStoreError
from auditlens.core.verify.trust import TrustStore, load_trust, truststore_document


def entry(key, **extra):
    return {
        "key_id": key.key_id,
        "algorithm": key.algorithm,
        "public_key": key.public_pem().decode(),
        "owner": "Sealer prod, tenant-a",
        **extra,
    }


def write(path, entries, **top):
    document = json.loads(truststore_document(entries))
    document.update(top)
    path.write_text(json.dumps(document))
    return path


def test_a_key_listed_twice_in_one_store_is_refused_naming_both_entries(tmp_path):
    key = keys.generate()
    path = write(
        tmp_path / "trust.json",
        [
            entry(key),
            entry(key, revoked_at="2026-03-01T00:00:00Z", revocation_reason="key leaked"),
        ],
    )
    with pytest.raises(
        TrustStoreError,
        match=r"keys\[1\]: key [0-9a-f]{64} is listed twice "
        r"\(also keys\[0\]\)",
    ) as caught:
        load_trust(path)
    assert caught.value.path == str(path)


def test_a_key_listed_twice_identically_is_refused_too(tmp_path):
    key = keys.generate()
    path = write(tmp_path / "trust.json", [entry(key), entry(key)])
    with pytest.raises(TrustStoreError, match="listed twice"):
        load_trust(path)


def test_two_stores_that_disagree_on_a_key_are_refused(tmp_path):
    key = keys.generate()
    first = write(tmp_path / "team.json", [entry(key)])
    second = write(tmp_path / "mine.json", [entry(key, revoked_at="2026-03-01T00:00:00Z")])
    store = TrustStore()
    load_trust(first, store)
    with pytest.raises(TrustStoreError, match=f"also listed in {first}") as caught:
        load_trust(second, store)
    assert "revoked_at_ns 1772323200000000000 here" in caught.value.message


def test_two_stores_that_agree_on_a_key_load(tmp_path):
    key = keys.generate()
    limits = {"not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z"}
    store = TrustStore()
    load_trust(write(tmp_path / "a.json", [entry(key, **limits)]), store)
    load_trust(write(tmp_path / "b.json", [entry(key, **limits)]), store)
    trusted = store.get(key.key_id)
    assert trusted is not None and trusted.source == str(tmp_path / "a.json")


def test_a_bare_pem_beside_a_revoking_store_is_a_conflict(tmp_path):
    key = keys.generate()
    pem = tmp_path / "k.pub.pem"
    pem.write_bytes(key.public_pem())
    store = TrustStore()
    load_trust(write(tmp_path / "t.json", [entry(key, revoked_at="2026-03-01T00:00:00Z")]), store)
    with pytest.raises(TrustStoreError, match="contradict"):
        load_trust(pem, store)


@pytest.mark.parametrize("value", ["true", "false", 1, None, []])
def test_sample_of_the_wrong_type_is_refused(tmp_path, value):
    path = write(tmp_path / "trust.json", [entry(keys.generate())], sample=value)
    with pytest.raises(TrustStoreError, match=r"sample: expected true or false, found"):
        load_trust(path)


def test_sample_true_marks_the_store(tmp_path):
    key = keys.generate()
    assert load_trust(write(tmp_path / "s.json", [entry(key)], sample=True)).sample
    assert not load_trust(write(tmp_path / "p.json", [entry(key)], sample=False)).sample


@pytest.mark.parametrize(
    ("member", "value", "message"),
    [
        ("owner", 17, r"keys\[0\]\.owner: expected a string, found int"),
        ("obtained", ["usb"], r"keys\[0\]\.obtained: expected a string, found list"),
        ("revocation_reason", {"x": 1}, r"keys\[0\]\.revocation_reason: expected a string"),
        ("revoked", "2026-03-01T00:00:00Z", r"keys\[0\]: unknown member 'revoked'"),
    ],
)
def test_key_members_of_the_wrong_type_or_name_are_refused(tmp_path, member, value, message):
    path = write(tmp_path / "trust.json", [entry(keys.generate(), **{member: value})])
    with pytest.raises(TrustStoreError, match=message):
        load_trust(path)


def test_version_true_is_not_version_1(tmp_path):
    path = write(tmp_path / "trust.json", [entry(keys.generate())], version=True)
    with pytest.raises(TrustStoreError, match="unsupported trust store version True"):
        load_trust(path)
