"""A server-rendered SVG line of heartbeat lag: no charting library, works without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT, PAD = 720, 160, 28  # viewBox units; the SVG scales to the page width


@dataclass
class LagChart:
    width: int = WIDTH
    height: int = HEIGHT
    lines: list[str] = field(default_factory=list)  # polyline `points`, one per unbroken run of samples
    gaps: list[tuple[float, float]] = field(default_factory=list)  # (x, width) where the lag was unknown
    top: float = 1.0  # lag at the top of the plot, seconds
    warning_y: float | None = None  # the pair's lag warning line, when it fits
    samples: int = 0
    latest: float | None = None
    worst: float | None = None

    @property
    def plot_bottom(self) -> int:
        return self.height - PAD

    @property
    def top_label(self) -> str:
        return f"{self.top:g} s"


def _nice_top(value: float) -> float:
    for step in (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600):
        if value <= step:
            return float(step)
    return float(int(value) + 1)


def lag_chart(points: list[tuple[float, float | None]], start: float, end: float, warning: float | None = None
              ) -> LagChart:
    """`points` are (unix time, lag seconds or None), oldest first; one pixel column keeps its worst lag."""
    chart = LagChart(samples=len(points))
    known = [lag for _, lag in points if lag is not None]
    chart.latest = points[-1][1] if points else None
    chart.worst = max(known, default=None)
    chart.top = _nice_top(max(known, default=0.1))
    left, right, bottom = PAD + 20, WIDTH - 8, HEIGHT - PAD
    span = max(end - start, 1.0)

    def x(ts: float) -> int:
        return round(left + (right - left) * (ts - start) / span)

    def y(lag: float) -> float:
        return round(bottom - (bottom - 8) * min(lag, chart.top) / chart.top, 1)

    columns: dict[int, float | None] = {}
    for ts, lag in points:
        col = x(ts)
        if lag is None:
            columns.setdefault(col, None)
        else:
            prev = columns.get(col)
            columns[col] = lag if prev is None else max(prev, lag)
    run: list[str] = []
    for col in sorted(columns):
        lag = columns[col]
        if lag is None:
            if run:
                chart.lines.append(" ".join(run))
                run = []
            chart.gaps.append((col, 1))
        else:
            run.append(f"{col},{y(lag)}")
    if run:
        chart.lines.append(" ".join(run))
    if warning is not None and warning <= chart.top:
        chart.warning_y = y(warning)
    return chart
