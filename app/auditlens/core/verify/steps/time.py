"""Step 8, Time (docs/verification.md §2)."""

from __future__ import annotations

import itertools

from auditlens.core.bundle.manifest import Checkpoint
from auditlens.core.verify.check import BundleCheck

# Clocks of a cluster may differ by minutes, not more; beyond, a regression is worth a look.
ALLOWED_SKEW_NS = 5 * 60 * 1_000_000_000


def check_time(check: BundleCheck, checkpoints: list[Checkpoint] | None) -> None:
    """Step 8: a segment starting well before the previous one ended is noted (a warning)."""
    check.count_check()
    if not checkpoints:
        return
    for before, after in itertools.pairwise(checkpoints):
        if (
            after.time_min_ns
            and before.time_max_ns
            and after.time_min_ns < before.time_max_ns - ALLOWED_SKEW_NS
        ):
            check.add(
                "CLOCK_SKEW",
                "record times go back by more than the allowed skew",
                path=f"{check.name}!{after.file}",
                seq=after.first_seq,
                expected=f">= {before.time_max_ns - ALLOWED_SKEW_NS}",
                actual=str(after.time_min_ns),
            )
