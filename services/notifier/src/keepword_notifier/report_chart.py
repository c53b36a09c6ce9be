"""The weekly report's chart: the week's counts beside the week before's, as a small PNG that the
email carries inline (multipart/related, `cid:`), which email clients show where they would
not show SVG.

Drawn with matplotlib's object-oriented API on the Agg canvas (no pyplot, no rcParams), so
it may run in a worker thread (`asyncio.to_thread`), never on the event loop. The same figures
give the same bytes: no time or software stamp goes into the file, so a resent email is the
same email.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

WIDTH_PX: Final = 560
HEIGHT_PX: Final = 260
_DPI: Final = 100
THIS_WEEK: Final = "#1f4e79"
WEEK_BEFORE: Final = "#a6a6a6"


def chart_png(bars: Sequence[Mapping[str, Any]], week: str) -> bytes:
    """The bars (`name`, `now`, `before` each) as a PNG of WIDTH_PX x HEIGHT_PX."""
    # Imported when first drawn, in the worker thread: matplotlib takes seconds to import on a
    # busy machine, which every start of the notifier would otherwise pay.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = [str(bar["name"]) for bar in bars][::-1]  # the first bar on top
    now = [int(bar["now"]) for bar in bars][::-1]
    before = [int(bar["before"]) for bar in bars][::-1]
    figure = Figure(figsize=(WIDTH_PX / _DPI, HEIGHT_PX / _DPI), dpi=_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    rows = range(len(names))
    height = 0.38
    axes.barh([r + height / 2 for r in rows], now, height, color=THIS_WEEK, label=week)
    axes.barh(
        [r - height / 2 for r in rows], before, height, color=WEEK_BEFORE, label="week before"
    )
    for offset, values, colour in (
        (height / 2, now, "#1a1a1a"),
        (-height / 2, before, "#555555"),
    ):
        for row, value in enumerate(values):
            axes.annotate(
                str(value), (value, row + offset), xytext=(3, 0), textcoords="offset points",
                va="center", color=colour, fontsize=9,
            )  # fmt: skip
    axes.set_yticks(list(rows), names)
    axes.tick_params(labelsize=9)
    axes.set_xlim(0, max([1, *now, *before]) * 1.15)
    axes.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        axes.spines[side].set_visible(False)
    axes.legend(loc="lower right", frameon=False, fontsize=9)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()
