"""Bar charts drawn on the server as inline SVG: no JavaScript, no request, no inline style.

The site's Content-Security-Policy forbids inline styles, so a chart carries only geometry
(presentation attributes) and class names for the stylesheet to colour: ``chart`` (the svg),
``bar`` (the first series), ``bar-stacked`` (the second series, drawn on top of the first),
``axis``, ``grid`` and ``label`` (every text). The chart is one image for assistive
technology (``role="img"`` named by its ``<title>`` and ``<desc>``); each bar has its own
``<title>``, shown as a tooltip. The page shows the figures themselves next to the chart.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

MARGIN_TOP, MARGIN_RIGHT, MARGIN_BOTTOM = 8, 8, 22
CHAR_WIDTH = 7  # an estimate for the 11-12px labels the stylesheet sets
BAR_SHARE = 0.8  # of each slot; the rest is the gap between bars


def bar_chart_svg(
    bars: Sequence[tuple[str, int]],
    *,
    title: str,
    description: str,
    width: int = 640,
    height: int = 220,
    stacked: Sequence[tuple[str, int]] | None = None,
    series: tuple[str, str] = ("", ""),
    chart_id: str | None = None,
) -> Markup:
    """A vertical bar chart of ``bars`` (label, value), with ``stacked`` drawn on top.

    For entries per day, ``bars`` are the confirmed entries and ``stacked`` the pending ones,
    with ``series=("confirmed", "pending")`` naming them in the tooltips. X labels are thinned
    so that they do not overlap. ``chart_id`` prefixes the ids of the title and description
    (derived from them by default); two identical charts on one page need distinct ids.

    Refuses (ValueError) negative values, a ``stacked`` series whose labels differ from
    ``bars``', and a size too small to draw in.
    """
    values = [value for _, value in bars]
    on_top = [value for _, value in stacked] if stacked is not None else [0] * len(bars)
    if stacked is not None and [label for label, _ in stacked] != [label for label, _ in bars]:
        raise ValueError("the stacked series must have the same labels as the bars")
    if any(value < 0 for value in [*values, *on_top]):
        raise ValueError("bar values must not be negative")
    top_value = _nice_ceiling(max((a + b for a, b in zip(values, on_top, strict=True)), default=0))
    left = CHAR_WIDTH * len(str(top_value)) + 10
    plot_width = width - left - MARGIN_RIGHT
    plot_height = height - MARGIN_TOP - MARGIN_BOTTOM
    if plot_width < 10 or plot_height < 10:
        raise ValueError("the chart is too small to draw")
    ident = (
        chart_id or "chart-" + hashlib.sha256(f"{title}\0{description}".encode()).hexdigest()[:10]
    )
    baseline = MARGIN_TOP + plot_height

    def y(value: float) -> float:
        return baseline - value / top_value * plot_height

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"'
        f' aria-labelledby="{escape(ident)}-title {escape(ident)}-desc"'
        f' viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<title id="{escape(ident)}-title">{escape(title)}</title>',
        f'<desc id="{escape(ident)}-desc">{escape(description)}</desc>',
    ]
    middle = [top_value // 2] if top_value % 2 == 0 else []
    for tick in [0, *middle, top_value]:
        parts.append(
            f'<line class="grid" x1="{left}" y1="{_n(y(tick))}"'
            f' x2="{left + plot_width}" y2="{_n(y(tick))}"/>'
            f'<text class="label" x="{left - 4}" y="{_n(y(tick))}" text-anchor="end"'
            f' dominant-baseline="middle">{tick}</text>'
        )
    slot = plot_width / max(len(bars), 1)
    bar_width = max(slot * BAR_SHARE, 1.0)
    every = _label_step(len(bars), [label for label, _ in bars], plot_width)
    for index, ((label, value), extra) in enumerate(zip(bars, on_top, strict=True)):
        x = left + index * slot + (slot - bar_width) / 2
        parts.append(
            _rect("bar", x, y(value), bar_width, baseline - y(value), label, series[0], value)
        )
        if stacked is not None:
            top = y(value + extra)
            parts.append(
                _rect("bar-stacked", x, top, bar_width, y(value) - top, label, series[1], extra)
            )
        if index % every == 0:
            parts.append(
                f'<text class="label" x="{_n(x + bar_width / 2)}" y="{baseline + 15}"'
                f' text-anchor="middle">{escape(label)}</text>'
            )
    parts.append(
        f'<line class="axis" x1="{left}" y1="{baseline}" x2="{left + plot_width}" y2="{baseline}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _rect(
    css: str, x: float, y: float, width: float, height: float, label: str, name: str, value: int
) -> str:
    tooltip = f"{label} — {name}: {value}" if name else f"{label}: {value}"
    return (
        f'<rect class="{css}" x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}">'
        f"<title>{escape(tooltip)}</title></rect>"
    )


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at least ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = int(10 ** (len(str(value)) - 1))
    for factor in (1, 2, 5, 10):
        if factor * power >= value:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def _label_step(count: int, labels: list[str], plot_width: float) -> int:
    """Show one label in ``step`` so that the labels shown do not overlap."""
    if count == 0:
        return 1
    label_width = CHAR_WIDTH * max(len(label) for label in labels) + 8
    fitting = max(int(plot_width // label_width), 1)
    return math.ceil(count / fitting)


def _n(number: float) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".")
