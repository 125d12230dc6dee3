"""Timelines of requests: when each one started and ended, drawn as horizontal bars.

Lesson 07 uses it to show the difference between requests sent one after another and
requests in flight together:

    >>> spans = [(0.0, 0.21), (0.21, 0.42)]          # (start, end) in seconds, per request
    >>> figure = plot({"one after another": spans, "all at once": [(0.0, 0.2), (0.0, 0.2)]})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Span = tuple[float, float]


def total(spans: Sequence[Span]) -> float:
    """Seconds from the first start to the last end."""
    return max(end for _, end in spans) - min(start for start, _ in spans)


def plot(runs: Mapping[str, Sequence[Span]], title: str = "", width: float = 8.0):
    """One panel per run, one bar per request, all panels on the same time axis.

    `runs` maps a label to the (start, end) seconds of each request, measured from the
    same origin within that run. Returns the matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError("nothing to plot: give at least one run")
    count = max(len(spans) for spans in runs.values())
    height = 1.0 + len(runs) * (0.6 + 0.18 * count)
    figure, axes = plt.subplots(len(runs), 1, sharex=True, figsize=(width, height), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for row, (axis, (label, spans)) in enumerate(zip(axes[:, 0], runs.items(), strict=True)):
        starts = [start for start, _ in spans]
        lengths = [end - start for start, end in spans]
        positions = range(1, len(spans) + 1)
        axis.barh(positions, lengths, left=starts, height=0.7, color=colours[row % len(colours)])
        axis.set_ylim(count + 0.6, 0.4)  # request 1 at the top
        axis.set_yticks([1, len(spans)] if len(spans) > 1 else [1])
        axis.set_ylabel("request")
        axis.set_title(f"{label}: {total(spans):.2f} s in all", loc="left", fontsize=10)
        axis.grid(axis="x", alpha=0.3)
    axes[-1, 0].set_xlabel("seconds since the first request started")
    axes[-1, 0].set_xlim(left=0)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
