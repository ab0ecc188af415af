"""Small line charts as inline SVG: drawn by the browser itself, with no chart library.

The Overview's training curves were plotly charts; the first plotly chart of a session makes
the browser load and start plotly.js, which took about a second of the first page on a
2-core machine (docs/benchmarks.md). These charts are plain SVG: axes with a few ticks, one
polyline per series, a legend, and a tooltip (``<title>``) on every point. Every text is
escaped; the page shows the SVG as raw HTML of a Markdown element (one line, no blank line,
so Markdown leaves it alone; ``st.html``'s sanitiser drops SVG).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np

WIDTH, HEIGHT = 520, 250
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 26, 52
#: Series with fewer points than this get a marker (with its tooltip) on every point.
MARKERS_BELOW = 60


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = start
    while value <= high + 1e-9 * step:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _label(value: float) -> str:
    return f"{value:.4g}"


def line_chart(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    title: str,
    x_label: str,
    colours: Sequence[str],
    width: int = WIDTH,
    height: int = HEIGHT,
) -> str:
    """An SVG line chart of ``series`` (name → (x, y)); non-finite points are left out."""
    clean = {}
    for name, (given_x, given_y) in series.items():
        x, y = np.asarray(given_x, dtype=float), np.asarray(given_y, dtype=float)
        keep = np.isfinite(x) & np.isfinite(y)
        if keep.any():
            clean[name] = (x[keep], y[keep])
    e = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{e(title)}" '
        'style="font-family: inherit; font-size: 11px; color: inherit">',
        f'<text x="{LEFT}" y="16" fill="currentColor" font-size="12">{e(title)}</text>',
    ]
    if not clean:
        out.append(f'<text x="{LEFT}" y="{height / 2}" fill="currentColor">no values</text>')
        return "".join([*out, "</svg>"])
    xs = np.concatenate([x for x, _ in clean.values()])
    ys = np.concatenate([y for _, y in clean.values()])
    x0, x1 = float(xs.min()), float(xs.max())
    y0, y1 = float(ys.min()), float(ys.max())
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM

    def px(v: float) -> float:
        return LEFT + (v - x0) / ((x1 - x0) or 1.0) * plot_w

    def py(v: float) -> float:
        return TOP + (y1 - v) / (y1 - y0) * plot_h

    bottom = TOP + plot_h
    out.append(
        f'<g stroke="currentColor" stroke-opacity="0.35"><line x1="{LEFT}" y1="{bottom}" '
        f'x2="{LEFT + plot_w}" y2="{bottom}"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" '
        f'y2="{bottom}"/></g>'
    )
    for t in nice_ticks(y0, y1):
        out.append(
            f'<line x1="{LEFT}" y1="{py(t):.1f}" x2="{LEFT + plot_w}" y2="{py(t):.1f}" '
            'stroke="currentColor" stroke-opacity="0.08"/>'
            f'<text x="{LEFT - 6}" y="{py(t) + 4:.1f}" text-anchor="end" '
            f'fill="currentColor" fill-opacity="0.7">{e(_label(t))}</text>'
        )
    x_ticks = [t for t in nice_ticks(x0, x1) if float(t).is_integer()] or [x0, x1]
    for t in x_ticks:
        out.append(
            f'<text x="{px(t):.1f}" y="{bottom + 15}" text-anchor="middle" '
            f'fill="currentColor" fill-opacity="0.7">{e(_label(t))}</text>'
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{bottom + 29}" text-anchor="middle" '
        f'fill="currentColor" fill-opacity="0.7">{e(x_label)}</text>'
    )
    legend_x: float = LEFT
    legend_y = height - 4
    for i, (name, (x, y)) in enumerate(clean.items()):
        colour = colours[i % len(colours)]
        order = np.argsort(x, kind="stable")
        points = " ".join(
            f"{px(a):.1f},{py(b):.1f}" for a, b in zip(x[order], y[order], strict=True)
        )
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.8"/>'
        )
        if len(x) < MARKERS_BELOW:
            out.append(f'<g fill="{colour}">')
            for a, b in zip(x[order], y[order], strict=True):
                tip = f"{name} · {x_label} {_label(a)}: {_label(b)}"
                out.append(
                    f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="2.6">'
                    f"<title>{e(tip)}</title></circle>"
                )
            out.append("</g>")
        out.append(
            f'<line x1="{legend_x}" y1="{legend_y - 4}" x2="{legend_x + 16}" y2="{legend_y - 4}" '
            f'stroke="{colour}" stroke-width="2.5"/><text x="{legend_x + 20}" y="{legend_y}" '
            f'fill="currentColor">{e(name)}</text>'
        )
        legend_x += 30 + 6.5 * len(name)
    return "".join([*out, "</svg>"])
