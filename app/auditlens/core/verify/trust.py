"""The investigator's trust store: which public keys may seal which evidence.

Trust never comes from the bundle (docs/bundle-format.md §10): a bundle names its signer, the
trust store says whether that signer is believed. No trust on first use. An empty trust store
trusts nothing.

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

from auditlens.core.crypto.keys import PublicKey, algorithm_of, key_id, load_public_pem
from auditlens.core.errors import SigningKeyError, TrustStoreError
from auditlens.core.formats.jsontext import strict_json_loads
from auditlens.core.formats.times import parse_time_ns

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

    def revocation(self) -> str:
        """The finding's text for a revoked key: whose, and why when the store says."""
        reason = f": {self.revocation_reason}" if self.revocation_reason else ""
        return f"key of {self.owner or 'unknown owner'} is revoked{reason}"

    def outside_validity(self, at_ns: int | None) -> bool:
        """Whether a signature made at ``at_ns`` falls outside the key's not_before..not_after.

        A key without either limit is valid at any time; with a limit, an unknown time
        (``None``) counts as outside: validity cannot then be shown (docs/verification.md §2,
        step 4).
        """
        if self.not_before_ns is None and self.not_after_ns is None:
            return False
        return at_ns is None or (
            (self.not_before_ns is not None and at_ns < self.not_before_ns)
            or (self.not_after_ns is not None and at_ns > self.not_after_ns)
        )


@dataclass
class TrustStore:
    """A set of trusted keys, looked up by key id."""

    keys: dict[str, TrustedKey] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    sample: bool = False

    def add(self, key: TrustedKey, where: str = "") -> None:
        """Add a key. A key id given again must say the same about the key (bundle-format §10).

        Two stores may both list a key (a team store and a personal one); when they agree on its
        validity and revocation the first entry is kept. When they disagree, whichever entry won
        would silently overrule the other (a revocation ignored because an older copy of the key
        came first), so the stores are refused instead.

        Raises:
            TrustStoreError: when the key id is already trusted with other limits.
        """
        known = self.keys.get(key.key_id)
        if known is None:
            self.keys[key.key_id] = key
            return
        if _limits(known) != _limits(key):
            raise TrustStoreError(
                f"{where or 'key'}: key {key.key_id} is also listed in {known.source} with other "
                f"validity or revocation ({_describe(known)} there, {_describe(key)} here); "
                "the trust stores contradict each other",
                path=key.source,
            )

    def get(self, key_id_hex: str) -> TrustedKey | None:
        """The trusted key with this id, or ``None``."""
        return self.keys.get(key_id_hex)

    def __len__(self) -> int:
        return len(self.keys)


def _limits(key: TrustedKey) -> tuple[int | None, int | None, int | None]:
    return (key.not_before_ns, key.not_after_ns, key.revoked_at_ns)


def _describe(key: TrustedKey) -> str:
    parts = [
        f"{name} {value}"
        for name, value in zip(
            ("not_before_ns", "not_after_ns", "revoked_at_ns"), _limits(key), strict=True
        )
        if value is not None
    ]
    return ", ".join(parts) or "no limits"


# Members of a trust store and of a key entry. Anything else is refused: a misspelt member
# ("revoked" for "revoked_at") would otherwise be ignored and the key trusted without its limit.
_STORE_MEMBERS = {"format", "version", "sample", "keys"}
_KEY_MEMBERS = {
    "key_id",
    "algorithm",
    "public_key",
    "owner",
    "not_before",
    "not_after",
    "revoked_at",
    "revocation_reason",
    "obtained",
}
_KEY_TEXT = ("owner", "revocation_reason", "obtained")


def _unknown(members: Any, allowed: set[str], where: str, source: str) -> None:
    extra = sorted(set(members) - allowed)
    if extra:
        raise TrustStoreError(
            f"{where}: unknown member {extra[0]!r} (allowed: {', '.join(sorted(allowed))})",
            path=source,
        )


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
    _unknown(document, _STORE_MEMBERS, "trust store", source)
    version = document.get("version")
    if type(version) is not int or version != 1:
        raise TrustStoreError(f"unsupported trust store version {version!r}", path=source)
    sample = document.get("sample", False)
    if not isinstance(sample, bool):
        # "true" as a string must not be read as false: a sample store would lose its notice.
        raise TrustStoreError(
            f"sample: expected true or false, found {type(sample).__name__} {sample!r}",
            path=source,
        )
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise TrustStoreError("keys: expected a list", path=source)
    loaded = TrustStore()
    first_entry: dict[str, str] = {}
    for i, item in enumerate(keys):
        where = f"keys[{i}]"
        if not isinstance(item, dict):
            raise TrustStoreError(f"{where}: expected an object", path=source)
        _unknown(item, _KEY_MEMBERS, where, source)
        for name in _KEY_TEXT:
            if not isinstance(item.get(name, ""), str):
                raise TrustStoreError(
                    f"{where}.{name}: expected a string, found {type(item[name]).__name__}",
                    path=source,
                )
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
        if actual_id in first_entry:
            # One store, one entry per key: which of two entries applies is not for us to guess.
            raise TrustStoreError(
                f"{where}: key {actual_id} is listed twice (also {first_entry[actual_id]}); "
                "a trust store lists each key once",
                path=source,
            )
        first_entry[actual_id] = where
        loaded.add(
            TrustedKey(
                key_id=actual_id,
                algorithm=algorithm,
                public=public,
                owner=item.get("owner", ""),
                not_before_ns=_time_or_none(item.get("not_before"), f"{where}.not_before", source),
                not_after_ns=_time_or_none(item.get("not_after"), f"{where}.not_after", source),
                revoked_at_ns=_time_or_none(item.get("revoked_at"), f"{where}.revoked_at", source),
                revocation_reason=item.get("revocation_reason", ""),
                obtained=item.get("obtained", ""),
                source=source,
                sample=sample,
            )
        )
    for i, key in enumerate(loaded.keys.values()):
        store.add(key, f"keys[{i}]")
    store.sample = store.sample or sample
    return store


def truststore_document(entries: list[dict[str, Any]], *, sample: bool = False) -> bytes:
    """Serialize a trust store file from key entries (as in the module docstring)."""
    document = {"format": TRUSTSTORE_FORMAT, "version": 1, "sample": sample, "keys": entries}
    return json.dumps(document, indent=2, sort_keys=True).encode("utf-8") + b"\n"
