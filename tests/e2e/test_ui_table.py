"""The trials table (issue 16): best and latest searcher metric, filters that say what is wrong
and combine with `and`, the view kept in the URL, the column picker and the CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page
from ui_support import SeededUI, body_rows, chart

from trainyard.master.db import Trial
from trainyard.master.db import metrics as metrics_repo

pytestmark = pytest.mark.e2e


def _total(page: Page, n: int) -> None:
    page.wait_for_function(f"document.querySelector('#trials-table').dataset.total == '{n}'")


def test_best_column_filters_and_url(page: Page, seeded_ui: SeededUI) -> None:
    search = seeded_ui.done
    with seeded_ui.served.db.session(read_only=True) as session:
        trials = session.query(Trial).filter(Trial.experiment_id == search.experiment_id).all()
        by_best = [t.id for t in sorted(trials, key=lambda t: (t.best_validation, t.id))]
        both = sorted(
            t.id for t in trials if t.hparams["optimizer"] == "adam" and t.hparams["layers"] >= 2
        )
    base = f"{seeded_ui.url}/ui/experiments/{search.experiment_id}/trials"
    page.goto(base)
    page.wait_for_selector("#trials-table[data-loaded]")
    labels = page.locator("#trials-table thead th").all_inner_texts()
    assert "val_loss (best)" in labels and "val_loss (latest)" in labels
    assert labels.count("val_loss (latest)") == 1  # no duplicate m.val_loss column

    page.click("#trials-table th[data-col='best_metric']")
    page.wait_for_function(
        f"document.querySelector('#trials-table tbody tr').dataset.id == '{by_best[0]}'"
    )
    assert [int(r) for r in body_rows(page, "trials-table")] == by_best

    page.fill("#f-where", "hp.lr<abc")  # a number is needed: say so, never show all rows
    page.wait_for_function("document.querySelector('#table-error').textContent.includes('abc')")
    assert "needs a number" in page.inner_text("#table-error")

    page.fill("#f-where", "optimizer=adam and hp.layers>=2")  # bare names, both conditions
    _total(page, len(both))
    assert sorted(int(r) for r in body_rows(page, "trials-table")) == both
    assert page.inner_text("#table-error") == ""
    assert "where=optimizer%3Dadam+and+hp.layers%3E%3D2" in page.url
    assert "sort=best_metric" in page.url

    page.reload()  # the view comes back from the URL
    _total(page, len(both))
    assert page.input_value("#f-where") == "optimizer=adam and hp.layers>=2"
    assert [int(r) for r in body_rows(page, "trials-table")] == [t for t in by_best if t in both]


def test_column_picker_and_csv_export(page: Page, seeded_ui: SeededUI) -> None:
    search = seeded_ui.done
    page.goto(f"{seeded_ui.url}/ui/experiments/{search.experiment_id}/trials?where=layers%3D1")
    page.wait_for_selector("#trials-table[data-loaded]")
    page.click("details.picker summary")
    page.uncheck("#column-picker input[data-col='hp.dropout']")
    page.wait_for_function("!document.querySelector(\"#trials-table th[data-col='hp.dropout']\")")
    page.reload()  # the choice is remembered
    page.wait_for_selector("#trials-table[data-loaded]")
    assert page.locator("#trials-table th[data-col='hp.dropout']").count() == 0
    page.click("details.picker summary")
    page.check("#column-picker input[data-col='hp.dropout']")
    page.wait_for_selector("#trials-table th[data-col='hp.dropout']")

    href = page.get_attribute("#export-csv", "href")
    assert href is not None
    response = page.request.get(seeded_ui.url + href)
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    with seeded_ui.served.db.session(read_only=True) as session:
        ones = sorted(
            t.id
            for t in session.query(Trial).filter(Trial.experiment_id == search.experiment_id)
            if t.hparams["layers"] == 1
        )
    assert sorted(int(r["id"]) for r in rows) == ones
    assert {"best_metric", "hp.lr", "m.accuracy"} <= set(rows[0])


def test_compare_any_metric_including_training_curves(page: Page, seeded_ui: SeededUI) -> None:
    picked = seeded_ui.done.trial_ids[:2]
    with seeded_ui.served.db.session(read_only=True) as session:
        n_train = {t: len(metrics_repo.trial_metrics(session, t, "training")) for t in picked}
    page.goto(f"{seeded_ui.url}/ui/compare?trials={','.join(map(str, picked))}")
    assert {t["name"] for t in chart(page, "compare-curves")} == {
        f"trial {t} val_loss" for t in picked
    }
    options = page.locator("#compare-metric option").all_inner_texts()
    assert {"training/loss", "validation/accuracy", "validation/val_loss"} <= set(options)
    page.select_option("#compare-metric", "training/loss")
    page.wait_for_function(
        "document.getElementById('compare-curves').data[0].name.endsWith(' loss')"
    )
    traces = page.evaluate(
        "document.getElementById('compare-curves').data.map(t => [t.name, t.x.length])"
    )
    assert traces == [[f"trial {t} loss", n_train[t]] for t in picked]
