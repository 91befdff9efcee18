"""The report's charts as PNG images: activity histogram, actor swimlanes, integrity map.

Drawn with matplotlib's Agg backend only (``Figure`` with ``FigureCanvasAgg``, never pyplot):
core never loads Qt (STYLE point 2), and no global backend state is changed for whoever else
draws in the process. Each chart draws the same data the workbench shows, from the same queries
of the case (``queries.overview_histogram``, ``queries.gaps``, ``lanes.lanes``,
``queries.integrity_overview``): the report never runs a second SQL of its own for a figure
(docs/report.md, "Charts").

Invariants:

* Text from the evidence (actor ids, stream ids) is drawn literally: mathtext is off for every
  label (an actor id ``$x^2$`` is not a formula, and an unbalanced ``$`` must not stop the
  report), and long labels are cut with an ellipsis (the full value is in the report's tables).
* Colour never carries meaning alone: every state also has a hatch or a marker and a legend
  entry in words, so a black-and-white print still reads.
* Times are Unix nanoseconds; they are converted once, as NumPy ``datetime64[ns]``, so a time of
  2026 keeps its place to the nanosecond until the axis scales it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

import numpy as np
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from auditlens.core.store import lanes, queries
from auditlens.core.store.case import Case
from auditlens.core.words import counted

DPI = 150
WIDTH_IN = 7.0  # the text width of an A4 page with 2 cm margins, so a chart is drawn at 1:1
MAX_LANES = 20  # swimlanes drawn (with the histogram, one A4 page); the tables name all actors
LANE_BUCKETS = 600  # ticks per lane: about one per pixel column at 150 dpi across 7 inches
MAX_STREAMS = 24  # integrity map rows: the streams with findings first
MAX_LABEL = 28  # characters of an evidence label on an axis before it is cut

# One palette for states (the workbench's meaning: green verified, red tampered, amber
# untrusted, grey unsealed), each paired with a hatch so colour is never the only cue.
STATE_STYLE: dict[str, tuple[str, str]] = {
    "verified": ("#2e7d32", ""),
    "untrusted": ("#f9a825", "//"),
    "tampered": ("#c62828", "xx"),
    "unsealed": ("#9e9e9e", ".."),
    "invalid": ("#6a1b9a", "\\\\"),
}
GAP_STYLE = ("#c62828", "////")


@dataclass(frozen=True)
class Chart:
    """A chart as PNG bytes with its size in pixels, what it shows in words, and its rows.

    ``rows`` names the rows from top to bottom (actors, streams) where the chart has rows.
    """

    png: bytes
    width_px: int
    height_px: int
    dpi: int
    caption: str
    rows: tuple[str, ...] = ()


def _times(values: Sequence[int]) -> Any:
    """Matplotlib date numbers of Unix nanosecond times."""
    stamps = np.array(values, dtype="int64").astype("datetime64[ns]")
    return mdates.date2num(stamps)  # type: ignore[no-untyped-call]


def _label(text: str | None) -> str:
    text = "(none)" if text is None else text.replace("\n", " ")
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _axis_labels(ax: Any, names: Sequence[str | None]) -> None:
    """Name the rows 0, 1, ... of ``ax`` with evidence text, drawn as written (no mathtext)."""
    ax.set_yticks(range(len(names)))
    for text in ax.set_yticklabels([_label(n) for n in names], fontsize=6):
        text.set_parse_math(False)


def _time_axis(ax: Any, tz: tzinfo | None) -> None:
    locator = mdates.AutoDateLocator(tz=tz, minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator, tz=tz)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(formatter)
    ax.xaxis.get_offset_text().set_fontsize(7)


def _zone_name(tz: tzinfo | None) -> str:
    return "UTC" if tz is None else str(getattr(tz, "key", None) or tz)


def _png(figure: Figure, caption: str, rows: Sequence[str] = ()) -> Chart:
    canvas = FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    # Fixed metadata: the same case gives the same bytes (no software version or time stamp).
    canvas.print_png(buffer, metadata={"Software": None})  # type: ignore[no-untyped-call]
    width, height = canvas.get_width_height()
    return Chart(buffer.getvalue(), int(width), int(height), DPI, caption, tuple(rows))


def _figure(height_in: float) -> tuple[Figure, Any]:
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    return figure, figure.add_subplot()


def _empty(figure: Figure, ax: Any, message: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)


def activity_histogram(case: Case, tz: tzinfo | None = None) -> Chart:
    """Events per time bucket over the whole case, the gaps between bundles hatched.

    The bucket is the workbench's (``queries.overview_histogram``: about 240 bars across the
    case's time span, whole minutes past a minute).
    """
    buckets, bucket_ns = queries.overview_histogram(case, queries.EventQuery())
    timed = [(b, c) for b, c in buckets if b is not None]
    untimed = sum(c for b, c in buckets if b is None)
    gaps = queries.gaps(case)
    figure, ax = _figure(2.6)
    if not timed:
        _empty(figure, ax, "no event with a time in the case")
    else:
        starts = _times([b for b, _ in timed])
        width = bucket_ns / 86_400e9  # days: matplotlib's date unit
        ax.bar(starts, [c for _, c in timed], width=width, align="edge", color="#1565c0")
        for gap in gaps:
            ax.axvspan(
                *_times([gap.start_ns, gap.end_ns]),
                facecolor="none",
                edgecolor=GAP_STYLE[0],
                hatch=GAP_STYLE[1],
                linewidth=0,
            )
        if gaps:
            ax.legend(
                handles=[
                    Patch(facecolor="none", edgecolor=GAP_STYLE[0], hatch=GAP_STYLE[1]),
                ],
                labels=["no bundle holds these records (gap)"],
                loc="upper right",
                fontsize=7,
            )
        ax.set_ylabel("events", fontsize=8)
        ax.tick_params(labelsize=7)
        _time_axis(ax, tz)
        ax.set_xlabel(f"time ({_zone_name(tz)})", fontsize=8)
    total = sum(c for _, c in timed)
    caption = (
        f"Activity: {counted(total, 'event')} with a time, in buckets of {_duration(bucket_ns)}"
        + (f"; {counted(untimed, 'event')} without a time, not drawn" if untimed else "")
        + (f"; {counted(len(gaps), 'gap')} between bundles hatched" if gaps else "")
        + "."
    )
    return _png(figure, caption)


def actor_swimlanes(
    case: Case,
    tz: tzinfo | None = None,
    *,
    first: Sequence[str] = (),
    limit: int = MAX_LANES,
) -> Chart:
    """Actors' lanes: sessions as bars, events as ticks, notable actions in red.

    The actors in ``first`` (the report passes those of the bookmarked events) come first, then
    the busiest, up to ``limit`` lanes. The marks are the workbench's (``lanes.lanes``),
    bucketed to :data:`LANE_BUCKETS` per lane.
    """
    everyone = queries.actors(case)
    known = {a.actor_id for a in everyone}
    wanted = [a for a in dict.fromkeys(first) if a in known][:limit]
    chosen = wanted + [a.actor_id for a in everyone if a.actor_id not in wanted]
    chosen = chosen[:limit]
    marks = lanes.lanes(case, chosen, buckets=LANE_BUCKETS) if chosen else []
    figure, ax = _figure(max(1.6, 0.22 * len(marks) + 0.9))
    if not marks:
        _empty(figure, ax, "no event names an actor")
    else:
        for row, lane in enumerate(marks):
            y = len(marks) - 1 - row
            if lane.sessions:
                starts = _times([s for s, _ in lane.sessions])
                ends = _times([max(e, s + 1_000_000_000) for s, e in lane.sessions])
                ax.broken_barh(
                    list(zip(starts, ends - starts, strict=True)),
                    (y - 0.35, 0.7),
                    facecolors="#bbdefb",
                    edgecolors="#64b5f6",
                    linewidth=0.4,
                )
            plain = [t for t, action in lane.ticks if action not in lanes.NOTABLE_ACTIONS]
            notable = [t for t, action in lane.ticks if action in lanes.NOTABLE_ACTIONS]
            if plain:
                ax.vlines(_times(plain), y - 0.3, y + 0.3, colors="#37474f", linewidth=0.5)
            if notable:
                ax.vlines(_times(notable), y - 0.42, y + 0.42, colors="#c62828", linewidth=1.2)
            if lane.address_changes:
                ax.plot(
                    _times(list(lane.address_changes)),
                    [y + 0.42] * len(lane.address_changes),
                    linestyle="none",
                    marker="v",
                    markersize=3.5,
                    color="#6a1b9a",
                )
        _axis_labels(ax, [m.actor for m in reversed(marks)])
        ax.set_ylim(-0.7, len(marks) - 0.3)
        ax.tick_params(axis="x", labelsize=7)
        _time_axis(ax, tz)
        ax.set_xlabel(f"time ({_zone_name(tz)})", fontsize=8)
        figure.legend(
            handles=[
                Patch(facecolor="#bbdefb", edgecolor="#64b5f6"),
                Patch(facecolor="#37474f"),
                Patch(facecolor="#c62828"),
                ax.plot([], [], linestyle="none", marker="v", color="#6a1b9a")[0],
            ],
            labels=[
                "session",
                "events",
                "notable action (" + ", ".join(lanes.NOTABLE_ACTIONS) + ")",
                "source address changed",
            ],
            loc="outside lower center",
            ncols=2,
            fontsize=6,
            frameon=False,
        )
    shown = len(marks)
    marked = len(wanted)
    if len(everyone) <= shown:
        chosen_words = f"all {shown} actors"
    elif marked:
        chosen_words = (
            f"{shown} of {len(everyone):,} actors: the {marked} of the bookmarked events "
            "first, then the busiest"
        )
    else:
        chosen_words = f"the {shown} busiest of {len(everyone):,} actors"
    caption = (
        f"Actor swimlanes: {chosen_words} (each lane's marks grouped per 1/{LANE_BUCKETS} of "
        "the time span)."
    )
    return _png(figure, caption, [m.actor for m in marks])


def integrity_map(overview: queries.IntegrityOverview, tz: tzinfo | None = None) -> Chart:
    """Each stream on its own row: its bundles in their state, gaps hatched, findings ticked.

    From the case's ``queries.integrity_overview`` (the report's, read once for its sections
    and this chart), as the workbench's integrity map: a bundle is drawn in its verdict's state
    (a tampered bundle whose records are mostly intact keeps the state most of them have, with
    the records a finding names ticked), unsealed streams in grey.
    """
    rows: list[str] = []
    for bundle in overview.bundles:
        if bundle["stream_id"] not in rows:
            rows.append(str(bundle["stream_id"]))
    for stream, _, _ in overview.raw_streams:
        if stream not in rows:
            rows.append(stream)
    # At most MAX_STREAMS rows (one page): the streams with something wrong first (a bundle not
    # verified, a gap, a record a finding names), then the others in name order.
    troubled = {str(b["stream_id"]) for b in overview.bundles if b["verdict"] != "verified"}
    troubled |= {g.stream_id for g in overview.gaps} | {m.stream_id for m in overview.marks}
    every = len(rows)
    rows = sorted(rows, key=lambda r: r not in troubled)[:MAX_STREAMS]
    figure, ax = _figure(max(1.6, 0.34 * len(rows) + 1.0))
    used: set[str] = set()
    if not rows:
        _empty(figure, ax, "the case holds no evidence")
    else:
        y_of = {stream: len(rows) - 1 - i for i, stream in enumerate(rows)}
        for bundle in overview.bundles:
            first, last = bundle["time_first_ns"], bundle["time_last_ns"]
            if first is None or last is None or str(bundle["stream_id"]) not in y_of:
                continue
            state = str(bundle["verdict"])
            if state == "tampered":
                state = overview.record_states.get(str(bundle["bundle_id"]), state)
                state = "tampered" if state not in STATE_STYLE else state
            colour, hatch = STATE_STYLE.get(state, STATE_STYLE["invalid"])
            used.add(state if state in STATE_STYLE else "invalid")
            start, end = _times([first, max(last, first + 1_000_000_000)])
            outlined = bundle["verdict"] == "tampered"
            ax.broken_barh(
                [(start, end - start)],
                (y_of[str(bundle["stream_id"])] - 0.3, 0.6),
                facecolors=colour,
                hatch=hatch,
                edgecolors=STATE_STYLE["tampered"][0] if outlined else "white",
                linewidth=1.6 if outlined else 0.6,
            )
        for stream, first, last in overview.raw_streams:
            if stream not in y_of:
                continue
            start, end = _times([first, max(last, first + 1_000_000_000)])
            colour, hatch = STATE_STYLE["unsealed"]
            used.add("unsealed")
            ax.broken_barh(
                [(start, end - start)],
                (y_of[stream] - 0.3, 0.6),
                facecolors=colour,
                hatch=hatch,
                edgecolors="white",
                linewidth=0.6,
            )
        for gap in overview.gaps:
            if gap.stream_id not in y_of:
                continue
            start, end = _times([gap.start_ns, max(gap.end_ns, gap.start_ns + 1_000_000_000)])
            ax.broken_barh(
                [(start, end - start)],
                (y_of[gap.stream_id] - 0.3, 0.6),
                facecolors="none",
                edgecolors=GAP_STYLE[0],
                hatch=GAP_STYLE[1],
                linewidth=0.8,
            )
        marked = [m for m in overview.marks if m.stream_id in y_of]
        if marked:
            ax.plot(
                _times([m.time_ns for m in marked]),
                [y_of[m.stream_id] + 0.38 for m in marked],
                linestyle="none",
                marker="v",
                markersize=4,
                color="black",
            )
        _axis_labels(ax, list(reversed(rows)))
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.tick_params(axis="x", labelsize=7)
        _time_axis(ax, tz)
        ax.set_xlabel(f"time ({_zone_name(tz)})", fontsize=8)
        handles: list[Any] = []
        labels: list[str] = []
        for state in STATE_STYLE:
            if state in used:
                colour, hatch = STATE_STYLE[state]
                handles.append(Patch(facecolor=colour, hatch=hatch, edgecolor="white"))
                labels.append(state)
        if overview.gaps:
            handles.append(Patch(facecolor="none", edgecolor=GAP_STYLE[0], hatch=GAP_STYLE[1]))
            labels.append("gap between bundles")
        if marked:
            handles.append(ax.plot([], [], linestyle="none", marker="v", color="black")[0])
            labels.append("record a finding names")
        figure.legend(
            handles=handles,
            labels=labels,
            loc="outside lower center",
            ncols=min(len(labels), 4) or 1,
            fontsize=6,
            frameon=False,
        )
    shown = (
        counted(every, "stream")
        if every == len(rows)
        else f"{every:,} streams, {len(rows)} drawn (those with findings first)"
    )
    caption = (
        f"Integrity map: {counted(len(overview.bundles), 'bundle')} over {shown}; "
        f"{counted(len(overview.gaps), 'gap')}, "
        f"{counted(len(overview.marks), 'record')} named by findings."
        + (
            " A bundle with tampered records is outlined in red and drawn in the state most of "
            "its records have; the records themselves are marked."
            if any(b["verdict"] == "tampered" for b in overview.bundles)
            else ""
        )
    )
    return _png(figure, caption, rows)


def _duration(ns: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if ns % (size * 1_000_000_000) == 0:
            return f"{ns // (size * 1_000_000_000)} {unit}"
    return f"{ns / 1e9:g} s"
