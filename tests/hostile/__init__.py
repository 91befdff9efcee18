"""Hostile inputs for ``auditlens verify`` (docs/robustness.md), made by ``make_hostile``."""
