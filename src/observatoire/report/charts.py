"""The report's charts: matplotlib figures (Agg canvas, the bundled DejaVu font) as PNG ``data:`` URIs.

Each function takes plain numbers and labels and returns ``data:image/png;base64,...``, so that the HTML
is self-contained and offline. PNGs carry no creation time, so a report is reproducible.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:   # matplotlib reads and writes its caches when imported: only when a chart is drawn
    from matplotlib.figure import Figure

COLOURS = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#a50021")


def _figure(width: float = 7.0, height: float = 3.2) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _axis_fr(ax) -> None:
    """Decimal comma on the y axis."""
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:g}".replace(".", ","))
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def series_with_margins(x_labels: Sequence[str], series: Mapping[str, Sequence[float | None]],
                        margins: Mapping[str, Sequence[float | None]], *, ylabel: str) -> str:
    """One line per series over ``x_labels``, each point with its ± margin; ``None`` points are not drawn."""
    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(x_labels))
    for i, (name, values) in enumerate(series.items()):
        y = np.array([np.nan if v is None else v for v in values], float)
        err = np.array([0 if m is None else m for m in margins[name]], float)
        shown = np.isfinite(y)
        ax.errorbar(x[shown] + (i - len(series) / 2) * 0.04, y[shown], yerr=err[shown], marker="o", markersize=4,
                    capsize=3, linewidth=1.2, color=COLOURS[i % len(COLOURS)], label=name)
    ax.set_xticks(x, x_labels)
    ax.set_xlim(-0.5, len(x_labels) - 0.5)
    ax.set_ylabel(ylabel)
    _axis_fr(ax)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _uri(fig)


def grouped_bars(x_labels: Sequence[str], series: Mapping[str, Sequence[float]], *, ylabel: str) -> str:
    """Bars per series side by side for each of ``x_labels``."""
    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(x_labels))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        ax.bar(x - 0.4 + width * (i + 0.5), values, width, color=COLOURS[i % len(COLOURS)], label=name)
    ax.set_xticks(x, x_labels)
    ax.set_ylabel(ylabel)
    _axis_fr(ax)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _uri(fig)


def budget_steps(months: Sequence[str], cumulative: Sequence[float], budget: float, *, ylabel: str) -> str:
    """The privacy loss spent in a year, cumulated month by month, against the annual budget."""
    fig = _figure(height=2.8)
    ax = fig.add_subplot()
    x = np.arange(len(months))
    ax.bar(x, cumulative, 0.6, color=COLOURS[0], label="ε cumulé")
    ax.axhline(budget, color=COLOURS[1], linestyle="--", linewidth=1.2, label="budget annuel")
    ax.set_xticks(x, months, rotation=45, ha="right", fontsize=7)
    ax.set_ylim(0, budget * 1.1)
    ax.set_ylabel(ylabel)
    _axis_fr(ax)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return _uri(fig)


def ratios_with_intervals(labels: Sequence[str], ratios: Sequence[float | None], lows: Sequence[float | None],
                          highs: Sequence[float | None], band: tuple[float, float], *, xlabel: str) -> str:
    """Ratios with their confidence intervals (horizontal), the acceptance band shaded, 1 marked."""
    fig = _figure(height=0.6 + 0.45 * max(len(labels), 1))
    ax = fig.add_subplot()
    ax.axvspan(band[0], band[1], color="#e2efda", label="bande acceptée")
    ax.axvline(1.0, color="#888888", linewidth=0.8)
    y = np.arange(len(labels))
    for i, (r, lo, hi) in enumerate(zip(ratios, lows, highs, strict=True)):
        if r is None:
            continue
        err = [[r - lo] if lo is not None else [0], [hi - r] if hi is not None else [0]]
        ax.errorbar([r], [i], xerr=err, marker="o", capsize=3, color=COLOURS[0])
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_ylim(-0.6, len(labels) - 0.4)
    ax.set_xlabel(xlabel)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:g}".replace(".", ","))
    ax.legend(fontsize=7, loc="lower right", frameon=False)
    return _uri(fig)


def two_lines(x_labels: Sequence[str], first: Sequence[float | None], second: Sequence[float | None],
              names: tuple[str, str], *, ylabel: str) -> str:
    """Two series over the same windows (``None``: not drawn)."""
    fig = _figure(height=2.8)
    ax = fig.add_subplot()
    x = np.arange(len(x_labels))
    for i, (name, values) in enumerate(zip(names, (first, second), strict=True)):
        ax.plot(x, [np.nan if v is None else v for v in values], marker="o", markersize=3,
                color=COLOURS[i], label=name)
    ax.set_xticks(x, x_labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel(ylabel)
    _axis_fr(ax)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return _uri(fig)
