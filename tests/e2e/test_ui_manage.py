"""Managing experiments and trials from the UI (issue 16): archive, unarchive, delete, edit the
description, fork with an edited config checked by the preview, kill and continue a trial, bulk
actions on the list; each with a confirmation, and the API's refusals shown as they are."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml
from playwright.sync_api import BrowserContext, Dialog, Page
from ui_more_seeds import seed_population
from ui_support import SeededUI, seed_search

from trainyard.master.db import Experiment, Trial
from trainyard.master.states import TrialState

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded_ui(own_ui: SeededUI) -> SeededUI:
    """This module adds searches: a master of its own (see conftest's `own_ui`)."""
    return own_ui


@pytest.fixture(scope="module")
def ui_context(own_context: BrowserContext) -> BrowserContext:
    return own_context


def _accept(seen: list[str]) -> Callable[[Dialog], None]:
    def handle(dialog: Dialog) -> None:
        seen.append(dialog.message)
        dialog.accept()

    return handle


def _small(ui: SeededUI, name: str, **kw: int) -> int:
    return seed_search(ui.served.db, name=name, n_trials=2, with_extras=False, **kw).experiment_id


def test_archive_describe_and_delete_an_experiment(page: Page, seeded_ui: SeededUI) -> None:
    eid = _small(seeded_ui, "to-archive")
    seen: list[str] = []
    page.on("dialog", _accept(seen))
    page.goto(f"{seeded_ui.url}/ui/experiments/{eid}")
    page.wait_for_selector("body[data-polling='0']")
    assert page.is_disabled("button[data-action=unarchive]")
    page.click("button[data-action=archive]")
    page.wait_for_function(
        "document.querySelector('button[data-action=unarchive]').disabled == false"
    )
    assert page.is_disabled("button[data-action=archive]")
    assert seen[-1].startswith("Archive this experiment?")

    page.click("#edit-description")
    page.fill("#description-text", "lr sweep, second try")
    page.click("#description-form button[type=submit]")
    page.wait_for_function(
        "document.querySelector('#sum-description').textContent == 'lr sweep, second try'"
    )
    with seeded_ui.served.db.session(read_only=True) as session:
        row = session.get(Experiment, eid)
        assert row is not None and row.archived and row.description == "lr sweep, second try"

    page.click("button[data-action=delete]")
    page.wait_for_url(lambda u: u.endswith("/ui/experiments"))
    assert "cannot be undone" in seen[-1]
    page.wait_for_selector("#experiments-table[data-loaded]")
    page.wait_for_function(f"!document.querySelector(\"#experiments-table tr[data-id='{eid}']\")")


def test_fork_with_an_edited_config_checked_by_the_preview(page: Page, seeded_ui: SeededUI) -> None:
    eid = _small(seeded_ui, "to-fork")
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{seeded_ui.url}/ui/experiments/{eid}")
    page.click("#fork-edit")
    text = page.input_value("#fork-config")
    page.fill("#fork-config", text.replace("divisor: 3", "divisor: 1"))
    page.click("#fork-preview")
    page.wait_for_function("document.querySelector('#fork-error').textContent.includes('divisor')")
    assert page.is_disabled("#fork-create")  # only previewed text can be forked

    page.fill("#fork-config", text.replace("max_trials: 2", "max_trials: 5"))
    page.click("#fork-preview")
    page.wait_for_selector("#fork-plan:not([hidden])")
    assert "5 trials" in page.inner_text("#fork-plan")
    assert page.inner_text("#fork-error") == ""
    page.click("#fork-create")
    page.wait_for_url(lambda u: not u.rstrip("/").endswith(f"/{eid}"))
    child = int(page.url.rstrip("/").split("/")[-1])
    with seeded_ui.served.db.session(read_only=True) as session:
        row = session.get(Experiment, child)
        assert row is not None and row.parent_id == eid and "max_trials: 5" in row.config_yaml


def test_kill_and_continue_a_trial_with_the_apis_errors_shown(
    page: Page, seeded_ui: SeededUI
) -> None:
    search = seed_search(
        seeded_ui.served.db, name="to-kill", n_trials=3, running=2, with_extras=False
    )
    first, second = search.trial_ids[1], search.trial_ids[2]
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{seeded_ui.url}/ui/trials/{first}")
    page.wait_for_function("document.querySelector('#trial-kill').disabled == false")
    assert page.is_disabled("#trial-continue")
    page.click("#trial-kill")
    page.wait_for_function("document.querySelector('#trial-state').textContent == 'CANCELED'")
    page.wait_for_function("document.querySelector('#trial-continue').disabled == false")
    page.fill("#continue-length", "600")
    page.click("#trial-continue")
    page.wait_for_selector("#trial-action-result a")
    assert page.inner_text("#trial-action-result").startswith("Continued as trial ")

    page.goto(f"{seeded_ui.url}/ui/trials/{second}")
    page.wait_for_function("document.querySelector('#trial-kill').disabled == false")
    with seeded_ui.served.db.session() as session:  # it ends before the click lands
        row = session.get(Trial, second)
        assert row is not None
        row.state = TrialState.COMPLETED.value
    page.click("#trial-kill")
    page.wait_for_function("document.querySelector('#trial-action-error').textContent != ''")
    assert f"trial {second}" in page.inner_text("#trial-action-error")


def test_bulk_archive_lists_each_refusal(page: Page, seeded_ui: SeededUI) -> None:
    done = [_small(seeded_ui, "bulk-a"), _small(seeded_ui, "bulk-b")]
    active = _small(seeded_ui, "bulk-live", running=1)
    seen: list[str] = []
    page.on("dialog", _accept(seen))
    page.goto(f"{seeded_ui.url}/ui/experiments")
    page.wait_for_selector("#experiments-table[data-loaded]")
    for eid in [*done, active]:
        page.check(f"input[data-exp='{eid}']")
    page.click("button[data-bulk=archive]")
    page.wait_for_selector("#bulk-error li")
    assert seen[-1] == f"Archive 3 experiments: {done[0]}, {done[1]}, {active}?"
    (error,) = page.locator("#bulk-error li").all_inner_texts()
    assert error.startswith(f"experiment {active}: cannot archive experiment {active}: it is")
    with seeded_ui.served.db.session(read_only=True) as session:
        archived = {e: session.get(Experiment, e).archived for e in [*done, active]}  # type: ignore[union-attr]
    assert archived == {done[0]: True, done[1]: True, active: False}


def test_fork_with_the_brushed_sub_space(page: Page, seeded_ui: SeededUI) -> None:
    eid = seeded_ui.done.experiment_id
    page.goto(f"{seeded_ui.url}/ui/experiments/{eid}/hpo")
    page.locator("#parcoords").scroll_into_view_if_needed()
    page.wait_for_selector("#parcoords[data-drawn]")
    box = page.locator("#parcoords .axis-brush rect.background").first.bounding_box()  # dropout
    assert box is not None
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.7, steps=8)
    page.mouse.up()
    page.click("#subspace-fork")
    page.wait_for_selector("#fork-card:not([hidden])")
    config = yaml.safe_load(page.input_value("#fork-config"))
    dropout = config["hyperparameters"]["dropout"]
    assert 0.0 < dropout["minval"] < dropout["maxval"] < 0.5  # narrowed to the brush
    page.click("#fork-preview")
    page.wait_for_function("document.querySelector('#fork-create').disabled == false")

    url = f"{seeded_ui.url}/api/v1/webui/experiments/{eid}/subspace"
    ranges = {"lr": [1e-3, 1e-2], "optimizer": ["adam"], "layers": [1.5, 3.2]}
    origin = {"Origin": seeded_ui.url}  # as the page's own fetch sends it (a same-site POST)
    answer = page.request.post(url, data={"ranges": ranges}, headers=origin)
    narrowed = yaml.safe_load(answer.json()["config"])
    hp = narrowed["hyperparameters"]
    assert (hp["lr"]["minval"], hp["lr"]["maxval"]) == (-3, -2)  # log: exponents
    assert hp["optimizer"]["vals"] == ["adam"]
    assert (hp["layers"]["minval"], hp["layers"]["maxval"]) == (2, 3)
    bad = page.request.post(url, data={"ranges": {"nope": [0, 1]}}, headers=origin)
    assert bad.status == 400 and "'nope' is not a searched hyperparameter" in bad.json()["detail"]


def test_a_population_search_shows_its_family_tree(page: Page, seeded_ui: SeededUI) -> None:
    eid, parents = seed_population(seeded_ui.served.db)
    page.goto(f"{seeded_ui.url}/ui/experiments/{eid}")
    page.wait_for_selector("#lineage-card:not([hidden])")
    for child, parent in parents.items():
        node = page.locator(f"#lineage li[data-trial='{parent}'] > ul > li[data-trial='{child}']")
        text = node.inner_text()
        assert f"from checkpoint ckpt-{parent}" in text and "lr " in text and "→" in text
    page.goto(f"{seeded_ui.url}/ui/experiments/{seeded_ui.done.experiment_id}")
    page.wait_for_selector("body[data-polling='0']")
    assert page.is_hidden("#lineage-card")  # no trial has a parent: no tree


def test_continue_the_selected_top_trials(page: Page, seeded_ui: SeededUI) -> None:
    search = seed_search(
        seeded_ui.served.db, name="to-continue", n_trials=3, running=1, with_extras=False
    )
    done, running = search.trial_ids[:2], search.trial_ids[2]
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{seeded_ui.url}/ui/experiments/{search.experiment_id}/trials?sort=best_metric")
    page.wait_for_selector("#trials-table[data-loaded]")
    for tid in [*done, running]:
        page.check(f"input[data-trial='{tid}']")
    page.click("#continue-selected")
    page.wait_for_selector("#continue-error li")
    assert page.locator("#continue-result a").count() == 2
    (error,) = page.locator("#continue-error li").all_inner_texts()
    assert error.startswith(f"trial {running}: cannot continue trial {running}")
