"""Trial page (metrics, checkpoints, restarts, logs followed live and searched), cluster page,
and the error states (a deleted trial, the master unreachable) in a real Chromium."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page
from ui_support import SeededUI, chart

from trainyard.master.db import LogLine, TrialEvent
from trainyard.master.db import checkpoints as checkpoints_repo
from trainyard.master.db import logs as logs_repo
from trainyard.master.db import metrics as metrics_repo

pytestmark = pytest.mark.e2e


def test_trial_page_shows_metrics_checkpoints_restarts_and_logs(
    page: Page, seeded_ui: SeededUI
) -> None:
    search = seeded_ui.done
    tid = next(t for t in search.trial_ids[4::9])  # every 9th from the 5th has had a restart
    with seeded_ui.served.db.session(read_only=True) as session:
        n_train = len(metrics_repo.trial_metrics(session, tid, "training"))
        n_val = len(metrics_repo.trial_metrics(session, tid, "validation"))
        ckpts = checkpoints_repo.list_checkpoints(session, trial_id=tid)
        n_events = session.query(TrialEvent).filter(TrialEvent.trial_id == tid).count()
        n_logs = session.query(LogLine).filter(LogLine.trial_id == tid).count()
    page.goto(f"{seeded_ui.url}/ui/trials/{tid}")
    traces = {t["name"]: len(t["x"]) for t in chart(page, "trial-metrics")}
    assert traces == {
        "training/loss": n_train,
        "validation/val_loss": n_val,
        "validation/accuracy": n_val,
    }
    page.wait_for_selector("#checkpoints-table tbody tr")
    rows = page.locator("#checkpoints-table tbody tr")
    assert rows.count() == len(ckpts) == 1
    assert "download" in rows.first.inner_text()
    assert page.locator("#events-table tbody tr").count() == n_events == 2
    assert "worker exited with code 1" in page.inner_text("#events-table")
    assert page.inner_text("#hparams-table").count("\n") >= 3

    page.wait_for_function(f"document.querySelectorAll('#logs .log').length == {n_logs}")
    assert "trial ended" in page.inner_text("#log-status")
    page.fill("#log-search", "validated")
    page.wait_for_function("document.querySelectorAll('#logs .log').length == 1")
    assert f"trial {tid}: validated at" in page.inner_text("#logs")

    # Choosing one metric redraws the chart with that trace only.
    page.select_option("#metric-pick", ["validation/val_loss"])
    page.wait_for_function(
        "document.getElementById('trial-metrics').data.length == 1"
        " && document.getElementById('trial-metrics').data[0].name == 'validation/val_loss'"
    )


def test_logs_of_a_running_trial_are_followed_live(page: Page, seeded_ui: SeededUI) -> None:
    running = seeded_ui.live.trial_ids[8]  # the last trained trial of the live search runs
    page.goto(f"{seeded_ui.url}/ui/trials/{running}")
    assert page.inner_text("#trial-state") == "RUNNING"
    page.wait_for_function(
        "document.querySelector('#log-status').textContent.includes('following')"
    )
    before = page.locator("#logs .log").count()
    with seeded_ui.served.db.session() as session:
        logs_repo.add_logs(
            session,
            running,
            [{"rank": 0, "stream": "stdout", "line": f"live line {i}"} for i in range(3)],
        )
    page.wait_for_function(
        f"document.querySelectorAll('#logs .log').length == {before + 3}", timeout=30_000
    )
    assert page.locator("#logs .log").last.inner_text().endswith("live line 2")


def test_cluster_page_shows_slots_and_queue(page: Page, seeded_ui: SeededUI) -> None:
    live = seeded_ui.live
    running = {t for t in live.trial_ids if t in live.trial_ids[7:9]}
    queued = live.trial_ids[9:]
    page.goto(seeded_ui.url + "/ui/cluster")
    page.wait_for_selector("#pools[data-loaded]")
    busy = page.locator(".slot.busy").all_inner_texts()
    assert len(busy) == 2 and page.locator(".slot.free").count() == 0
    assert {int(text.split("trial ")[1].split()[0]) for text in busy} == running
    queue = page.locator("#queue-table tbody tr").all_inner_texts()
    assert [int(r.split()[1]) for r in queue] == queued
    assert [int(r.split()[0]) for r in queue] == [1, 2, 3]


def test_missing_trial_says_so(page: Page, seeded_ui: SeededUI) -> None:
    response = page.goto(f"{seeded_ui.url}/ui/trials/999999")
    assert response is not None and response.status == 404
    assert "trial 999999 does not exist" in page.inner_text("#error-message")


def test_unreachable_master_shows_a_banner_then_recovers(page: Page, seeded_ui: SeededUI) -> None:
    page.goto(seeded_ui.url + "/ui/cluster")
    page.wait_for_selector("#pools[data-loaded]")
    page.route("**/api/v1/**", lambda route: route.abort())
    page.wait_for_selector("#banner:not([hidden])", timeout=30_000)
    assert "unreachable" in page.inner_text("#banner")
    page.unroute("**/api/v1/**")
    deadline = time.monotonic() + 30
    while page.is_visible("#banner") and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert not page.is_visible("#banner")
