"""The histogram's words (its scale, the findings' legend) sit above its bars, never over them.

Drawn over the plot, ``max N per bucket`` and the legend hid the tallest bars and half hid a
flag at the right edge (seen on the sample's screenshots).
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from auditlens.gui.charts import HistogramWidget
from auditlens.gui.finding_marks import FindingMark

START = 1_772_409_600_123_456_789  # 2026-03-02T00:00:00.123456789Z
MINUTE = 60_000_000_000


def test_the_scale_and_legend_leave_the_tallest_bars_whole(qtbot) -> None:
    histogram = HistogramWidget()
    qtbot.addWidget(histogram)
    histogram.resize(700, 110)
    # Every bucket at the maximum: each bar reaches the top of the plot, under the words.
    histogram.set_data([(START + i * MINUTE, 59) for i in range(240)], MINUTE)
    # A finding flagged mid-way: the legend is drawn (it is drawn only with flags shown).
    when = START + 100 * MINUTE + 17
    histogram.set_findings(
        [FindingMark(when, when, "low", "login-new-address", "new address", "agent-7", ())]
    )
    image = histogram.grab().toImage()
    bar = histogram.palette().highlight().color().rgb()
    plot = histogram.plot_area()
    middle = (plot.left() + plot.right()) // 2 + 40  # clear of the flag

    def bar_pixels(y: int) -> int:
        return sum(QColor(image.pixel(x, y)).rgb() == bar for x in range(plot.left(), plot.right()))

    # The words are drawn on the line above the plot, and no bar reaches into that line.
    assert all(bar_pixels(y) == 0 for y in range(0, plot.top()))
    assert QColor(image.pixel(middle, plot.top() + 1)).rgb() == bar
    # Where the legend and the scale stand, the bars below them are whole (full height).
    right = plot.right() - 5
    assert QColor(image.pixel(right, plot.top() + 1)).rgb() == bar
    assert QColor(image.pixel(plot.left() + 10, plot.top() + 1)).rgb() == bar
