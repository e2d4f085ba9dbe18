"""Write `results/README.md` (headline, per-cell tables, claim, real-time run) and the plots."""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.hpo.claim import claim_row
from bench.hpo.problems import Problem
from bench.hpo.report import (
    HEADLINE_HEADER,
    HEADLINE_OURS_DETERMINED,
    cell_table,
    headline_rows,
    plot_regret,
    table,
)
from bench.hpo.stats import summarise
from bench.hpo.trace import RunTrace

RESULTS = Path(__file__).parent / "results"


def _traces(payload: dict[str, Any]) -> list[RunTrace]:
    fields = RunTrace.__dataclass_fields__
    return [RunTrace(**{k: v for k, v in row.items() if k in fields}) for row in payload["runs"]]


def write_all(
    payload: dict[str, Any], load_problem: Callable[[str], Problem], args: argparse.Namespace
) -> None:
    """Summarise the runs in `payload` and write every results file."""
    traces = _traces(payload)
    names = sorted({t.problem for t in traces})
    problems = {n: load_problem(n) for n in names}
    cells = summarise(traces, {n: p.best for n, p in problems.items()})
    workers = sorted({c.workers for c in cells})
    for w in workers:
        plot_regret(cells, w, RESULTS / f"regret_w{w}.png")
    seeds = sorted({t.seed for t in traces})
    claims = [claim_row(p, workers=16, seeds=seeds[:5]) for p in problems.values()]

    parts = [
        "# HPO benchmark results\n\n",
        f"Produced by `{payload['command']}` in {payload['seconds']:.0f} s on "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d', time.gmtime())}. {len(seeds)} seeds per cell. "
        "Regenerate the tables and plots only: `python -m bench.hpo.run_all --report-only`.\n\n",
        "## Problems\n\n",
        table(
            ["problem", "what", "max length", "rungs x divisor", "optimum"],
            [
                [
                    p.name,
                    p.description,
                    f"{p.max_length} {p.unit}",
                    f"{p.rungs} x {p.divisor}",
                    f"{p.best:.4f}",
                ]
                for p in problems.values()
            ],
        ),
        "\n## Headline: our default (adaptive ASHA, aggressive, `sampler: tpe`) against the best "
        "peer\n\n",
        "Best peer = the peer method with the lowest mean time to target in that cell. "
        "Time to target in simulated seconds, a seed that never reached it counted as the whole "
        "budget; `reached` = share of seeds that reached it. Goal: ratio <= 0.8 and final "
        "regret no worse.\n\n",
        table(HEADLINE_HEADER, headline_rows(cells)),
        "\n## The same for Determined's search (`mode: standard`, `sampler: uniform`)\n\n",
        "Hyperparameters drawn uniformly, the standard brackets; same peers and targets.\n\n",
        table(HEADLINE_HEADER, headline_rows(cells, HEADLINE_OURS_DETERMINED)),
        "\n## Regret over time\n\n",
        *[f"![regret, {w} workers](regret_w{w}.png)\n\n" for w in workers],
        "## Every method, every cell\n\n",
        *[cell_table(c) + "\n" for c in cells],
        "## ASHA runs twice SHA's trials in less than twice SHA's time\n\n",
        "Same 16 slots, no budget: SHA with n trials, ASHA (promotion) with 2n, "
        "n = 2 x divisor^(rungs-1); means over up to 5 seeds.\n\n",
        table(
            [
                "problem",
                "SHA trials",
                "ASHA trials",
                "SHA time",
                "ASHA time",
                "ASHA/SHA time",
                "SHA utilisation",
                "ASHA utilisation",
                "claim holds",
            ],
            [
                [
                    c.problem,
                    f"{c.sha_trials:.0f}",
                    f"{c.asha_trials:.0f}",
                    f"{c.sha_time:,.0f}",
                    f"{c.asha_time:,.0f}",
                    f"{c.time_ratio:.2f}",
                    f"{c.sha_utilization:.1%}",
                    f"{c.asha_utilization:.1%}",
                    "yes" if c.holds else "no",
                ]
                for c in claims
            ],
        ),
    ]
    realtime = RESULTS / "realtime.json"
    if realtime.exists():
        parts.append(_realtime_section(json.loads(realtime.read_text())))
    (RESULTS / "README.md").write_text("".join(parts))
    print(f"wrote {RESULTS / 'README.md'}")
    print(table(HEADLINE_HEADER, headline_rows(cells)))
    print(table(HEADLINE_HEADER, headline_rows(cells, HEADLINE_OURS_DETERMINED)))


def _realtime_section(data: dict[str, Any]) -> str:
    rows = [
        [
            r["method"],
            f"{r['seconds']:.0f}",
            str(r["trials"]),
            str(r["epochs"]),
            f"{r['best_accuracy']:.4f}",
            f"{r['time_to_best']:.0f}",
            f"{r.get('startup_seconds', 0):.0f}",
        ]
        for r in data["runs"]
    ]
    return (
        "\n## Real wall-clock run: digits MLP, 2 workers\n\n"
        + str(data["description"])
        + "\n\n"
        + table(
            [
                "method",
                "wall s",
                "trials",
                "epochs trained",
                "best val. accuracy",
                "s to that best",
                "startup s",
            ],
            rows,
        )
    )
