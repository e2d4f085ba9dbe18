"""The UI on a real master process running a small adaptive ASHA search with real trial
processes: pause and activate from the overview, follow a running trial's log, then check that
the trials table and the learning curves hold what the API says once the search has ended."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from chart_data import curves_by_trial
from master_process import RunningMaster, start_master, stop_master
from playwright.sync_api import Browser, Page
from ui_support import chart, signed_in_context

from trainyard.client import Client

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TRAIN_PY = """
import time
import trainyard.core as core

with core.init() as ctx:
    lr = float(ctx.info.hparams["lr"])
    steps = 0
    for op in ctx.searcher.operations():
        while steps < op.length:
            steps += 1
            time.sleep(0.15)
            ctx.train.report_training_metrics(steps, {"loss": lr / steps})
            print(f"asha-ui: step {steps} lr {lr:.4f}", flush=True)
        loss = lr / steps
        ctx.train.report_validation_metrics(steps, {"val_loss": loss})
        print(f"asha-ui: validated at {steps}", flush=True)
        op.report_completed(loss)
        if ctx.preempt.should_preempt():
            break
"""

CONFIG = """
name: ui-asha
entrypoint: python3 train.py
hyperparameters:
  lr: {type: double, minval: 0.01, maxval: 1.0}
searcher:
  name: adaptive_asha
  metric: val_loss
  smaller_is_better: true
  max_trials: 4
  max_length: {batches: 8}
  divisor: 2
  max_rungs: 2
  max_concurrent_trials: 2
max_restarts: 0
"""


@pytest.fixture
def real_master(tmp_path: Path) -> Iterator[RunningMaster]:
    running = start_master(tmp_path / "master")
    try:
        yield running
    finally:
        stop_master(running)


def _wait_state(page: Page, state: str) -> None:
    page.wait_for_function(
        f"document.querySelector('#exp-state').textContent == '{state}'", timeout=90_000
    )


def test_real_asha_search_steered_and_shown(
    browser: Browser, real_master: RunningMaster, tmp_path: Path
) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "train.py").write_text(TRAIN_PY)
    (tmp_path / "exp.yaml").write_text(CONFIG)
    context = signed_in_context(browser, real_master.url, real_master.token)
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    with Client(real_master.url, real_master.token) as client:
        exp = client.create_experiment(tmp_path / "exp.yaml", model)
        page.goto(f"{real_master.url}/ui/experiments/{exp.id}")
        _wait_state(page, "ACTIVE")
        page.click("button[data-action=pause]")
        _wait_state(page, "PAUSED")
        assert client.get_experiment(exp.id).state == "PAUSED"
        page.click("button[data-action=activate]")
        _wait_state(page, "ACTIVE")

        trial = client.list_trials(exp.id).items[0]
        page.goto(f"{real_master.url}/ui/trials/{trial.id}")
        page.wait_for_function(
            "document.querySelector('#logs').textContent.includes('asha-ui: validated at')",
            timeout=120_000,
        )

        final = client.wait_experiment(exp.id, interval=0.5, timeout=240)
        assert final.state == "COMPLETED", real_master.log()[-3000:]
        trials = client.list_trials(exp.id, limit=1000).items
        curves = client.experiment_metrics(exp.id)

    page.goto(f"{real_master.url}/ui/experiments/{exp.id}/trials")
    page.wait_for_function(
        f"document.querySelector('#trials-table').dataset.total == '{len(trials)}'"
    )
    ids = page.locator("#trials-table tbody tr").evaluate_all("rs => rs.map(r => +r.dataset.id)")
    assert sorted(ids) == sorted(t.id for t in trials)

    page.goto(f"{real_master.url}/ui/experiments/{exp.id}/hpo")
    drawn = curves_by_trial(chart(page, "learning-curves"))
    expected = {c.trial_id: len(c.points) for c in curves if c.points}
    assert {tid: len(points) for tid, (_, points) in drawn.items()} == expected
    # Each curve ends where the searcher stopped its trial.
    ends = {tid: max(x for x, _ in points) for tid, (_, points) in drawn.items()}
    assert ends == {t.id: t.trained_length for t in trials if t.id in expected}
    context.close()
