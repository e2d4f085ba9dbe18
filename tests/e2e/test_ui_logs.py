"""The log viewer (issue 16): the whole log past the old 5,000-line cap, ANSI colours drawn
(never printed as codes), rank and stream filters, search with a match count, download."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page
from ui_support import SeededUI, seed_search

from trainyard.master.db import logs as logs_repo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded_ui(own_ui: SeededUI) -> SeededUI:
    """This module adds searches: a master of its own (see conftest's `own_ui`)."""
    return own_ui


@pytest.fixture(scope="module")
def ui_context(own_context: BrowserContext) -> BrowserContext:
    return own_context


N = 12_000


@pytest.fixture(scope="module")
def long_log(seeded_ui: SeededUI) -> int:
    search = seed_search(seeded_ui.served.db, name="long-log", n_trials=1, with_extras=False)
    tid = search.trial_ids[0]
    lines = [
        {"rank": i % 2, "stream": "stdout", "line": f"step {i}: \x1b[32mok\x1b[0m loss {i}"}
        for i in range(N)
    ]
    lines[7000] = {"rank": 1, "stream": "stderr", "line": "\x1b[1;31mWARNING\x1b[0m slow batch"}
    with seeded_ui.served.db.session() as session:
        logs_repo.add_logs(session, tid, lines, allocation_id=f"alloc-{tid}")
    return tid


def test_the_whole_log_with_colours_filters_search_and_download(
    page: Page, seeded_ui: SeededUI, long_log: int
) -> None:
    page.goto(f"{seeded_ui.url}/ui/trials/{long_log}")
    page.wait_for_function("document.querySelector('#log-status').textContent.includes('ended')")
    assert page.inner_text("#log-status") == f"trial ended: {N:,} lines, the whole log"
    assert page.get_attribute("#logs", "data-lines") == str(N)
    page.evaluate("document.getElementById('logs').scrollTop = 1e9")
    page.wait_for_function(f"document.querySelector('#logs').innerText.includes('step {N - 1}:')")
    assert page.locator("#logs .log").count() < 200  # drawn virtualised, not 12,000 nodes

    first = page.locator("#logs .log").first
    assert "\x1b" not in first.inner_text() and "[32m" not in first.inner_text()
    assert first.locator("span.ansi-32").first.inner_text() == "ok"

    page.select_option("#log-stream", "stderr")
    page.wait_for_function("document.querySelector('#logs').dataset.lines == '1'")
    assert page.locator("#logs span.ansi-31.ansi-1").inner_text() == "WARNING"
    page.select_option("#log-stream", "")
    page.select_option("#log-rank", "1")
    page.wait_for_function(f"document.querySelector('#logs').dataset.lines == '{N // 2 + 1}'")

    page.fill("#log-search", "loss 11")  # 11, 110-119, 1100-1199, 11000-11999 on rank 1
    odd = [i for i in range(N) if i % 2 == 1 and f"loss {i}".startswith("loss 11")]
    page.wait_for_function(f"document.querySelector('#logs').dataset.lines == '{len(odd)}'")
    page.wait_for_function("document.querySelector('#log-status').textContent.includes('ended')")
    assert page.inner_text("#log-status").startswith(f"trial ended: {len(odd):,} matching lines")

    href = page.get_attribute("#log-download", "href")
    assert href is not None and "search=loss+11" in href and "rank=1" in href
    text = page.request.get(seeded_ui.url + href).text()
    assert text.splitlines() == [f"[rank 1] step {i}: \x1b[32mok\x1b[0m loss {i}" for i in odd]
    full = page.request.get(f"{seeded_ui.url}/api/v1/webui/trials/{long_log}/logs.txt").text()
    assert len(full.splitlines()) == N
