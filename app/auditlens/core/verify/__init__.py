"""core/verify: the checks of docs/verification.md, findings and verdicts, the trust store.

``verifier.py`` runs the numbered steps of §2 (one module each in ``steps/``), ``localize.py`` is
§2.1, ``across_bundles.py`` is step 9 and §3.1; docs/architecture.md §4 maps the rest.
"""
