"""Page furniture (issue 16): no request of any page fails (the favicon was a 404 on each),
and the experiments list fits a 1440-pixel-wide window."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, BrowserContext, Response
from ui_more_seeds import seed_live_progress
from ui_support import SeededUI

from trainyard.master.db import Experiment

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded_ui(own_ui: SeededUI) -> SeededUI:
    """This module adds searches: a master of its own (see conftest's `own_ui`)."""
    return own_ui


@pytest.fixture(scope="module")
def ui_context(own_context: BrowserContext) -> BrowserContext:
    return own_context


def test_pages_fit_1440_pixels_and_load_without_a_failed_request(
    browser: Browser, seeded_ui: SeededUI
) -> None:
    search = seed_live_progress(seeded_ui.served.db)  # queued, running, paused and completed
    with seeded_ui.served.db.session() as session:
        exp = session.get(Experiment, search.search.experiment_id)
        assert exp is not None
        exp.name = "resnet50-imagenet-adaptive-asha-lr-and-weight-decay-sweep-on-8-gpus"
        exp.labels = ["vision", "imagenet", "resnet50", "adaptive-asha", "sweep", "team-a"]
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    token = seeded_ui.served.token
    context.add_cookies([{"name": "trainyard_token", "value": token, "url": seeded_ui.url}])
    context.set_default_timeout(60_000)
    page = context.new_page()
    failed: list[str] = []

    def check(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("response", check)
    try:
        page.goto(seeded_ui.url + "/ui/experiments")
        page.wait_for_selector("#experiments-table[data-loaded]")
        page.wait_for_function("document.querySelector('link[rel=icon]') !== null")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1440, f"the experiments list is {width}px wide"
        assert page.request.get(seeded_ui.url + "/favicon.ico").ok
        assert failed == []
    finally:
        context.close()
