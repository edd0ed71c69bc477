"""Figures the chapters share: training curves, heat maps, gate activations.

Each function draws into a Matplotlib ``Axes`` (or returns a new ``Figure``) and returns
it; the notebook ends the cell with ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

GATE_TITLES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g",
               "o": "output gate o", "c": "cell state c", "h": "hidden state h"}


def _numpy(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=float)


def curves(ax: Axes, series: Mapping[str, Any], *, x: Any = None, logy: bool = False,
           xlabel: str = "step", ylabel: str = "", title: str | None = None,
           styles: Mapping[str, str] | None = None) -> Axes:
    """Plot one line per entry of ``series`` (name -> 1-D values, all on the same ``x``,
    default 0..n-1) with a legend. ``logy`` for a log scale."""
    if not series:
        raise ValueError("curves needs at least one series")
    for name, values in series.items():
        v = _numpy(values)
        if v.ndim != 1:
            raise ValueError(f"series {name!r} must be 1-D, got shape {v.shape}")
        xs = np.arange(len(v)) if x is None else _numpy(x)
        fmt = (styles or {}).get(name, "-")
        ax.plot(xs, v, fmt, label=name)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(frameon=False)
    return ax


def heatmap(ax: Axes, matrix: Any, *, title: str | None = None, xlabel: str = "time step t",
            ylabel: str = "", row_labels: Sequence[str] | None = None, cmap: str = "viridis",
            vmin: float | None = None, vmax: float | None = None, colorbar: bool = True) -> Axes:
    """Draw a (rows, columns) matrix as an image, columns along x (usually time)."""
    m = _numpy(matrix)
    if m.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {m.shape}")
    im = ax.imshow(m, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    if row_labels is not None:
        if len(row_labels) != m.shape[0]:
            raise ValueError(f"{len(row_labels)} row labels for {m.shape[0]} rows")
        ax.set_yticks(range(m.shape[0]), row_labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    return ax


def gate_heatmaps(trace: Mapping[str, Any], *, sample: int = 0, layer: int = 0,
                  names: Sequence[str] = ("i", "f", "o", "c"), units: Sequence[int] | None = None,
                  inputs: Any = None, figsize: tuple[float, float] | None = None) -> Figure:
    """One heat map per gate/state of an LSTM ``trace`` (dict of (D*L, B, T, H)), units by
    time, for one sample and one layer-direction. Gates share the 0..1 colour scale; c and
    g are centred on zero. ``inputs`` (T,) or (T, I) of that sample adds a top row, drawn in
    the same diverging colours as c (red positive, blue negative), so that an input's sign
    and a cell state's can be matched by colour."""
    rows = len(names) + (inputs is not None)
    fig, axes = plt.subplots(rows, 1, figsize=figsize or (8, 1.6 * rows + 0.6), sharex=True,
                             squeeze=False)
    axes = axes[:, 0]
    k = 0
    if inputs is not None:
        inp = _numpy(inputs)
        lim = float(np.abs(inp).max()) or 1.0
        heatmap(axes[0], inp.reshape(len(inp), -1).T, title="input x", xlabel="",
                cmap="RdBu_r", vmin=-lim, vmax=lim)
        k = 1
    for ax, name in zip(axes[k:], names, strict=True):
        if name not in trace:
            raise KeyError(f"trace has no {name!r}; it has {sorted(trace)}")
        m = _numpy(trace[name])[layer, sample].T  # (H, T)
        if units is not None:
            m = m[list(units)]
        if name in ("c", "g", "h"):
            lim = float(np.abs(m).max()) or 1.0
            heatmap(ax, m, title=GATE_TITLES.get(name, name), xlabel="", ylabel="unit",
                    cmap="RdBu_r", vmin=-lim, vmax=lim)
        else:
            heatmap(ax, m, title=GATE_TITLES.get(name, name), xlabel="", ylabel="unit",
                    vmin=0.0, vmax=1.0)
    axes[-1].set_xlabel("time step t")
    fig.tight_layout()
    return fig


def grouped_bars(ax: Axes, groups: Sequence[str], series: Mapping[str, Sequence[float]], *,
                 colors: Sequence[str] | None = None,
                 bar_labels: Mapping[str, Sequence[str]] | None = None, fmt: str = "%.2f",
                 width: float = 0.76, fontsize: float = 8) -> list[Any]:
    """Bars side by side: one group per entry of ``groups`` (the x ticks), one bar per series
    in each group (name -> one value per group), the series' name as its legend label.

    The bars of a group share ``width`` (in units of the distance between groups) and sit
    centred on the group's tick. Each bar is labelled with its value in ``fmt``, or with
    ``bar_labels[name]`` (one string per group) where given. ``colors``: one per series
    (default: Matplotlib's cycle). Returns the ``BarContainer`` of every series, in order.
    """
    if not series:
        raise ValueError("grouped_bars needs at least one series")
    if colors is not None and len(colors) != len(series):
        raise ValueError(f"{len(colors)} colours for {len(series)} series")
    xs = np.arange(len(groups))
    n, w = len(series), width / len(series)
    containers = []
    for k, (name, values) in enumerate(series.items()):
        v = _numpy(values)
        if v.shape != (len(groups),):
            raise ValueError(f"series {name!r} needs {len(groups)} values, got shape {v.shape}")
        kw = {} if colors is None else {"color": colors[k]}
        bars = ax.bar(xs + (k - (n - 1) / 2) * w, v, w, label=name, **kw)
        labels = (bar_labels or {}).get(name)
        if labels is not None:
            if len(labels) != len(groups):
                raise ValueError(f"{len(labels)} bar labels for {len(groups)} groups")
            ax.bar_label(bars, labels=list(labels), fontsize=fontsize)
        else:
            ax.bar_label(bars, fmt=fmt, fontsize=fontsize)
        containers.append(bars)
    ax.set_xticks(xs, list(groups))
    return containers
