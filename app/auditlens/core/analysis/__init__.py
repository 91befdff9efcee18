"""Detections, baselines, cross-stream corroboration and the compliance lens (docs/detections.md).

The API the CLI and the workbench call: :class:`Analysis` (session.py) opens a case with an origin
and journals each call; the functions below are the same calls without journaling, for code that
journals itself:

* :func:`run_detection` runs the rules over a case and stores the findings (a progress generator);
* :func:`findings` reads the stored findings of the last run, worst first;
* :func:`witnesses` gives the witnesses (audit record, log, span) of the action of one event;
* :func:`profile` gives one actor's baseline (hours, addresses, action mix);
* :func:`assess_compliance` checks the evidence against the frameworks of docs/compliance.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditlens.core.analysis.baselines import ActorBaseline
from auditlens.core.analysis.baselines import profile as profile
from auditlens.core.analysis.corroboration import witnesses as witnesses
from auditlens.core.analysis.detect import DetectReport
from auditlens.core.analysis.detect import run as run_detection
from auditlens.core.analysis.findings import EventRef, Finding
from auditlens.core.analysis.findings import load as _load
from auditlens.core.analysis.session import Analysis

if TYPE_CHECKING:
    from auditlens.core.analysis.compliance import Report
    from auditlens.core.store.case import Case

__all__ = [
    "ActorBaseline",
    "Analysis",
    "DetectReport",
    "EventRef",
    "Finding",
    "assess_compliance",
    "findings",
    "profile",
    "run_detection",
    "witnesses",
]


def findings(case: Case) -> list[Finding]:
    """The findings of the last detection run over ``case``, worst first (none before a run)."""
    return _load(case)


def assess_compliance(case: Case) -> Report:
    """The compliance lens over ``case`` (see compliance.assess)."""
    from auditlens.core.analysis.compliance import assess

    return assess(case)
