"""The investigator's trust store: which public keys may seal which evidence.

Trust never comes from the bundle (DESIGN §2): a bundle names its signer, the trust store says
whether that signer is believed. No trust on first use. An empty trust store trusts nothing.

File format (``auditlens-truststore`` v1, JSON)::

    {"format": "auditlens-truststore", "version": 1, "sample": false,
     "keys": [{"key_id": hex, "algorithm": "ed25519", "public_key": PEM, "owner": text,
               "not_before": RFC3339 | null, "not_after": RFC3339 | null,
               "revoked_at": RFC3339 | null, "revocation_reason": text,
               "obtained": text}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditlens.core.errors import SigningKeyError, TrustStoreError
from auditlens.core.formats.jsontext import strict_json_loads
from auditlens.core.formats.times import parse_time_ns
from auditlens.core.verify.keys import PublicKey, algorithm_of, key_id, load_public_pem

TRUSTSTORE_FORMAT = "auditlens-truststore"
MAX_TRUSTSTORE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class TrustedKey:
    """A public key the investigator trusts, with its limits."""

    key_id: str
    algorithm: str
    public: PublicKey
    owner: str
    not_before_ns: int | None = None
    not_after_ns: int | None = None
    revoked_at_ns: int | None = None
    revocation_reason: str = ""
    obtained: str = ""
    source: str = ""
    sample: bool = False


@dataclass
class TrustStore:
    """A set of trusted keys, looked up by key id."""

    keys: dict[str, TrustedKey] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    sample: bool = False

    def add(self, key: TrustedKey) -> None:
        """Add a key; the first entry for a key id wins (an explicit store before a bare PEM)."""
        self.keys.setdefault(key.key_id, key)

    def get(self, key_id_hex: str) -> TrustedKey | None:
        """The trusted key with this id, or ``None``."""
        return self.keys.get(key_id_hex)

    def __len__(self) -> int:
        return len(self.keys)


def _time_or_none(value: Any, where: str, source: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TrustStoreError(f"{where}: expected an RFC 3339 time or null", path=source)
    try:
        return parse_time_ns(value)
    except ValueError as exc:
        raise TrustStoreError(f"{where}: {exc}", path=source) from exc


def load_trust(path: Path, store: TrustStore | None = None) -> TrustStore:
    """Load a trust store file or a bare PEM public key into ``store`` (a new one by default)."""
    store = store if store is not None else TrustStore()
    source = str(path)
    try:
        if path.stat().st_size > MAX_TRUSTSTORE_BYTES:
            raise TrustStoreError(f"larger than {MAX_TRUSTSTORE_BYTES} bytes", path=source)
        data = path.read_bytes()
    except OSError as exc:
        raise TrustStoreError(f"cannot read: {exc.strerror}", path=source) from exc
    store.sources.append(source)
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            public = load_public_pem(data, source=source)
        except SigningKeyError as exc:
            raise TrustStoreError(exc.message, path=source) from exc
        store.add(
            TrustedKey(
                key_id(public),
                algorithm_of(public),
                public,
                owner=f"public key file {path.name}",
                obtained="given on the command line",
                source=source,
            )
        )
        return store
    try:
        document = strict_json_loads(data, path=source)
    except Exception as exc:
        raise TrustStoreError(f"not a trust store or PEM public key: {exc}", path=source) from exc
    if not isinstance(document, dict) or document.get("format") != TRUSTSTORE_FORMAT:
        raise TrustStoreError(f"not an {TRUSTSTORE_FORMAT} file", path=source)
    if document.get("version") != 1:
        raise TrustStoreError(
            f"unsupported trust store version {document.get('version')!r}", path=source
        )
    sample = document.get("sample", False) is True
    store.sample = store.sample or sample
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise TrustStoreError("keys: expected a list", path=source)
    for i, item in enumerate(keys):
        where = f"keys[{i}]"
        if not isinstance(item, dict):
            raise TrustStoreError(f"{where}: expected an object", path=source)
        pem = item.get("public_key")
        if not isinstance(pem, str):
            raise TrustStoreError(f"{where}.public_key: expected a PEM string", path=source)
        try:
            public = load_public_pem(pem.encode("ascii"), source=source)
        except (SigningKeyError, UnicodeEncodeError) as exc:
            raise TrustStoreError(f"{where}.public_key: {exc}", path=source) from exc
        actual_id = key_id(public)
        if item.get("key_id") != actual_id:
            raise TrustStoreError(
                f"{where}.key_id: {item.get('key_id')!r} is not the id of its key ({actual_id})",
                path=source,
            )
        algorithm = item.get("algorithm")
        if algorithm != algorithm_of(public):
            raise TrustStoreError(
                f"{where}.algorithm: pinned {algorithm!r} but the key is {algorithm_of(public)}",
                path=source,
            )
        store.add(
            TrustedKey(
                key_id=actual_id,
                algorithm=algorithm,
                public=public,
                owner=str(item.get("owner", "")),
                not_before_ns=_time_or_none(item.get("not_before"), f"{where}.not_before", source),
                not_after_ns=_time_or_none(item.get("not_after"), f"{where}.not_after", source),
                revoked_at_ns=_time_or_none(item.get("revoked_at"), f"{where}.revoked_at", source),
                revocation_reason=str(item.get("revocation_reason", "")),
                obtained=str(item.get("obtained", "")),
                source=source,
                sample=sample,
            )
        )
    return store


def truststore_document(entries: list[dict[str, Any]], *, sample: bool = False) -> bytes:
    """Serialize a trust store file from key entries (as in the module docstring)."""
    document = {"format": TRUSTSTORE_FORMAT, "version": 1, "sample": sample, "keys": entries}
    return json.dumps(document, indent=2, sort_keys=True).encode("utf-8") + b"\n"
