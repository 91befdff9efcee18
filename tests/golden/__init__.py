"""Golden evidence: valid and tampered bundles made by ``make_golden.py`` (STYLE.md §15)."""
