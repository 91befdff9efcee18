"""Signing keys: generation, loading, key ids, signing and verification.

Allowed algorithms (docs/bundle-format.md §9) and nothing else: Ed25519 (default), ECDSA P-256
with SHA-256, RSA-PSS with SHA-256, MGF1-SHA-256, salt length 32 and a modulus of at least 3072
bits. The key id is the lower-case hex SHA-256 of the DER SubjectPublicKeyInfo.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from auditlens.core.errors import SigningKeyError

Algorithm = Literal["ed25519", "ecdsa-p256-sha256", "rsa-pss-sha256"]
ALGORITHMS: tuple[Algorithm, ...] = ("ed25519", "ecdsa-p256-sha256", "rsa-pss-sha256")
# CLI spellings of the algorithms.
ALGORITHM_ALIASES: dict[str, Algorithm] = {
    "ed25519": "ed25519",
    "ecdsa-p256": "ecdsa-p256-sha256",
    "ecdsa-p256-sha256": "ecdsa-p256-sha256",
    "rsa-pss-3072": "rsa-pss-sha256",
    "rsa-pss-sha256": "rsa-pss-sha256",
}
MIN_RSA_BITS = 3072  # NIST SP 800-57 pt. 1: 3072 bits for 128-bit security, matching the others.
RSA_PSS_SALT = 32
MAX_KEY_FILE = 64 * 1024  # a PEM key is a few KiB; refuse to parse anything much larger.

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _spki(public: PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public: PublicKey) -> str:
    """Return the key id: lower-case hex SHA-256 of the DER SubjectPublicKeyInfo."""
    return hashlib.sha256(_spki(public)).hexdigest()


def algorithm_of(public: PublicKey) -> Algorithm:
    """Return the bundle-format algorithm name of a public key, refusing disallowed keys."""
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(public, ec.EllipticCurvePublicKey):
        if not isinstance(public.curve, ec.SECP256R1):
            raise SigningKeyError(f"elliptic curve {public.curve.name} is not allowed; use P-256")
        return "ecdsa-p256-sha256"
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size < MIN_RSA_BITS:
            raise SigningKeyError(
                f"RSA key of {public.key_size} bits is below the minimum of {MIN_RSA_BITS}"
            )
        return "rsa-pss-sha256"
    raise SigningKeyError(f"key type {type(public).__name__} is not allowed")


@dataclass(frozen=True)
class SigningKey:
    """A private key with its algorithm and key id."""

    private: PrivateKey
    algorithm: Algorithm
    key_id: str

    @classmethod
    def from_private(cls, private: PrivateKey) -> SigningKey:
        """Wrap a private key after checking it is of an allowed algorithm."""
        public = private.public_key()
        return cls(private, algorithm_of(public), key_id(public))

    def public_key(self) -> PublicKey:
        """The public half."""
        return self.private.public_key()

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` with the key's algorithm."""
        key = self.private
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(message)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(message, ec.ECDSA(hashes.SHA256()))
        return key.sign(
            message,
            padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=RSA_PSS_SALT),
            hashes.SHA256(),
        )

    def public_pem(self) -> bytes:
        """The public key as a PEM SubjectPublicKeyInfo."""
        return self.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def generate(algorithm: str = "ed25519") -> SigningKey:
    """Generate a new signing key of an allowed algorithm (CLI spellings accepted)."""
    alg = ALGORITHM_ALIASES.get(algorithm)
    if alg is None:
        raise SigningKeyError(
            f"unknown algorithm {algorithm!r}; use one of {sorted(ALGORITHM_ALIASES)}"
        )
    private: PrivateKey
    if alg == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif alg == "ecdsa-p256-sha256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
    return SigningKey.from_private(private)


def sample_key(label: str) -> SigningKey:
    """Return a deterministic Ed25519 key derived from a public label.

    THROWAWAY: anyone can recompute it. Used only for the built-in sample evidence and the
    published test vectors, whose trust stores mark it as a sample.
    """
    seed = hashlib.sha256(b"AUDITLENS-THROWAWAY-SAMPLE-KEY:" + label.encode("utf-8")).digest()
    return SigningKey.from_private(ed25519.Ed25519PrivateKey.from_private_bytes(seed))


def read_small(path: Path, what: str = "key file", limit: int = MAX_KEY_FILE) -> bytes:
    """The bytes of a key or certificate file, refused unread when larger than ``limit``.

    Raises:
        SigningKeyError: naming ``what`` and the file, when it is too large or unreadable.
    """
    try:
        size = path.stat().st_size
        if size > limit:
            raise SigningKeyError(f"{what} is {size} bytes, larger than {limit}", path=str(path))
        return path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read {what}: {exc.strerror}", path=str(path)) from exc


def load_private(path: Path) -> SigningKey:
    """Load an unencrypted PEM private key of an allowed algorithm."""
    data = read_small(path)
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"not an unencrypted PEM private key: {exc}", path=str(path)) from exc
    if not isinstance(
        private, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        raise SigningKeyError(f"key type {type(private).__name__} is not allowed", path=str(path))
    try:
        return SigningKey.from_private(private)
    except SigningKeyError as exc:
        raise SigningKeyError(exc.message, path=str(path)) from exc


def load_public_pem(data: bytes, *, source: str = "<pem>") -> PublicKey:
    """Parse a PEM SubjectPublicKeyInfo of an allowed algorithm."""
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"not a PEM public key: {exc}", path=source) from exc
    if not isinstance(
        public, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    ):
        raise SigningKeyError(f"key type {type(public).__name__} is not allowed", path=source)
    algorithm_of(public)
    return public


def verify_signature(public: PublicKey, algorithm: str, signature: bytes, message: bytes) -> bool:
    """Return whether ``signature`` is valid for ``message`` under ``public`` and ``algorithm``.

    The algorithm is the one pinned for the key (trust store) or derived from the key; it must
    agree with the key's type, so a signature cannot be reinterpreted under a weaker scheme.
    """
    try:
        if algorithm != algorithm_of(public):
            return False
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, message)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(
                signature,
                message,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=RSA_PSS_SALT),
                hashes.SHA256(),
            )
    except (InvalidSignature, SigningKeyError):
        return False
    return True


def write_keypair(key: SigningKey, out_dir: Path) -> tuple[Path, Path]:
    """Write ``signing-key.pem`` (mode 0600) and ``signing-key.pub.pem`` into ``out_dir``.

    Refuses to overwrite an existing key: losing a signing key is not undoable.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    private_path = out_dir / "signing-key.pem"
    public_path = out_dir / "signing-key.pub.pem"
    for path in (private_path, public_path):
        if path.exists():
            raise SigningKeyError("refusing to overwrite an existing key file", path=str(path))
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_pem())
    public_path.write_bytes(key.public_pem())
    return private_path, public_path
