"""Signing keys, key ids, allowed algorithms and the trust store."""

import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from auditlens.core.crypto import keys
from auditlens.core.errors import SigningKeyError, TrustStoreError
from auditlens.core.verify.trust import load_trust, truststore_document


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256", "rsa-pss-3072"])
def test_sign_verify_roundtrip_and_key_id(alg):
    key = keys.generate(alg)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key.key_id == hashlib.sha256(der).hexdigest()
    sig = key.sign(b"message")
    assert keys.verify_signature(key.public_key(), key.algorithm, sig, b"message")
    assert not keys.verify_signature(key.public_key(), key.algorithm, sig, b"messagE")


def test_signature_not_accepted_under_another_algorithm_name():
    key = keys.generate("ed25519")
    assert not keys.verify_signature(key.public_key(), "rsa-pss-sha256", key.sign(b"m"), b"m")


def test_weak_and_foreign_keys_are_refused():
    with pytest.raises(SigningKeyError, match="below the minimum of 3072"):
        keys.algorithm_of(
            rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        )
    with pytest.raises(SigningKeyError, match="not allowed"):
        keys.algorithm_of(ec.generate_private_key(ec.SECP384R1()).public_key())
    with pytest.raises(SigningKeyError, match="unknown algorithm"):
        keys.generate("dsa")


def test_sample_key_is_deterministic_and_label_bound():
    assert keys.sample_key("a").key_id == keys.sample_key("a").key_id
    assert keys.sample_key("a").key_id != keys.sample_key("b").key_id


def test_write_keypair_is_private_and_never_overwrites(tmp_path):
    key = keys.generate()
    private, _public = keys.write_keypair(key, tmp_path)
    assert private.stat().st_mode & 0o777 == 0o600
    assert keys.load_private(private).key_id == key.key_id
    with pytest.raises(SigningKeyError, match="overwrite"):
        keys.write_keypair(keys.generate(), tmp_path)
    assert keys.load_private(private).key_id == key.key_id


def entry(key, **extra):
    return {
        "key_id": key.key_id,
        "algorithm": key.algorithm,
        "public_key": key.public_pem().decode(),
        "owner": "test",
        **extra,
    }


def test_trust_store_loads_keys_and_limits(tmp_path):
    key = keys.generate()
    path = tmp_path / "trust.json"
    path.write_bytes(
        truststore_document([entry(key, not_after="2027-01-01T00:00:00Z", revoked_at=None)])
    )
    store = load_trust(path)
    trusted = store.get(key.key_id)
    assert trusted is not None
    assert trusted.not_after_ns == 1798761600 * 10**9
    assert store.get("0" * 64) is None


def test_trust_store_accepts_a_bare_pem(tmp_path):
    key = keys.generate("ecdsa-p256")
    path = tmp_path / "k.pub.pem"
    path.write_bytes(key.public_pem())
    assert load_trust(path).get(key.key_id) is not None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(key_id="ab" * 32), "is not the id of its key"),
        (lambda e: e.update(algorithm="rsa-pss-sha256"), "pinned"),
        (lambda e: e.update(public_key="nope"), "public_key"),
        (lambda e: e.update(not_after="yesterday"), "not_after"),
    ],
)
def test_trust_store_rejects_inconsistent_entries(tmp_path, mutate, message):
    item = entry(keys.generate())
    mutate(item)
    path = tmp_path / "trust.json"
    path.write_bytes(truststore_document([item]))
    with pytest.raises(TrustStoreError, match=message):
        load_trust(path)


def test_trust_store_rejects_other_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"keys": []}))
    with pytest.raises(TrustStoreError, match="not an auditlens-truststore"):
        load_trust(path)
