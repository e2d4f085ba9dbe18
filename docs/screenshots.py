"""Save a screenshot of each web UI page into docs/images/.

    .venv/bin/python docs/screenshots.py            # seeded searches, in-process master
    .venv/bin/python docs/screenshots.py --out /tmp/shots

The master is the real app (`create_app`) on a free port with a store-backed runtime stand-in
(`tests/e2e/ui_support.py`); the search is written through the store's repository functions, so
the pictures do not depend on trial timing. Chromium is Debian's (`scripts/ensure_chromium.sh`),
overridable with TRAINYARD_TEST_CHROMIUM.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from playwright.sync_api import Page, sync_playwright  # noqa: E402
from ui_more_seeds import seed_errored, seed_live_progress, seed_population  # noqa: E402
from ui_support import CHROMIUM_ARGS, seed_search, serve  # noqa: E402

from trainyard.master.settings import load_master_settings  # noqa: E402


def _wait_charts(page: Page, ids: list[str]) -> None:
    for chart in ids:
        near = "scatters" if chart.startswith("scatter-") else chart  # made when near
        page.locator(f"#{near}").scroll_into_view_if_needed()  # some draw only when near
        page.wait_for_selector(f"#{chart}[data-drawn]", timeout=30_000)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(400)  # let plotly finish its transitions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="trainyard-shots-"))
    settings = load_master_settings(
        None, env={}, data_dir=data, checkpoint_root=data / "ckpt", cpu_slots=4
    )
    with serve(settings) as served:
        done = seed_search(served.db, name="digits-adaptive", n_trials=81, max_length=2700)
        seed_search(served.db, name="gru-sequence", n_trials=10, running=3, queued=4, seed=1)
        best = min(
            (t for t in done.trial_ids if done.lengths[t] == done.rungs[-1]),
            default=done.trial_ids[0],
        )
        errored, failed = seed_errored(served.db)
        live = seed_live_progress(served.db)
        population, _ = seed_population(served.db)
        eid = done.experiment_id
        shots = [
            ("experiments", "/ui/experiments", []),
            ("experiment-overview", f"/ui/experiments/{eid}", ["best-curves"]),
            ("experiment-errored", f"/ui/experiments/{errored.experiment_id}", []),
            ("experiment-lineage", f"/ui/experiments/{population}", []),
            ("trials", f"/ui/experiments/{eid}/trials", []),
            ("trials-waiting", f"/ui/experiments/{live.search.experiment_id}/trials", []),
            (
                "hpo",
                f"/ui/experiments/{eid}/hpo",
                [
                    "learning-curves",
                    "history",
                    "edf",
                    "importance",
                    "heatmap",
                    "timeline",
                    "parcoords",
                    "scatter-0",
                ],
            ),
            ("trial-failed", f"/ui/trials/{failed[0]}", ["trial-metrics"]),
            ("trial", f"/ui/trials/{best}", ["trial-metrics"]),
            (
                "compare",
                f"/ui/compare?trials={','.join(map(str, done.trial_ids[-3:]))}",
                ["compare-curves"],
            ),
            ("cluster", "/ui/cluster", []),
        ]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=os.environ.get("TRAINYARD_TEST_CHROMIUM", "/usr/bin/chromium"),
                args=CHROMIUM_ARGS,
            )
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.add_cookies(
                [{"name": "trainyard_token", "value": served.token, "url": served.url}]
            )
            page = context.new_page()
            for name, path, charts in shots:
                page.goto(served.url + path)
                page.wait_for_load_state("networkidle")
                _wait_charts(page, charts)
                target = args.out / f"{name}.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"saved {target}")
            browser.close()


if __name__ == "__main__":
    main()
