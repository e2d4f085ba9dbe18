"""Signing in, and steering an experiment from its overview (pause, activate, priority, fork)
with confirmation, watching the state change without reloading the page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Dialog, Page
from ui_support import SeededUI

from trainyard.master.db import experiments as experiments_repo
from trainyard.master.states import ExperimentState

pytestmark = pytest.mark.e2e


def test_login_sets_the_cookie_and_returns_to_the_page(
    browser: Browser, seeded_ui: SeededUI
) -> None:
    context = browser.new_context()
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        page.goto(seeded_ui.url + "/ui/cluster")
        assert "/ui/login" in page.url
        page.fill("#token", "not-a-token")
        page.click("button[type=submit]")
        page.wait_for_function("document.querySelector('#login-error').textContent != ''")
        assert "unknown token" in page.inner_text("#login-error")
        page.fill("#token", seeded_ui.served.token)
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: u.endswith("/ui/cluster"))
        page.click("#logout")
        page.wait_for_url(lambda u: "/ui/login" in u)
        page.goto(f"{seeded_ui.url}/ui/login?token={seeded_ui.served.token}&next=/ui/experiments")
        assert page.url.endswith("/ui/experiments")
    finally:
        context.close()


def _accept(dialogs: list[str]) -> Callable[[Dialog], None]:
    def handle(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    return handle


def test_pause_activate_and_priority_with_confirmation(page: Page, seeded_ui: SeededUI) -> None:
    eid = seeded_ui.live.experiment_id
    page.goto(f"{seeded_ui.url}/ui/experiments/{eid}")
    assert page.inner_text("#exp-state") == "ACTIVE"

    page.once("dialog", lambda d: d.dismiss())  # declining changes nothing
    page.click("button[data-action=pause]")
    page.wait_for_timeout(500)
    assert page.inner_text("#exp-state") == "ACTIVE"

    dialogs: list[str] = []
    page.on("dialog", _accept(dialogs))
    page.click("button[data-action=pause]")
    page.wait_for_function("document.querySelector('#exp-state').textContent == 'PAUSED'")
    assert page.is_enabled("button[data-action=activate]")
    page.click("button[data-action=activate]")
    page.wait_for_function("document.querySelector('#exp-state').textContent == 'ACTIVE'")
    assert [m.split("?")[0] for m in dialogs] == [
        "Pause this experiment",
        "Activate this experiment",
    ]

    page.fill("#priority", "60")
    page.click("button[data-action=priority]")
    page.wait_for_function("document.querySelector('#sum-priority').textContent == '60'")
    with seeded_ui.served.db.session(read_only=True) as session:
        row = experiments_repo.get_experiment(session, eid)
        assert (row.state, row.priority) == ("ACTIVE", 60)


def test_state_changed_elsewhere_shows_up_without_reload(page: Page, seeded_ui: SeededUI) -> None:
    eid = seeded_ui.live.experiment_id
    page.goto(f"{seeded_ui.url}/ui/experiments/{eid}")
    page.wait_for_function("document.querySelector('#exp-state').textContent == 'ACTIVE'")
    with seeded_ui.served.db.session() as session:
        experiments_repo.set_experiment_state(session, eid, ExperimentState.PAUSED)
    page.wait_for_function("document.querySelector('#exp-state').textContent == 'PAUSED'")
    with seeded_ui.served.db.session() as session:
        experiments_repo.set_experiment_state(session, eid, ExperimentState.ACTIVE)
    page.wait_for_function("document.querySelector('#exp-state').textContent == 'ACTIVE'")


def test_fork_opens_the_new_experiment(page: Page, seeded_ui: SeededUI) -> None:
    eid = seeded_ui.done.experiment_id
    page.goto(f"{seeded_ui.url}/ui/experiments/{eid}")
    page.on("dialog", lambda d: d.accept())
    page.click("button[data-action=fork]")
    page.wait_for_url(lambda u: u.rstrip("/").split("/")[-1] not in ("", str(eid)))
    child = int(page.url.rstrip("/").split("/")[-1])
    assert f"experiment {eid}" in page.inner_text(".kv")
    with seeded_ui.served.db.session(read_only=True) as session:
        assert experiments_repo.get_experiment(session, child).parent_id == eid
