"""Learning-curve PNGs for the MARL benchmarks (small files, committed under benchmarks/marl/results/)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_curves(
    curves: dict[str, list[tuple[float, float]]],
    path: str | Path,
    title: str,
    xlabel: str,
    ylabel: str,
    levels: dict[str, float] | None = None,
) -> None:
    """One line per curve (x, y points) and a dashed horizontal line per reference level."""
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=90)
    for label, points in curves.items():
        if points:
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o", markersize=3, label=label)
    for (label, value), style in zip((levels or {}).items(), ("--", ":", "-.")):
        ax.axhline(value, linestyle=style, color="grey", label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
