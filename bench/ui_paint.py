"""Web UI at scale: time to first paint and to charts/tables drawn with 10,000 trials, 10M points.

    .venv/bin/python bench/ui_paint.py                        # 10,000 trials, 10M metric points
    .venv/bin/python bench/ui_paint.py --points 1000000       # a quicker run (same trial count)
    .venv/bin/python bench/ui_paint.py --data-dir D --seed-only   # seed D/trainyard.db and stop
    .venv/bin/python bench/ui_paint.py --data-dir D           # time the UI on D's seeded store

1. Writes one adaptive-ASHA-shaped experiment into a fresh SQLite file with SQLAlchemy Core
   `insert()` executemany of plain dicts, 250 trials per transaction: `--trials` trials (of
   every 9: 6 stop at the first rung, 2 at the second, 1 trains to the end), a training `loss`
   every batch and validation `val_loss`, `accuracy` every 50 batches and at each rung, about
   `--points` reports in all; the trial and experiment summaries ingest would keep are written
   with them. With `--data-dir` the file is kept, and reused by later runs.
2. Serves the real app (`create_app`, store-backed runtime stand-in) on 127.0.0.1 and times the
   UI's reads (p50 of 5, the first call reported apart: it builds the caches the others reuse).
3. Opens the experiment overview, trials and HPO pages in headless Chromium (software WebGL:
   `--disable-gpu`), each in a fresh profile (cold: plotly.min.js parsed from scratch) and again
   in the same profile (warm: HTTP and compiled-code caches), and prints first contentful paint,
   the moment the first screen's charts (or table) were drawn, and the moment every chart was,
   after scrolling down (the HPO page draws its scatters and parallel coordinates only when the
   reader gets near them), from the page's own `performance.now()` marks, with each HPO chart's
   own plotly time.

Last measured, 2026-11-24 on the 2-core dev box, 10,000 trials and 10,218,305 points (seeded in
278 s, 36,800 points/s), another engineer's benchmarks sharing the cores (two runs, load 6-7):

                first paint cold / warm   first screen drawn cold / warm   all charts cold / warm
    overview    0.46-1.06 / 0.32-0.34 s   3.6-4.5 / 3.0-3.5 s              (same)
    trials      0.34-0.75 / 0.29-0.30 s   0.44-1.06 / 0.34-0.56 s          (same)
    HPO         0.92 / 0.21-0.36 s        5.0-5.7 / 2.8-3.6 s              15.6-16.6 / 12.8-14.5 s
    load ~3: first paint cold/warm overview 0.29 / 0.37 s, trials 0.26 / 0.21 s, HPO 0.34 /
    0.47 s; HPO charts all drawn 10.4 / 7.2 s before the scatters and parallel coordinates were
    deferred (they held the learning curves back).

2026-12-08, same data (10,000 trials, 10,218,305 points, seeded in 1,055 s at load 14-20),
after the HPO page gained the optimisation history and EDF (first screen) and a timeline (drawn
when near), and the overview its rungs plan, lineage and live view (load 9-15, `--skip-api`):

                first paint cold / warm   first screen drawn cold / warm   all charts cold / warm
    overview    1.44 / 0.56 s             7.7 / 6.6 s                      (same)
    trials      0.50 / 0.37 s             0.71 / 0.47 s                    (same)
    HPO         0.88 / 0.31 s             8.9 / 7.1 s                      28.5 / 23.3 s
    (an earlier run at load 15-20, before the overview stopped waiting on the live view and the
    search preview moved to a background thread: overview 16.6 / 13.7 s, HPO 18.6 / 13.5 s and
    51.5 / 40.2 s.) Plotly's own time at load ~10: parcoords 6.6-11 s, each scatter 0.3-2.8 s,
    history 0.8-2 s, EDF 0.1-0.9 s, timeline 0.2-0.7 s. Not measured on a quiet machine.

Of the HPO page's all-charts time, parallel coordinates take 3.8-12 s of plotly's own time
(WebGL set-up in software; on a GPU it is fast) and the four 2,000-point scatters 2-4 s.
Reads (load ~3-7, first / p50): trial table sorted by metric 0.11-0.48 / 0.09-0.24 s (30 ms of
CPU in-process), sorted by a hyperparameter 1.6-6.5 s / 0.04-0.19 s (the in-memory table),
HPO data 0.08-0.41 s (350 kB, 2,000 trials), curves 0.57-1.24 s (1.2 MB, 50,000 points),
importance 0.04-0.9 s once a page has started the fit.
Not a test; figures depend on the machine's load (print `uptime` next to them).
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from playwright.sync_api import Browser, sync_playwright  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from ui_support import CHROMIUM_ARGS, CONFIG_YAML, serve, signed_in_context  # noqa: E402

from trainyard.config import config_to_dict, load_experiment_config  # noqa: E402
from trainyard.master.db import Database, Metric, Trial  # noqa: E402
from trainyard.master.db import experiments as experiments_repo  # noqa: E402
from trainyard.master.db.metrics import steps_level  # noqa: E402
from trainyard.master.settings import load_master_settings  # noqa: E402
from trainyard.master.states import ExperimentState, TrialState  # noqa: E402

PATTERN = (0, 0, 1, 0, 0, 2, 0, 0, 1)
VAL_EVERY = 50
_CHUNK = 250
PAGES: dict[str, tuple[str, list[str], list[str], bool]] = {
    # name: (path, charts in the first 1400x900 screen, charts below it, has the trials table)
    "overview": ("/ui/experiments/{eid}", ["best-curves"], [], False),
    "trials": ("/ui/experiments/{eid}/trials", [], [], True),
    "hpo": (
        "/ui/experiments/{eid}/hpo",
        ["learning-curves", "history", "edf"],
        ["timeline", "importance", "heatmap", "parcoords", *(f"scatter-{i}" for i in range(4))],
        False,
    ),
}


def seed(db: Database, n_trials: int, points: int) -> tuple[int, int]:
    """Write the experiment; returns (experiment id, metric rows written).

    Trials and metric rows go in with SQLAlchemy Core `insert()` executemany of plain dicts,
    `_CHUNK` trials per transaction; the per-trial summaries ingest would keep (latest and best
    validation, total batches) and the experiment's best are computed here and written with them.
    """
    first = max(1, round(points / n_trials * 9 / 21))  # mean length = 21/9 of the first rung
    rungs = (first, 3 * first, 9 * first)
    rng = np.random.default_rng(0)
    config_yaml = CONFIG_YAML.format(name="ui-scale", n=n_trials, length=rungs[2])
    config = config_to_dict(load_experiment_config(config_yaml))
    with db.session() as session:
        eid = experiments_repo.create_experiment(
            session,
            name="ui-scale",
            config=config,
            config_yaml=config_yaml,
            searcher_metric="val_loss",
            smaller_is_better=True,
            owner_id=1,
        ).id
    written, now, best = 0, time.time(), (math.inf, 0)
    for start in range(0, n_trials, _CHUNK):
        trials, metric_rows = [], []
        for i in range(start, min(start + _CHUNK, n_trials)):
            lr, dropout = float(10 ** rng.uniform(-4, -1)), float(rng.uniform(0, 0.5))
            hp: dict[str, Any] = {
                "lr": lr,
                "dropout": dropout,
                "optimizer": ["adam", "sgd"][i % 2],
                "layers": int(rng.integers(1, 5)),
            }
            length = rungs[PATTERN[i % 9]]
            base = 0.08 * (math.log10(lr) + 2.5) ** 2 + 0.15 * dropout
            vsteps = sorted(
                {*range(VAL_EVERY, length + 1, VAL_EVERY), *(r for r in rungs if r <= length)}
            )
            final = base + 1.5 / length**0.5
            trials.append(_trial_row(eid, i, hp, length, final, now))
            metric_rows.append((i, base, length, vsteps))
        with db.session() as session:
            conn = session.connection()
            conn.execute(insert(Trial), trials)
            ids = dict(
                conn.execute(
                    select(Trial.request_id, Trial.id).where(
                        Trial.experiment_id == eid, Trial.request_id > start
                    )
                ).all()
            )
            rows = [
                row
                for i, base, length, vsteps in metric_rows
                for row in _metric_rows(eid, ids[i + 1], base, length, vsteps, now)
            ]
            conn.execute(insert(Metric), rows)
            written += len(rows)
        for i, base, length, _ in metric_rows:
            best = min(best, (base + 1.5 / length**0.5, ids[i + 1]))
        if start % 1000 == 0:
            print(f"  seeded {start + _CHUNK} trials, {written:,} points", flush=True)
    with db.session() as session:
        exp = experiments_repo.get_experiment(session, eid)
        exp.state, exp.progress, exp.ended_at = ExperimentState.COMPLETED.value, 1.0, time.time()
        exp.best_searcher_metric, exp.best_trial_id = best
    return eid, written


def _trial_row(
    eid: int, i: int, hp: dict[str, Any], length: int, final: float, now: float
) -> dict[str, Any]:
    return {
        "experiment_id": eid,
        "request_id": i + 1,
        "hparams": hp,
        "state": TrialState.COMPLETED.value,
        "seed": i,
        "restarts": 0,
        "run_count": 1,
        "completed_length": length,
        "closed": True,
        "stop_requested": False,
        "total_batches": length,
        "best_validation": final,
        "latest_validation": final,
        "created_at": now,
        "started_at": now,
        "ended_at": now,
    }


def _metric_rows(
    eid: int, tid: int, base: float, length: int, vsteps: list[int], now: float
) -> list[dict[str, Any]]:
    common = {"trial_id": tid, "experiment_id": eid, "timestamp": now, "trial_run_id": 0}
    rows = [
        {
            **common,
            "metric_group": "training",
            "steps": s,
            "steps_level": steps_level(s),
            "metrics": {"loss": base + 1.5 / s**0.5},
            "searcher_metric": None,
        }
        for s in range(1, length + 1)
    ]
    for s in vsteps:
        value = base + 1.5 / s**0.5
        rows.append(
            {
                **common,
                "metric_group": "validation",
                "steps": s,
                "steps_level": steps_level(s),
                "metrics": {"val_loss": value, "accuracy": 1 - base / 2},
                "searcher_metric": value,
            }
        )
    return rows


def time_api(url: str, token: str, eid: int) -> None:
    """p50 of 5 calls per route, the first call apart (it builds the caches the others reuse)."""
    paths = [
        f"/ui/experiments/{eid}/hpo",
        f"/api/v1/experiments/{eid}",
        f"/api/v1/webui/experiments/{eid}/trial_table?sort=searcher_metric&limit=50",
        f"/api/v1/webui/experiments/{eid}/trial_table?sort=hp.lr&limit=50",
        f"/api/v1/webui/experiments/{eid}/hpo",
        f"/api/v1/webui/experiments/{eid}/importance",
        f"/api/v1/webui/experiments/{eid}/rungs",
        f"/api/v1/webui/experiments/{eid}/curves",
        f"/api/v1/experiments/{eid}/metrics?group=validation&max_points=200",
    ]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as c:
        c.cookies.set("trainyard_token", token)
        for path in paths:
            times, size = [], 0
            for _ in range(6):
                t0 = time.perf_counter()
                response = c.get(path)
                response.raise_for_status()
                times.append(time.perf_counter() - t0)
                size = len(response.content)
            print(
                f"  GET {path:<72} first {times[0] * 1000:7.0f} ms   p50 "
                f"{statistics.median(times[1:]) * 1000:7.0f} ms  {size / 1e3:8.0f} kB"
            )


def time_page(
    browser: Browser, url: str, token: str, page_spec: tuple[str, list[str], list[str], bool]
) -> list[tuple[float, float, float]]:
    """(first paint, first screen drawn, everything drawn) in ms from navigation, cold then warm.

    Charts below the first screen are scrolled to once the first screen is drawn (the HPO page
    draws its scatters and parallel coordinates only when the reader gets near them)."""
    path, visible, below, table = page_spec
    context = signed_in_context(browser, url, token)
    out = []
    for visit in ("cold", "warm"):
        page = context.new_page()
        page.goto(url + path)
        for chart in visible:
            page.wait_for_selector(f"#{chart}[data-drawn]", timeout=300_000)
        if table:
            page.wait_for_function("window.__tableDrawn", timeout=300_000)
        scrolled = page.evaluate("performance.now()")
        for chart in below:
            near = "scatters" if chart.startswith("scatter-") else chart  # made when near
            page.locator(f"#{near}").scroll_into_view_if_needed()
            page.wait_for_selector(f"#{chart}[data-drawn]", timeout=300_000)
        marks: dict[str, Any] = page.evaluate(
            "({fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,"
            " charts: window.__chartsDrawn || {}, cost: window.__chartsCost || {},"
            " table: window.__tableDrawn})"
        )
        first = [marks["charts"][c] for c in visible] + ([marks["table"]] if table else [])
        every = [*first, *(marks["charts"][c] for c in below)]
        if below:
            each = ", ".join(
                f"{c} {marks['charts'][c]:.0f} ({marks['cost'].get(c, 0):.0f})"
                for c in [*visible, *below]
            )
            print(
                f"    {visit}: charts drawn at (plotly's own time), ms: {each}; "
                f"scrolled down at {scrolled:.0f}",
                flush=True,
            )
        out.append((marks["fcp"], max(first), max(every)))
        page.close()
    context.close()
    return out


def _at(
    spec: tuple[str, list[str], list[str], bool], eid: int
) -> tuple[str, list[str], list[str], bool]:
    return (spec[0].format(eid=eid), *spec[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument(
        "--data-dir", type=Path, help="seed into (or reuse) this folder's trainyard.db (kept)"
    )
    parser.add_argument("--seed-only", action="store_true", help="seed, print, and stop")
    parser.add_argument("--pages", default=",".join(PAGES), help="pages to time (comma list)")
    parser.add_argument("--skip-api", action="store_true", help="time the pages only")
    args = parser.parse_args()
    print("command:", " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]))
    print("load:", os.getloadavg(), "cpus:", os.cpu_count())
    reuse = args.data_dir is not None and (args.data_dir / "trainyard.db").exists()
    data = args.data_dir or Path(tempfile.mkdtemp(prefix="trainyard-ui-bench-"))
    data.mkdir(parents=True, exist_ok=True)
    settings = load_master_settings(None, env={}, data_dir=data, checkpoint_root=data / "c")
    with serve(settings) as served:
        t0 = time.perf_counter()
        if reuse:
            eid = 1
            print(f"reusing experiment 1 of {data / 'trainyard.db'}")
        else:
            eid, written = seed(served.db, args.trials, args.points)
            print(
                f"seeded {args.trials:,} trials and {written:,} metric points in "
                f"{time.perf_counter() - t0:.0f} s ({data / 'trainyard.db'})"
            )
        if args.seed_only:
            return
        if not args.skip_api:
            time_api(served.url, served.token, eid)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("TRAINYARD_TEST_CHROMIUM", "/usr/bin/chromium"),
                args=CHROMIUM_ARGS,
            )
            print(
                f"  {'page':<10} {'visit':<6} {'first paint':>12} {'screen drawn':>13}"
                f" {'all drawn':>10}"
            )
            for name in args.pages.split(","):
                for visit, (fcp, screen, every) in zip(
                    ("cold", "warm"),
                    time_page(browser, served.url, served.token, _at(PAGES[name], eid)),
                    strict=True,
                ):
                    print(
                        f"  {name:<10} {visit:<6} {fcp:>9.0f} ms {screen:>10.0f} ms "
                        f"{every:>7.0f} ms",
                        flush=True,
                    )
            browser.close()
    print("load after:", os.getloadavg())


if __name__ == "__main__":
    main()
