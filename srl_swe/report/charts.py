"""Line charts of a run's curves as inline SVG (no image files, no scripts): one chart per metric group, one
line per series, points marked and titled with their values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from srl_swe.report.page import esc

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")
WIDTH, HEIGHT = 520, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 14, 30, 52

Points = Sequence[tuple[float, float]]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return about ``count`` evenly spaced values from ``low`` to ``high``."""
    if high == low:
        return [low]
    return [low + (high - low) * i / (count - 1) for i in range(count)]


def _label(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() and abs(value) >= 1 else f"{value:.3g}"


def line_chart(title: str, series: Mapping[str, Points], x_label: str = "step") -> str:
    """Return an SVG chart of ``series`` (name -> (x, y) points, each sorted by x); '' when none has a
    point. A series of one point is drawn as its marker; the y axis spans the values (and 0 when they are
    close to it)."""
    series = {name: [(x, y) for x, y in points if y is not None] for name, points in series.items()}
    series = {name: points for name, points in series.items() if points}
    if not series:
        return ""
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if y0 > 0 and y0 < (y1 - y0):
        y0 = 0.0
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return TOP + (1 - (y - y0) / (y1 - y0)) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{esc(title)}">',
        f'<text x="{WIDTH / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">'
        f"{esc(title)}</text>",
    ]
    for y in _ticks(y0, y1):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#e5e7eb"/>'
            f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end" font-size="11">{_label(y)}</text>'
        )
    x_ticks = sorted(set(xs)) if len(set(xs)) <= 8 else _ticks(x0, x1)
    for x in x_ticks:
        parts.append(
            f'<text x="{px(x):.1f}" y="{TOP + plot_h + 15}" text-anchor="middle" font-size="11">'
            f"{_label(x)}</text>"
        )
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#9ca3af"/>'
        f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 30}" text-anchor="middle" font-size="11">'
        f"{esc(x_label)}</text>"
    )
    legend_x = LEFT
    for index, (name, points) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in points:
            parts.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}">'
                f"<title>{esc(name)} at {_label(x)}: {y:.4g}</title></circle>"
            )
        parts.append(
            f'<rect x="{legend_x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{legend_x + 14}" y="{HEIGHT - 5}" font-size="11">{esc(name)}</text>'
        )
        legend_x += 24 + 7 * len(name)
    parts.append("</svg>")
    return "".join(parts)
