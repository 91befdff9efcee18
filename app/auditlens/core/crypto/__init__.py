"""core/crypto: leaf, chain and Merkle hashing, signing keys, DSSE envelopes.

The lowest layer of core that knows the bundle format's cryptography (docs/architecture.md):
both the sealer (``bundle/``) and the verifier (``verify/``) stand on it, and it imports neither.
"""
