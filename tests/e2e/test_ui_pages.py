"""Experiments list, overview, trials table and HPO charts, in a real Chromium, against a
seeded adaptive-ASHA search; expected rows and points come from the store, not from the UI."""

from __future__ import annotations

import pytest
from chart_data import curves_by_trial
from playwright.sync_api import Page
from ui_support import SeededUI, body_rows, chart

from trainyard.master.db import Metric, Trial
from trainyard.master.db import metrics as metrics_repo

pytestmark = pytest.mark.e2e


def test_experiments_list_shows_filters_and_searches(page: Page, seeded_ui: SeededUI) -> None:
    page.goto(seeded_ui.url + "/ui/experiments")
    page.wait_for_selector("#experiments-table[data-loaded]")
    done, live = str(seeded_ui.done.experiment_id), str(seeded_ui.live.experiment_id)
    assert body_rows(page, "experiments-table")[-2:] == [
        live,
        done,
    ]  # newest first (a fork may lead)
    row = page.locator(f"#experiments-table tr[data-id='{done}']").inner_text()
    assert "COMPLETED" in row and "adaptive_asha" in row and "27 completed" in row

    page.fill("#f-name", "live")
    page.wait_for_function("document.querySelectorAll('#experiments-table tbody tr').length == 1")
    assert body_rows(page, "experiments-table") == [live]

    page.fill("#f-name", "")
    page.select_option("#f-state", "COMPLETED")
    page.wait_for_function(
        f"[...document.querySelectorAll('#experiments-table tbody tr')].map(r => r.dataset.id)"
        f".join() == '{done}'"
    )
    page.check("#f-archived")
    page.wait_for_selector("#experiments-nomatch:not([hidden])")
    assert page.is_hidden("#experiments-empty")  # "no experiments yet" would mislead


def test_overview_shows_rungs_best_trial_curves_and_config(page: Page, seeded_ui: SeededUI) -> None:
    search = seeded_ui.done
    with seeded_ui.served.db.session(read_only=True) as session:
        trials = session.query(Trial).filter(Trial.experiment_id == search.experiment_id).all()
        best = min(trials, key=lambda t: t.best_validation or 1e9)
        n_train = len(metrics_repo.trial_metrics(session, best.id, "training"))
        n_val = len(metrics_repo.trial_metrics(session, best.id, "validation"))
    page.goto(f"{seeded_ui.url}/ui/experiments/{search.experiment_id}")
    assert page.inner_text("#exp-state") == "COMPLETED"
    page.wait_for_selector("#rungs-table tbody tr")
    rungs = page.locator("#rungs-table tbody tr").all_inner_texts()
    reached = [sum(1 for t in search.lengths.values() if t >= r) for r in search.rungs]
    assert [r.split()[:2] for r in rungs] == [
        [str(r), str(n)] for r, n in zip(search.rungs, reached, strict=True)
    ]
    assert page.inner_text("#sum-best-trial") == f"trial {best.id}"

    traces = {t["name"]: t for t in chart(page, "best-curves")}
    assert set(traces) == {"training loss", "validation val_loss", "validation accuracy"}
    assert len(traces["training loss"]["x"]) == n_train
    assert len(traces["validation val_loss"]["x"]) == n_val
    assert "adaptive_asha" in page.inner_text("#config-yaml")
    # Ended experiments offer no pause or kill.
    assert page.is_disabled("button[data-action=pause]")
    assert page.is_disabled("button[data-action=kill]")


def test_trials_table_sorts_filters_and_compares(page: Page, seeded_ui: SeededUI) -> None:
    search = seeded_ui.done
    with seeded_ui.served.db.session(read_only=True) as session:
        trials = session.query(Trial).filter(Trial.experiment_id == search.experiment_id).all()
        by_metric = sorted(trials, key=lambda t: t.latest_validation or 1e9)
        adam = sorted(t.id for t in trials if t.hparams["optimizer"] == "adam")
    page.goto(f"{seeded_ui.url}/ui/experiments/{search.experiment_id}/trials")
    page.wait_for_selector("#trials-table[data-loaded]")
    assert body_rows(page, "trials-table") == [
        str(t.id) for t in sorted(trials, key=lambda t: t.id)
    ]
    headers = page.locator("#trials-table thead th").evaluate_all(
        "hs => hs.map(h => h.dataset.col)"
    )
    for column in ("hp.lr", "hp.dropout", "hp.optimizer", "hp.layers", "best_metric", "m.accuracy"):
        assert column in headers

    page.click("#trials-table th[data-col='searcher_metric']")
    page.wait_for_function(
        f"document.querySelector('#trials-table tbody tr').dataset.id == '{by_metric[0].id}'"
    )
    assert body_rows(page, "trials-table") == [str(t.id) for t in by_metric]

    page.fill("#f-where", "hp.optimizer=adam")
    page.wait_for_function(
        f"document.querySelector('#trials-table').dataset.total == '{len(adam)}'"
    )
    assert sorted(int(r) for r in body_rows(page, "trials-table")) == adam

    page.fill("#f-where", "hp.nope<1")
    page.wait_for_function("document.querySelector('#table-error').textContent.includes('nope')")

    page.fill("#f-where", "")
    page.wait_for_function(
        f"document.querySelector('#trials-table').dataset.total == '{len(trials)}'"
    )
    picked = [str(t.id) for t in by_metric[:2]]
    for tid in picked:
        page.check(f"input[data-trial='{tid}']")
    page.click("#compare-selected")
    page.wait_for_url(lambda u: "/ui/compare?trials=" in u)
    curves = chart(page, "compare-curves")
    assert sorted(t["name"] for t in curves) == sorted(f"trial {t} val_loss" for t in picked)
    columns = page.locator("#compare-table thead th").all_inner_texts()[1:]
    assert [c.split("\n")[0] for c in columns] == [f"trial {t}" for t in picked]
    assert page.locator("#compare-table tr.differs[data-key='lr']").count() == 1


def test_hpo_charts_have_a_trace_or_point_per_trial(page: Page, seeded_ui: SeededUI) -> None:
    search = seeded_ui.done
    with seeded_ui.served.db.session(read_only=True) as session:
        val_points = {
            tid: session.query(Metric)
            .filter(Metric.trial_id == tid, Metric.group == "validation")
            .count()
            for tid in search.trial_ids
        }
    page.goto(f"{seeded_ui.url}/ui/experiments/{search.experiment_id}/hpo")
    traces = chart(page, "learning-curves")
    # A few scattergl traces, one per rung reached, whatever the number of trials.
    assert [t["type"] for t in traces] == ["scattergl"] * len(search.rungs)
    assert [t["name"] for t in traces] == [f"reached {r:,}" for r in search.rungs]
    curves = curves_by_trial(traces)
    assert page.get_attribute("#learning-curves", "data-trials") == str(len(search.trial_ids))
    assert {tid: len(points) for tid, (_, points) in curves.items()} == val_points
    for tid, (name, points) in curves.items():
        assert name == f"reached {search.lengths[tid]:,}"
        assert [x for x, _ in points] == sorted(x for x, _ in points)
        assert max(x for x, _ in points) == search.lengths[tid]
    # The ASHA story: many curves end at the first rung, few reach the last.
    ends = [max(x for x, _ in points) for _, points in curves.values()]
    assert ends.count(search.rungs[0]) > ends.count(search.rungs[-1]) > 0

    importance = chart(page, "importance")
    assert len(importance) == 1
    assert sorted(importance[0]["y"]) == ["dropout", "layers", "lr", "optimizer"]
    assert sum(importance[0]["x"]) == pytest.approx(1.0)
    assert importance[0]["y"][-1] == "lr"  # the seeded loss depends most on lr

    (parcoords,) = chart(page, "parcoords")
    assert [d["label"] for d in parcoords["dimensions"]] == [
        "dropout",
        "layers",
        "lr (log)",
        "optimizer",
        "val_loss",
    ]
    assert all(len(d["values"]) == len(search.trial_ids) for d in parcoords["dimensions"])

    for i in range(4):
        (scatter,) = chart(page, f"scatter-{i}")
        assert len(scatter["y"]) == len(search.trial_ids)
    (heat,) = chart(page, "heatmap")
    assert heat["type"] == "heatmap"
    counted = sum(1 for row in heat["z"] for v in row if v is not None)
    assert 0 < counted <= len(heat["x"]) * len(heat["y"])
