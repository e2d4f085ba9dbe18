"""The web UI's misleading faults (issue 16), each checked in a real Chromium: ERRORED known
everywhere, scatter colours that show the best trials, progress within a searcher step, and
charts that keep the reader's zoom across live updates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Page
from ui_more_seeds import LiveProgress, seed_errored, seed_live_progress, seed_one_hparam
from ui_support import SeededSearch, SeededUI, chart

from trainyard.master.db import Metric, Trial

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded_ui(own_ui: SeededUI) -> SeededUI:
    """This module adds searches: a master of its own (see conftest's `own_ui`)."""
    return own_ui


@pytest.fixture(scope="module")
def ui_context(own_context: BrowserContext) -> BrowserContext:
    return own_context


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


def test_scatters_show_a_colour_bar_and_draw_the_best_trials_on_top(
    page: Page, seeds: Seeds
) -> None:
    search = seeds.ui.done
    page.goto(f"{seeds.ui.url}/ui/experiments/{search.experiment_id}/hpo")
    (scatter,) = chart(page, "scatter-0")
    marker = scatter["marker"]
    assert marker["showscale"] is True and marker["colorbar"]["title"]["text"]
    # Plotly's "Blues" ends at rgb(220,220,220): the longest-trained trials vanished on white.
    assert marker["colorscale"] == "Viridis" and marker["reversescale"] is True
    ys = scatter["y"]
    assert ys == sorted(ys, reverse=True)  # smaller is better: the best is drawn last (on top)


def test_progress_moves_within_a_searcher_step(page: Page, seeds: Seeds) -> None:
    live = seeds.live
    eid = live.search.experiment_id
    page.goto(f"{seeds.ui.url}/ui/experiments/{eid}/trials")
    row = f"#trials-table tr[data-id='{live.running}']"
    page.wait_for_function(
        f"document.querySelector(\"{row}\")?.innerText.includes('{live.running_steps} / 300')"
    )
    paused = page.locator(f"#trials-table tr[data-id='{live.paused}']").inner_text()
    assert "140 / 300" in paused and "activate the experiment" in paused
    parked = page.locator(f"#trials-table tr[data-id='{live.parked}']").inner_text()
    assert "parked at rung 2 (300 batches)" in parked
    queued = page.locator(f"#trials-table tr[data-id='{live.queued}']").inner_text()
    assert "waiting for a slot: position" in queued
    page.wait_for_function("parseFloat(document.querySelector('#exp-progress').style.width) > 0")

    api = page.request.get(f"{seeds.ui.url}/api/v1/trials/{live.paused}").json()
    assert (api["batches_trained"], api["trained_length"]) == (140, 0)  # the REST API too
    page.goto(f"{seeds.ui.url}/ui/trials/{live.paused}")
    page.wait_for_selector("#trial-trained")
    assert page.inner_text("#trial-trained") == "140 / 300 batches"
    page.goto(f"{seeds.ui.url}/ui/experiments/{eid}")
    page.wait_for_function("document.querySelector('#sum-progress').textContent != '0.0%'")


def _drag_zoom(page: Page, chart_id: str) -> list[float]:
    """Zoom `#chart_id` with the mouse over the middle of its x range; the new x range."""
    box = page.locator(f"#{chart_id} .nsewdrag").first.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=5)
    page.mouse.move(box["x"] + box["width"] * 0.6, y, steps=5)
    page.mouse.up()
    page.wait_for_function(
        f"document.getElementById('{chart_id}').layout.xaxis.autorange === false"
    )
    zoomed: list[float] = page.evaluate(f"document.getElementById('{chart_id}').layout.xaxis.range")
    return zoomed


def _after_redraws(page: Page, chart_id: str, n: int) -> None:
    drawn = int(page.get_attribute(f"#{chart_id}", "data-drawn") or 0)
    page.wait_for_function(
        f"Number(document.getElementById('{chart_id}').dataset.drawn) >= {drawn + n}"
    )


@pytest.mark.parametrize("tab, chart_id", [("", "best-curves"), ("/hpo", "learning-curves")])
def test_live_updates_keep_the_readers_zoom(
    page: Page, seeds: Seeds, tab: str, chart_id: str
) -> None:
    eid = seeds.ui.live.experiment_id  # ACTIVE: its pages poll and redraw
    page.goto(f"{seeds.ui.url}/ui/experiments/{eid}{tab}")
    chart(page, chart_id)
    zoomed = _drag_zoom(page, chart_id)
    _after_redraws(page, chart_id, 2)
    assert page.evaluate(f"document.getElementById('{chart_id}').layout.xaxis.range") == zoomed


def test_live_updates_keep_the_readers_parcoords_brush(page: Page, seeds: Seeds) -> None:
    eid = seeds.ui.live.experiment_id
    page.goto(f"{seeds.ui.url}/ui/experiments/{eid}/hpo")
    chart(page, "parcoords")
    box = page.locator("#parcoords .axis-brush rect.background").first.bounding_box()
    assert box is not None
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()
    brush = "document.getElementById('parcoords').data[0].dimensions[0].constraintrange"
    page.wait_for_function(f"{brush} !== undefined")
    brushed = page.evaluate(brush)
    _after_redraws(page, "parcoords", 1)
    assert page.evaluate(brush) == brushed


def test_an_errored_experiment_says_why_and_lists_each_failure_once(
    page: Page, seeds: Seeds
) -> None:
    page.goto(f"{seeds.ui.url}/ui/experiments/{seeds.errored.experiment_id}")
    page.wait_for_selector("#failures:not([hidden])")
    items = page.locator("#failures-list > li")
    assert items.evaluate_all("li => li.map(l => Number(l.dataset.trial))") == seeds.failed
    for text in items.all_inner_texts():
        assert "failed 2 times: RuntimeError: CUDA out of memory" in text

    page.goto(f"{seeds.ui.url}/ui/trials/{seeds.failed[0]}")
    page.wait_for_selector("#trial-error")
    assert page.inner_text("#trial-error").startswith("RuntimeError: CUDA out of memory")
    page.wait_for_selector("#events-table tbody tr")
    rows = page.locator("#events-table tbody tr").all_inner_texts()
    assert len(rows) == 2  # two failed runs, not an exit and a restart each
    assert all("failure" in r and "exited with code 1" in r for r in rows)


def test_heat_map_labels_are_short_and_one_hparam_draws_no_diagonal(
    page: Page, seeds: Seeds
) -> None:
    page.goto(f"{seeds.ui.url}/ui/experiments/{seeds.ui.done.experiment_id}/hpo")
    page.select_option("#heat-x", "dropout")
    page.select_option("#heat-y", "layers")
    page.wait_for_function(
        "document.getElementById('heatmap').data?.[0]?.x?.length"
        " && document.getElementById('heatmap').layout.xaxis.title.text == 'dropout'"
    )
    heat = page.evaluate(
        "(() => { const d = document.getElementById('heatmap'); return "
        "{x: d.data[0].x, y: d.data[0].y, auto: d.layout.yaxis.automargin}; })()"
    )
    assert all(len(label) <= 6 for label in heat["x"] + heat["y"]), heat  # not 0.4388784397520523
    assert heat["auto"] is True  # labels get the room they need, never clipped
    page.check("#heat-contour")
    page.wait_for_function("document.getElementById('heatmap').data[0].type == 'contour'")

    eid = seed_one_hparam(seeds.ui.served.db)
    page.goto(f"{seeds.ui.url}/ui/experiments/{eid}/hpo")
    page.wait_for_selector("#heatmap-hint")
    assert page.inner_text("#heatmap-hint") == "Needs two hyperparameters that vary."
    assert page.evaluate("document.getElementById('heatmap').data") is None


def test_metric_families_get_their_own_axis_with_log_and_smoothing(
    page: Page, seeds: Seeds
) -> None:
    tid = seeds.ui.done.trial_ids[0]
    page.goto(f"{seeds.ui.url}/ui/trials/{tid}")
    traces = {t["name"]: t for t in chart(page, "trial-metrics")}
    # loss and val_loss share an axis; accuracy (0..1) has its own, not squashed by loss.
    assert traces["training/loss"].get("yaxis") == traces["validation/val_loss"].get("yaxis")
    assert traces["validation/accuracy"].get("yaxis") != traces["validation/val_loss"].get("yaxis")
    raw = traces["training/loss"]["y"]

    page.check("#metrics-log")
    page.wait_for_function(
        "document.getElementById('trial-metrics').layout.yaxis.type == 'log'"
        " && document.getElementById('trial-metrics').layout.yaxis2.type == 'log'"
    )
    page.fill("#metrics-smooth", "0.9")
    page.dispatch_event("#metrics-smooth", "input")
    page.wait_for_function(
        "document.getElementById('trial-metrics').data.find(t => t.name == 'training/loss')"
        f".y[5] != {raw[5]}"
    )
    smoothed = page.evaluate(
        "document.getElementById('trial-metrics').data.find(t => t.name == 'training/loss').y"
    )
    expected, last = [], raw[0]
    for y in raw:  # an exponential moving average, as TensorBoard smooths
        last = 0.9 * last + 0.1 * y
        expected.append(last)
    assert smoothed == pytest.approx(expected)


def test_rungs_show_plan_promotions_cutoff_and_eta(page: Page, seeds: Seeds) -> None:
    search = seeds.ui.done
    first = search.rungs[0]
    with seeds.ui.served.db.session(read_only=True) as session:
        at_first = {
            m.trial_id: m.searcher_metric
            for m in session.query(Metric).filter(
                Metric.experiment_id == search.experiment_id,
                Metric.group == "validation",
                Metric.steps == first,
            )
        }
    promoted = [t for t, n in search.lengths.items() if n > first]
    stopped = [t for t, n in search.lengths.items() if n == first]
    page.goto(f"{seeds.ui.url}/ui/experiments/{search.experiment_id}")
    row = page.locator(f"#rungs-table tr[data-length='{first}'] td")
    row.first.wait_for()
    cells = row.all_inner_texts()
    assert cells[3:5] == [str(len(promoted)), str(len(stopped))]
    cutoff = max(at_first[t] for t in promoted)  # smaller is better: the worst promoted
    assert float(cells[5]) == pytest.approx(cutoff, rel=1e-3)
    assert float(cells[6]) == pytest.approx(min(at_first[t] for t in stopped), rel=1e-3)
    page.wait_for_function("document.querySelector('#plan-eta').textContent.startsWith('Plan: ')")

    page.goto(f"{seeds.ui.url}/ui/experiments/{seeds.ui.live.experiment_id}")
    page.wait_for_function("document.querySelector('#plan-eta').textContent.includes('ETA')")


def test_history_top_n_and_a_click_opens_the_trial(page: Page, seeds: Seeds) -> None:
    search = seeds.ui.done
    page.goto(f"{seeds.ui.url}/ui/experiments/{search.experiment_id}/hpo")
    points, best = chart(page, "history")
    assert len(points["y"]) == len(search.trial_ids)
    assert best["y"] == [min(points["y"][: i + 1]) for i in range(len(points["y"]))]
    (edf,) = chart(page, "edf")
    assert edf["x"] == sorted(points["y"]) and edf["y"][-1] == 1.0
    timeline = chart(page, "timeline")
    runs = [tid for t in timeline for tid in t["customdata"][::3]]
    assert sorted(runs) == sorted(search.trial_ids)  # one run line per trial

    page.fill("#top-n", "5")
    page.locator("#scatters").scroll_into_view_if_needed()
    page.wait_for_function("document.getElementById('scatter-0')?.data?.[0]?.y?.length == 5")
    (scatter,) = chart(page, "scatter-0")
    assert sorted(scatter["y"]) == sorted(points["y"])[:5]  # the best five

    dot = page.locator("#scatter-0 .point").last.bounding_box()  # drawn last: the best
    assert dot is not None
    page.mouse.click(dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2)
    page.wait_for_url(lambda u: f"/ui/trials/{scatter['customdata'][-1]}" in u)


def test_brushing_parallel_coordinates_dims_the_other_trials_in_the_scatters(
    page: Page, seeds: Seeds
) -> None:
    search = seeds.ui.done
    page.goto(f"{seeds.ui.url}/ui/experiments/{search.experiment_id}/hpo")
    chart(page, "parcoords")
    box = page.locator("#parcoords .axis-brush rect.background").first.bounding_box()  # dropout
    assert box is not None
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(x, box["y"] + box["height"] * 0.6, steps=8)
    page.mouse.up()
    lo, hi = page.evaluate(
        "document.getElementById('parcoords').data[0].dimensions[0].constraintrange"
    )
    with seeds.ui.served.db.session(read_only=True) as session:
        rows = session.query(Trial).filter(Trial.experiment_id == search.experiment_id)
        inside = {t.id for t in rows if lo <= t.hparams["dropout"] <= hi}
    page.locator("#scatters").scroll_into_view_if_needed()
    page.wait_for_function(
        "Array.isArray(document.getElementById('scatter-0')?.data?.[0]?.marker?.opacity)"
    )
    (scatter,) = chart(page, "scatter-0")
    pairs = zip(scatter["customdata"], scatter["marker"]["opacity"], strict=True)
    lit = {tid for tid, o in pairs if o == 1}
    assert lit == inside and 0 < len(inside) < len(search.trial_ids)
