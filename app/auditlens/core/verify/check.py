"""What the steps of one bundle's verification share (docs/verification.md §2)."""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditlens.core.progress import CancelToken
from auditlens.core.verify.findings import CappedSink
from auditlens.core.verify.report import BundleReport
from auditlens.core.verify.trust import TrustStore


@dataclass
class BundleCheck:
    """One bundle being verified: its path, the trust store, the findings sink and the report.

    Every step of :mod:`auditlens.core.verify.steps` takes it first and reports into
    :attr:`sink`; none of them stops the others (docs/verification.md §1, "Complete").
    """

    path: Path
    trust: TrustStore
    token: CancelToken
    workers: int
    sink: CappedSink = field(default_factory=CappedSink)
    report: BundleReport = field(init=False)
    executor: Executor | None = None  # worker processes of step 7, kept for the next bundle

    def __post_init__(self) -> None:
        self.report = BundleReport(self.name)

    @property
    def name(self) -> str:
        """The bundle's path as findings name it."""
        return str(self.path)

    def at(self, member: str) -> str:
        """The place of a member of the bundle, ``bundle!member``."""
        return f"{self.name}!{member}"

    def add(self, code: str, message: str, **where: Any) -> None:
        """Record a finding for this bundle."""
        self.sink.add(code, message, **where)

    def count_check(self) -> None:
        """Count one check run (shown in the run's summary)."""
        self.sink.checks += 1
