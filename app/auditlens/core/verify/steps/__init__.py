"""The numbered steps of docs/verification.md §2, one module per step.

Each step takes the :class:`~auditlens.core.verify.check.BundleCheck` of the bundle first,
reports into its sink and returns what the next steps need; :mod:`auditlens.core.verify.verifier`
runs them in order. Step 9 (across bundles) is :mod:`auditlens.core.verify.across_bundles`.
"""
