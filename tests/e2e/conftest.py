"""Browser fixtures: Debian's Chromium through Playwright, and a master serving a seeded search.

`seeded_ui` (one per session) runs the real app on a free 127.0.0.1 port with a store-backed
runtime stand-in (`ui_support.StoreService`) and two searches written through the store: a
finished adaptive-ASHA search of 27 trials and a live one (2 running, 3 queued). Tests that act
on them leave the live search ACTIVE. `page` is a fresh signed-in tab. Modules that add searches
of their own use `own_ui`/`own_context` (a master per module) in place of the shared ones. The
real-master test (`test_ui_real_master.py`) starts its own master.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from ui_support import CHROMIUM_ARGS, SeededUI, seed_search, serve, signed_in_context

from trainyard.master.settings import load_master_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("TRAINYARD_TEST_CHROMIUM", "/usr/bin/chromium")


def _chromium() -> str:
    if not Path(CHROMIUM).exists() and CHROMIUM == "/usr/bin/chromium" and shutil.which("apt-get"):
        subprocess.run(["bash", str(ROOT / "scripts" / "ensure_chromium.sh")], check=False)
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: run scripts/ensure_chromium.sh")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def _seeded_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededUI]:
    data = tmp_path_factory.mktemp("ui-master")
    settings = load_master_settings(
        None, env={}, data_dir=data, checkpoint_root=data / "ckpt", cpu_slots=2
    )
    with serve(settings) as served:
        done = seed_search(served.db, name="digits-adaptive", n_trials=27, max_length=900)
        live = seed_search(served.db, name="live-search", n_trials=9, running=2, queued=3, seed=1)
        yield SeededUI(served, done, live)


@pytest.fixture(scope="session")
def seeded_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededUI]:
    with _seeded_master(tmp_path_factory) as ui:
        yield ui


@pytest.fixture(scope="session")
def ui_context(browser: Browser, seeded_ui: SeededUI) -> Iterator[BrowserContext]:
    context = signed_in_context(browser, seeded_ui.url, seeded_ui.served.token)
    yield context
    context.close()


@pytest.fixture(scope="module")
def own_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededUI]:
    """A master of the module's own with the same two searches as `seeded_ui`. A module that
    adds experiments, trials or queue entries overrides `seeded_ui` and `ui_context` with this
    and `own_context`, so the shared master's tests never see what it added."""
    with _seeded_master(tmp_path_factory) as ui:
        yield ui


@pytest.fixture(scope="module")
def own_context(browser: Browser, own_ui: SeededUI) -> Iterator[BrowserContext]:
    context = signed_in_context(browser, own_ui.url, own_ui.served.token)
    yield context
    context.close()


@pytest.fixture
def page(ui_context: BrowserContext) -> Iterator[Page]:
    tab = ui_context.new_page()
    yield tab
    tab.close()
