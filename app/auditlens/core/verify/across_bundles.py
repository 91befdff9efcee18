"""Step 9, Across bundles (docs/verification.md §2 and §3.1): the stream between its bundles.

The bundles of one stream and epoch, in sequence order, must continue each other. What is found
between them belongs to the stream, not to a bundle: a bundle's own verdict speaks of that bundle
only, and the stream gets its own verdict. The same function serves ``verify`` (over the paths
given) and the case (over every bundle it holds), so both agree on the same set of bundles
whatever the order in which they were given.

Order independence: bundles are ordered by first sequence number, then by their own verdict
(verified before untrusted before tampered), then by manifest digest; only the naming of which of
two identical copies is the replay follows the order given. When two bundles conflict (a fork or a
rollback), the less trusted one is named; an untrusted bundle therefore never blames a trusted
one, whatever the order of the arguments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from auditlens.core.verify.findings import Verdict, worst
from auditlens.core.verify.report import BundleReport, StreamReport
from auditlens.core.verify.steps.time import ALLOWED_SKEW_NS

# A bundle's standing when two conflict: the lower is believed, the higher is named.
_STANDING = {Verdict.VERIFIED: 0, Verdict.UNTRUSTED: 1, Verdict.TAMPERED: 2}
_Add = Callable[..., Any]


def check_across_bundles(reports: Sequence[BundleReport]) -> list[StreamReport]:
    """Step 9 over a set of bundles: one report per stream and epoch, in stream order.

    Bundles found ``invalid`` (or without a manifest, or raw evidence) belong to no stream.
    """
    groups: dict[tuple[str, int], list[tuple[int, BundleReport]]] = defaultdict(list)
    for index, report in enumerate(reports):
        m = report.manifest
        if m is not None and report.verdict in _STANDING:
            groups[(m.stream_id, m.epoch)].append((index, report))
    return [
        _check_stream(stream, epoch, groups[(stream, epoch)]) for stream, epoch in sorted(groups)
    ]


def _order(item: tuple[int, BundleReport]) -> tuple[int, int, str, int]:
    index, report = item
    assert report.manifest is not None
    return (
        report.manifest.first_seq,
        _STANDING[report.verdict],
        report.manifest_sha256 or "",
        index,
    )


def _check_stream(stream: str, epoch: int, members: list[tuple[int, BundleReport]]) -> StreamReport:
    result = StreamReport(stream, epoch)
    add = result.add
    head: BundleReport | None = None
    seen: dict[str, BundleReport] = {}
    for _index, report in sorted(members, key=_order):
        m = report.manifest
        assert m is not None
        digest = report.manifest_sha256 or ""
        if digest in seen:
            add(report, "BUNDLE_REPLAY", f"same bundle as {seen[digest].path}", seq=m.first_seq)
            continue
        seen[digest] = report
        result.bundles.append(report)
        if head is None:
            head = report
            continue
        hm = head.manifest
        assert hm is not None
        if m.first_seq > hm.last_seq + 1:
            add(
                report,
                "BUNDLE_GAP",
                f"{m.first_seq - hm.last_seq - 1} sequence number(s) missing after "
                f"bundle {hm.bundle_id}",
                seq=hm.last_seq + 1,
                expected=f"first seq {hm.last_seq + 1}",
                actual=f"first seq {m.first_seq}",
            )
        elif m.first_seq <= hm.last_seq:
            head = _overlap(head, report, add)
            continue
        else:
            link = m.previous
            if (
                link is None
                or link.final_hash != hm.chain_final
                or link.bundle_id != hm.bundle_id
                or link.manifest_sha256 != head.manifest_sha256
            ):
                # The less trusted of the two is named; between equals, the later one.
                named = head if _STANDING[head.verdict] > _STANDING[report.verdict] else report
                add(
                    named,
                    "BUNDLE_FORK",
                    f"bundle {m.bundle_id} does not continue the chain of bundle {hm.bundle_id}",
                    seq=m.first_seq,
                    expected=f"previous {hm.bundle_id} final {hm.chain_final}",
                    actual=f"previous {link.bundle_id if link else None} final "
                    f"{link.final_hash if link else None}",
                )
            elif (
                hm.time_last_ns
                and m.time_first_ns
                and m.time_first_ns < hm.time_last_ns - ALLOWED_SKEW_NS
            ):
                add(
                    report,
                    "CLOCK_SKEW",
                    "bundle starts earlier than its predecessor ends",
                    seq=m.first_seq,
                )
        head = report
    integrity = any(s.finding.category == "integrity" for s in result.findings)
    result.verdict = worst(
        [b.verdict for b in result.bundles] + ([Verdict.TAMPERED] if integrity else [])
    )
    return result


def _overlap(head: BundleReport, report: BundleReport, add: _Add) -> BundleReport:
    """Two bundles cover the same sequence numbers: name the conflict; return the new head.

    A more trusted bundle is believed over a less trusted one, which alone is named; between
    bundles of equal standing neither can be preferred, so both halves of a fork are named.
    """
    m, hm = report.manifest, head.manifest
    assert m is not None and hm is not None
    mine, theirs = _STANDING[report.verdict], _STANDING[head.verdict]
    rollback = m.previous is not None and m.previous.bundle_id == hm.bundle_id
    if rollback:
        named = head if theirs > mine else report
        add(
            named,
            "BUNDLE_ROLLBACK",
            f"bundle {m.bundle_id} claims to follow bundle {hm.bundle_id} but goes back in "
            "sequence",
            seq=m.first_seq,
            expected=f"first seq {hm.last_seq + 1}",
            actual=f"first seq {m.first_seq}",
        )
    elif mine > theirs:
        add(
            report,
            "BUNDLE_FORK",
            f"bundle covers seq {m.first_seq}-{m.last_seq}, already covered differently by the "
            f"more trusted {head.path}",
            seq=m.first_seq,
            expected=f"first seq {hm.last_seq + 1}",
            actual=f"first seq {m.first_seq}",
        )
    elif mine < theirs:
        add(
            head,
            "BUNDLE_FORK",
            f"bundle's seq {max(m.first_seq, hm.first_seq)}-{min(m.last_seq, hm.last_seq)} are "
            f"covered differently by the more trusted {report.path}",
            seq=max(m.first_seq, hm.first_seq),
        )
    else:
        add(
            report,
            "BUNDLE_FORK",
            f"bundle covers seq {m.first_seq}-{m.last_seq} already covered differently by "
            f"{head.path}",
            seq=m.first_seq,
            expected=f"first seq {hm.last_seq + 1}",
            actual=f"first seq {m.first_seq}",
        )
        # Both halves of a fork are suspect: which one is genuine is not provable here.
        add(
            head,
            "BUNDLE_FORK",
            f"bundle's seq {max(m.first_seq, hm.first_seq)}-{min(m.last_seq, hm.last_seq)} "
            f"are also covered, differently, by {report.path}",
            seq=max(m.first_seq, hm.first_seq),
        )
    if mine < theirs or (mine == theirs and m.last_seq > hm.last_seq):
        return report
    return head
