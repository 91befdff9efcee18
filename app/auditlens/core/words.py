"""Counts in what a person reads: "1 event", "2,134 events", never "1 events".

The CLI, the workbench and the report say how many of something there are in many places; one
function spells the number (thousands separated) and the word in its number.
"""

from __future__ import annotations


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and ``word``, or ``plural`` (default ``word`` + "s") unless ``n`` is one."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"
