"""Plots written as PNG files (matplotlib's Agg backend; no display needed)."""
from gnnkit.viz.plots import plot_curves, plot_embedding

__all__ = ["plot_curves", "plot_embedding"]
