"""The web UI's misleading faults (issue 16), each checked in a real Chromium: ERRORED known
everywhere, scatter colours that show the best trials, progress within a searcher step, and
charts that keep the reader's zoom across live updates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page
from ui_more_seeds import LiveProgress, seed_errored, seed_live_progress
from ui_support import SeededSearch, SeededUI, chart

pytestmark = pytest.mark.e2e


@dataclass
class Seeds:
    ui: SeededUI
    errored: SeededSearch
    failed: list[int]
    live: LiveProgress


@pytest.fixture(scope="module")
def seeds(seeded_ui: SeededUI) -> Iterator[Seeds]:
    errored, failed = seed_errored(seeded_ui.served.db)
    yield Seeds(seeded_ui, errored, failed, seed_live_progress(seeded_ui.served.db))


def test_errored_experiments_are_found_coloured_and_final(page: Page, seeds: Seeds) -> None:
    eid = str(seeds.errored.experiment_id)
    page.goto(seeds.ui.url + "/ui/experiments")
    page.wait_for_selector("#experiments-table[data-loaded]")
    page.select_option("#f-state", label="errored")
    page.wait_for_function(
        "[...document.querySelectorAll('#experiments-table tbody tr')].map(r => r.dataset.id)"
        f".join() == '{eid}'"
    )
    badge = page.locator(f"#experiments-table tr[data-id='{eid}'] .state")
    grey = "rgb(238, 240, 243)"
    assert badge.inner_text() == "ERRORED"
    assert badge.evaluate("b => getComputedStyle(b).backgroundColor") != grey

    page.goto(f"{seeds.ui.url}/ui/experiments/{eid}")
    page.wait_for_selector("body[data-polling='0']")  # an ended experiment stops polling
    for action in ("pause", "activate", "cancel", "kill"):
        assert page.is_disabled(f"button[data-action={action}]"), action
    page.goto(f"{seeds.ui.url}/ui/experiments/{eid}/trials")
    page.select_option("#f-state", label="errored")
    page.wait_for_function("document.querySelector('#trials-table').dataset.total == '2'")
    page.goto(f"{seeds.ui.url}/ui/trials/{seeds.failed[0]}")
    page.wait_for_selector("body[data-polling='0']")
