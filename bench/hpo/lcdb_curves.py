"""LCDB learning curves (Mohr, Viering, Loog, van Rijn 2022) from the `lcdb` package on PyPI.

The `lcdb` source package ships `database-accuracy.csv`: for 196 OpenML datasets and ~20
scikit-learn learners, the validation accuracy and training time at training-set sizes ("anchors")
16, 23, 32, 45, 64, ... (x sqrt 2), for several seeds. We read the file straight from the installed
package (importing `lcdb` itself needs `openml`, which we do not want), average over the seeds,
and cache one small `.npz` per dataset under `~/.cache/trainyard-bench-hpo/`.

As a tuning problem the one hyperparameter is the learner and the length is the number of
training examples, cut at 4096 so the halving rungs (divisor 4) land on anchors 16, 64, 256,
1024, 4096. A learner that failed or timed out at an anchor keeps its last accuracy there (0 if
it never finished); its time is carried forward the same way. LCDB times are for training at one
size from scratch, so the cost of reaching an anchor is the running maximum of those times.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from bench.hpo.problems import Problem, TabularCurves

DATASETS = {6: "letter", 1590: "adult", 554: "mnist_784"}
MAX_ANCHOR = 4096
CACHE = Path.home() / ".cache" / "trainyard-bench-hpo"


def lcdb_csv() -> Path:
    """Where the installed `lcdb` package keeps `database-accuracy.csv` (without importing it)."""
    spec = importlib.util.find_spec("lcdb")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("lcdb is not installed: pip install -r bench/hpo/requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "database-accuracy.csv"


def _extract(openml_id: int) -> Path:
    """Average the CSV's rows for `openml_id` into a cached `.npz`; return its path."""
    import pandas as pd  # type: ignore[import-untyped, import-not-found, unused-ignore]  # no stubs

    out = CACHE / f"lcdb_{openml_id}.npz"
    if out.exists():
        return out
    columns = ["openmlid", "learner", "size_train", "traintime", "score_valid"]
    frames = [
        chunk[chunk["openmlid"].isin(list(DATASETS))]
        for chunk in pd.read_csv(lcdb_csv(), usecols=columns, chunksize=1_000_000)
    ]
    table = pd.concat(frames)
    CACHE.mkdir(parents=True, exist_ok=True)
    for dataset_id, rows in table.groupby("openmlid"):
        mean = rows.groupby(["learner", "size_train"])[["score_valid", "traintime"]].mean()
        learners = sorted(rows["learner"].unique())
        anchors = sorted(a for a in rows["size_train"].unique() if a <= MAX_ANCHOR)
        accuracy = np.zeros((len(learners), len(anchors)))
        seconds = np.zeros((len(learners), len(anchors)))
        for i, learner in enumerate(learners):
            last_acc, last_time = 0.0, 0.0
            for j, anchor in enumerate(anchors):
                key = (learner, anchor)
                if key in mean.index and not np.isnan(mean.loc[key, "score_valid"]):
                    last_acc = float(mean.loc[key, "score_valid"])
                    last_time = max(last_time, float(mean.loc[key, "traintime"]))
                accuracy[i, j], seconds[i, j] = last_acc, last_time
        np.savez_compressed(
            CACHE / f"lcdb_{dataset_id}.npz",
            learners=np.array(learners),
            anchors=np.array(anchors),
            accuracy=accuracy,
            seconds=seconds,
        )
    return out


def lcdb_problem(openml_id: int) -> Problem:
    """The LCDB tuning problem for one of `DATASETS`."""
    with np.load(_extract(openml_id)) as table:
        learners = [str(x) for x in table["learners"]]
        anchors = [int(x) for x in table["anchors"]]
        accuracy, seconds = table["accuracy"], table["seconds"]
    # Every learner reports at least its first anchor's time, so no step is free.
    seconds = np.maximum(seconds, 1e-3)
    curves = TabularCurves(["learner"], [(x,) for x in learners], anchors, accuracy, seconds)
    name = DATASETS[openml_id]
    return curves.problem(
        f"lcdb_{name}",
        f"LCDB: {len(learners)} learners on OpenML {openml_id} ({name}), training-set size"
        f" {anchors[0]}-{MAX_ANCHOR}",
        "examples",
        max_length=MAX_ANCHOR,
        rungs=5,
        divisor=4,
    )
