"""Server-rendered SVG charts: no JavaScript, no build step, readable without colour (each
bar has a text title, and the page shows the same numbers as a table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from markupsafe import Markup, escape

# Colour-blind-safe (Okabe-Ito) colours, dark enough on white.
COLOURS = {
    "sent": "#0072B2",
    "delivered": "#009E73",
    "deferred": "#E69F00",
    "blocked": "#D55E00",
    "failed": "#555555",
}


def stacked_bars(
    days: Sequence[date],
    series: Mapping[str, Sequence[int]],
    *,
    label: str,
    width: int = 560,
    height: int = 160,
) -> Markup:
    """One bar per day, stacked by outcome (the keys of `series`, in COLOURS order)."""
    pad_left, pad_bottom, pad_top = 36, 18, 6
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - pad_top
    totals = [sum(series[o][i] for o in series) for i in range(len(days))]
    top = max([*totals, 1])
    slot = plot_w / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-label="{escape(label)}">',
        f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{width - 4}" '
        f'y2="{pad_top + plot_h}" stroke="#333"/>',
        f'<text x="{pad_left - 4}" y="{pad_top + 10}" text-anchor="end">{top}</text>',
        f'<text x="{pad_left - 4}" y="{pad_top + plot_h}" text-anchor="end">0</text>',
    ]
    for i, day in enumerate(days):
        x = pad_left + i * slot + (slot - bar) / 2
        y = float(pad_top + plot_h)
        for outcome in COLOURS:
            n = series.get(outcome, [0] * len(days))[i]
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[outcome]}"><title>{day.isoformat()}: {n} {outcome}</title></rect>'
            )
        if len(days) <= 16 or i % max(len(days) // 8, 1) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 4}" text-anchor="middle">'
                f"{day:%m-%d}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
