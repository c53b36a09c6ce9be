"""The dashboard's charts: its figures drawn by matplotlib as SVG, to inline in the page.

Drawing is CPU work of tens of milliseconds a chart: the page calls `draw_all` in a worker
thread (`asyncio.to_thread`), never on the event loop. Only the object-oriented API is used
(a `Figure` and its own SVG canvas; no pyplot, whose global state is not thread-safe), with
text kept as text (searchable, scalable). Each page shows the same numbers in a table as well:
the chart is not the only way to read them.
"""

from __future__ import annotations

import io
import re

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .dashboard_figures import Figures

INK, GRID, SLA = "#1d2430", "#d7dce3", "#a3261d"
KEPT, BROKEN = "#1f5fd1", "#c2571a"  # blue/orange: told apart without red/green
LEVELS = ("#7fa6e8", "#1f5fd1", "#0d2f6e", "#000000")
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)  # XML declaration and DOCTYPE


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasSVG(figure)
    return figure


def _svg(figure: Figure, name: str) -> str:
    out = io.StringIO()
    # Each chart's clip-path ids hashed apart: several charts share one page.
    with mpl.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"keepword-{name}"}):
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _PROLOGUE.sub("", out.getvalue(), count=1)


def _style(axes: Axes) -> None:
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no half promises
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    axes.tick_params(colors=INK, labelsize=8)


def reply_chart(found: Figures) -> str:
    """First-reply times as bars per bucket, and the SLA as a vertical line."""
    figure = _figure(7.5, 3.2)
    axes = figure.add_subplot()
    labels = [b.label for b in found.reply_buckets]
    axes.bar(range(len(labels)), [b.cell.count for b in found.reply_buckets], color=KEPT)
    sla_at = next(
        (i - 0.5 for i, b in enumerate(found.reply_buckets) if b.low_hours >= found.sla_hours),
        len(labels) - 0.5,
    )
    axes.axvline(sla_at, color=SLA, linestyle="--", linewidth=1.6, label="SLA (first reply)")
    axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    axes.set_xlabel("Business time to the first reply", color=INK, fontsize=9)
    axes.set_ylabel("First replies", color=INK, fontsize=9)
    axes.legend(frameon=False, fontsize=8)
    _style(axes)
    return _svg(figure, "replies")


def promise_chart(found: Figures) -> str:
    """Promises kept and broken per week, one panel per team."""
    teams = list(found.promise_outcomes) or ["(no promises)"]
    figure = _figure(7.5, 1.2 + 1.9 * len(teams))
    panels = figure.subplots(len(teams), 1, sharex=True, squeeze=False)[:, 0]
    weeks = list(found.weeks)
    for axes, team in zip(panels, teams, strict=True):
        by_week = found.promise_outcomes.get(team, {})
        xs = range(len(weeks))
        kept = [by_week[w]["kept"].count for w in weeks]
        broken = [by_week[w]["broken"].count for w in weeks]
        axes.bar([x - 0.2 for x in xs], kept, width=0.4, color=KEPT, label="kept")
        axes.bar([x + 0.2 for x in xs], broken, width=0.4, color=BROKEN, hatch="//", label="broken")
        axes.set_title(team, loc="left", fontsize=9, color=INK)
        axes.set_xticks(list(xs), weeks, rotation=30, ha="right")
        _style(axes)
    panels[0].legend(frameon=False, fontsize=8, ncols=2, loc="upper right")
    panels[-1].set_xlabel("ISO week the promise was made in", color=INK, fontsize=9)
    return _svg(figure, "promises")


def escalation_chart(found: Figures) -> str:
    """Escalations opened per rule, a bar per highest level reached."""
    figure = _figure(7.5, 3.4)
    axes = figure.add_subplot()
    rules = list(found.rules)
    width = 0.8 / max(1, len(found.levels))
    for n, level in enumerate(found.levels):
        axes.bar(
            [i - 0.4 + width * (n + 0.5) for i in range(len(rules))],
            [found.escalations[rule][level].count for rule in rules],
            width=width,
            color=LEVELS[min(n, len(LEVELS) - 1)],
            label=f"level {level}",
        )
    axes.set_xticks(
        range(len(rules)), [r.replace("_", " ") for r in rules], rotation=20, ha="right"
    )
    axes.set_ylabel("Escalations opened", color=INK, fontsize=9)
    axes.legend(frameon=False, fontsize=8, title="highest level", title_fontsize=8)
    _style(axes)
    return _svg(figure, "escalations")


def draw_all(found: Figures) -> dict[str, str]:
    """Every chart of the dashboard, by name, as inline SVG."""
    return {
        "replies": reply_chart(found),
        "promises": promise_chart(found),
        "escalations": escalation_chart(found),
    }
