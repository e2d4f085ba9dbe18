"""Markdown tables and PNG plots from the summarised cells (see `stats.py` for the figures)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bench.hpo.stats import Cell, MethodSummary, regret_curve

HEADLINE_OURS = "ours:default"
"""Adaptive ASHA as a config that names neither `mode` nor `sampler` gets it (aggressive, tpe)."""
HEADLINE_OURS_DETERMINED = "ours:adaptive_standard"
"""Determined's adaptive ASHA: `mode: standard`, `sampler: uniform`."""
PEER_PREFIXES = ("optuna:", "synetune:", "ray:")
PLOTTED = [
    "ours:default",
    "ours:adaptive_standard",
    "ours:adaptive_standard_tpe",
    "ours:asha",
    "ours:random",
    "ours:sha",
    "optuna:sha",
    "optuna:hyperband",
    "synetune:asha",
    "synetune:hyperband",
    "synetune:random",
]


def _pm(value: tuple[float, float], digits: int = 4) -> str:
    mean, half = value
    return f"{mean:.{digits}g} ± {half:.2g}"


def best_peer(cell: Cell) -> MethodSummary | None:
    """The peer with the lowest mean time to target (ties: lower final regret)."""
    peers = [s for m, s in cell.methods.items() if m.startswith(PEER_PREFIXES)]
    if not peers:
        return None
    return min(peers, key=lambda s: (s.time_to_target[0], s.final_regret[0]))


def headline_rows(cells: list[Cell], method: str = HEADLINE_OURS) -> list[list[str]]:
    """Per cell: our `method` against the best peer (time-to-target ratio, final regret)."""
    rows = []
    for cell in cells:
        ours, peer = cell.methods.get(method), best_peer(cell)
        if ours is None or peer is None:
            continue
        ratio = ours.time_to_target[0] / peer.time_to_target[0]
        verdict = (
            "win"
            if ratio <= 0.8 and ours.final_regret[0] <= peer.final_regret[0] + 1e-9
            else "lose"
            if ratio > 1.0 or ours.final_regret[0] > peer.final_regret[0] + 1e-9
            else "tie"
        )
        rows.append(
            [
                cell.problem,
                str(cell.workers),
                peer.method,
                f"{ours.time_to_target[0]:.4g} ({ours.reached:.0%})",
                f"{peer.time_to_target[0]:.4g} ({peer.reached:.0%})",
                f"{ratio:.2f}",
                _pm(ours.final_regret, 3),
                _pm(peer.final_regret, 3),
                verdict,
            ]
        )
    return rows


HEADLINE_HEADER = [
    "problem",
    "workers",
    "best peer",
    "ours: time to target (reached)",
    "peer: time to target (reached)",
    "ratio ours/peer",
    "ours: final regret",
    "peer: final regret",
    "verdict",
]


def table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def cell_table(cell: Cell) -> str:
    """Every method of one cell, sorted by mean time to target."""
    rows = []
    for s in sorted(cell.methods.values(), key=lambda s: (s.time_to_target[0], s.final_regret[0])):
        rows.append(
            [
                s.method,
                str(s.seeds),
                _pm(s.time_to_target),
                f"{s.reached:.0%}",
                _pm(s.final_regret, 3),
                f"{s.trials:.0f}",
                f"{s.utilization:.1%}",
            ]
        )
    header = [
        "method",
        "seeds",
        "time to target (s, mean ± 95% CI)",
        "reached",
        "final regret",
        "trials started",
        "slot utilisation",
    ]
    title = (
        f"### {cell.problem}, {cell.workers} workers — budget {cell.budget:,.0f} simulated s, "
        f"target accuracy {cell.target:.4f} (99% of best found {cell.best_any:.4f}; "
        f"optimum {cell.optimum:.4f})\n\n"
    )
    return title + table(header, rows)


def plot_regret(cells: list[Cell], workers: int, out: Path) -> None:
    """One panel per problem: mean regret (95% CI band) against simulated time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [c for c in cells if c.workers == workers]
    if not chosen:
        return
    fig, axes = plt.subplots(1, len(chosen), figsize=(4.2 * len(chosen), 3.6), squeeze=False)
    for ax, cell in zip(axes[0], chosen, strict=True):
        grid = np.linspace(0, cell.budget, 120)
        for method in PLOTTED:
            runs = cell.traces.get(method)
            if not runs:
                continue
            mean, half = regret_curve(runs, cell.optimum, grid)
            floor = 1e-4
            line = ax.plot(
                grid,
                np.maximum(mean, floor),
                label=method,
                lw=2.2 if method == HEADLINE_OURS else 1.1,
            )[0]
            ax.fill_between(
                grid,
                np.maximum(mean - half, floor),
                np.maximum(mean + half, floor),
                color=line.get_color(),
                alpha=0.15,
            )
        ax.set_yscale("log")
        ax.set_title(f"{cell.problem} ({workers} workers)", fontsize=9)
        ax.set_xlabel("simulated seconds")
        ax.set_ylabel("regret (optimum − best accuracy)")
    axes[0][-1].legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def is_finite(x: float) -> bool:
    """True for a real number (not NaN or infinite)."""
    return not (math.isnan(x) or math.isinf(x))
