"""Hostile inputs for ``auditlens verify`` (DESIGN.md §6), made by ``make_hostile``."""
