"""dbpoolsim.plot: matplotlib plots of sweeps and recommendations (sweeps.py)."""

from __future__ import annotations

from .sweeps import heatmap, label, recommend_curve, save_sweep_plots, sweep_curve

__all__ = ["heatmap", "label", "recommend_curve", "save_sweep_plots", "sweep_curve"]
