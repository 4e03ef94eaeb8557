"""Line charts drawn on the server as SVG (no JavaScript, nothing loaded from elsewhere).

`line_chart` turns percentages per month into the coordinates `_chart_line.html` draws:
a 0–100 % axis with grid lines every 25 points, one polyline per series (broken where a
month has no figure) and one point per month with a figure.
"""

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 30


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: object  # the percentage shown in the point's title
    label: str  # the month


@dataclass(frozen=True)
class Series:
    key: str
    name: str
    css: str  # the colour class of the series (dashboard.css)
    points: list  # Point, months without a figure left out
    segments: list  # "x,y x,y ..." for each unbroken run of points


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    series: list
    grid: list  # (y, label)
    x_labels: list  # (x, label)
    plot_left: int
    plot_right: int
    plot_bottom: int


def _x(index, count):
    span = WIDTH - LEFT - RIGHT
    if count <= 1:
        return LEFT + span / 2
    return round(LEFT + span * index / (count - 1), 1)


def _y(value):
    span = HEIGHT - TOP - BOTTOM
    value = max(0.0, min(100.0, float(value)))
    return round(TOP + span * (100 - value) / 100, 1)


def line_chart(title, labels, series):
    """A chart of `series` — (key, name, css class, [percentage or None per label]) — over
    the x-axis `labels` (one per month)."""
    count = len(labels)
    drawn = []
    for key, name, css, values in series:
        points, segments, run = [], [], []
        for index, value in enumerate(values):
            if value is None:
                if run:
                    segments.append(" ".join(f"{p.x},{p.y}" for p in run))
                run = []
                continue
            point = Point(_x(index, count), _y(value), value, labels[index])
            points.append(point)
            run.append(point)
        if run:
            segments.append(" ".join(f"{p.x},{p.y}" for p in run))
        drawn.append(Series(key, name, css, points, segments))
    return Chart(
        title=title,
        width=WIDTH,
        height=HEIGHT,
        series=drawn,
        grid=[(_y(level), f"{level}%") for level in (0, 25, 50, 75, 100)],
        x_labels=[(_x(index, count), label) for index, label in enumerate(labels)],
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_bottom=HEIGHT - BOTTOM,
    )
