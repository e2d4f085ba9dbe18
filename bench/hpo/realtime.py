"""Real wall-clock search on real digits training, 2 workers: Ray Tune ASHA against ours.

Both train the same MLP (`digits_training`, one thread per worker, the grid `SPACE`, up to 27
epochs, validating every epoch) for the same wall-clock budget on 2 worker processes:

- **Ray Tune**: `tune.Tuner` with `ASHAScheduler(time_attr="epoch", max_t=27, grace_period=1,
  reduction_factor=3)`, random sampling, `max_concurrent_trials=2`, `time_budget_s`.
- **ours**: our `async_halving` searcher (ASHA, promotion, 4 rungs, divisor 3, 2 concurrent
  trials) built by `make_searcher`, driven by a plain 2-process pool, not by `trainyard run`:
  the driver below plays the master's part (Create/ValidateAfter/Close), and a promoted trial
  resumes from its checkpoint (model, optimizer and shuffling state sent back as bytes).

The record per method: trials started, epochs trained, best validation accuracy seen, and the
wall seconds at which it was first seen. Two short runs on shared cores are one sample each,
not a distribution: read them as a sanity check of the simulated results, nothing finer.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.hpo.digits_training import SPACE, DigitsData, load_split, new_state, train_epochs

MAX_EPOCHS = 27
RAY_WARMUP = 150.0  # extra Ray budget for starting its worker processes on loaded cores
_DATA: DigitsData | None = None


def _init_worker() -> None:
    import torch

    global _DATA
    torch.set_num_threads(1)
    _DATA = load_split()


def _ready(_: int) -> None:
    return None


def _segment(job: tuple[int, dict[str, Any], bytes | None, int]) -> tuple[int, list[float], bytes]:
    """Train trial `rid` from its checkpoint to `target` epochs; accuracies of each new epoch."""
    rid, config, checkpoint, target = job
    assert _DATA is not None
    state = new_state(config, seed=rid, checkpoint=checkpoint)
    accuracies: list[float] = []
    if state.epoch < target:
        for result in train_epochs(config, _DATA, state=state):
            accuracies.append(result.val_accuracy)
            if result.epoch >= target:
                break
    return rid, accuracies, state.to_bytes()


def run_ours(seconds: float, seed: int = 0) -> dict[str, Any]:
    """Our ASHA searcher on 2 real worker processes for `seconds` of wall-clock time."""
    from trainyard.searcher import Close, Create, Shutdown, Stop, ValidateAfter, make_searcher

    config = {
        "name": "realtime-digits",
        "entrypoint": "python3 train.py",
        "hyperparameters": {n: {"type": "categorical", "vals": v} for n, v in SPACE.items()},
        "searcher": {
            "name": "async_halving",
            "metric": "accuracy",
            "smaller_is_better": False,
            "max_length": {"epochs": MAX_EPOCHS},
            "num_rungs": 4,
            "divisor": 3,
            "max_trials": 10_000,
            "max_concurrent_trials": 2,
        },
    }
    from trainyard.config import load_experiment_config

    searcher = make_searcher(load_experiment_config(config), seed=seed)
    hparams: dict[int, dict[str, Any]] = {}
    checkpoints: dict[int, bytes | None] = {}
    epochs_done: dict[int, int] = {}
    ready: list[tuple[int, int]] = []
    best, best_at, epochs, done = 0.0, 0.0, 0, False
    with multiprocessing.get_context("spawn").Pool(2, _init_worker) as pool:
        pool.map(_ready, range(2))  # the clock starts once both workers have torch and data
        ops = list(searcher.initial_operations())
        started = time.perf_counter()
        running: dict[int, Any] = {}
        while not done:
            while ops:
                op = ops.pop(0)
                if isinstance(op, Create):
                    hparams[op.request_id], checkpoints[op.request_id] = op.hparams, None
                    epochs_done[op.request_id] = 0
                    ops.extend(searcher.on_trial_created(op.request_id))
                elif isinstance(op, ValidateAfter):
                    ready.append((op.request_id, op.length))
                elif isinstance(op, Close | Stop):
                    ops.extend(searcher.on_trial_closed(op.request_id))
                elif isinstance(op, Shutdown):
                    done = True
            while ready and len(running) < 2:
                rid, target = ready.pop(0)
                job = (rid, hparams[rid], checkpoints[rid], target)
                running[rid] = (target, pool.apply_async(_segment, (job,)))
            if time.perf_counter() - started > seconds or not running:
                break
            finished = [r for r, (_, res) in running.items() if res.ready()]
            if not finished:
                time.sleep(0.02)
                continue
            for rid in finished:
                target, res = running.pop(rid)
                _, accuracies, checkpoints[rid] = res.get()
                epochs += len(accuracies)
                epochs_done[rid] = target
                if accuracies and max(accuracies) > best:
                    best, best_at = max(accuracies), time.perf_counter() - started
                metric = accuracies[-1] if accuracies else 0.0
                ops.extend(searcher.on_validation_completed(rid, metric, target))
        pool.terminate()
    return {
        "method": "ours: ASHA (async_halving, promotion), 2-process pool",
        "seconds": time.perf_counter() - started,
        "trials": len(hparams),
        "epochs": epochs,
        "best_accuracy": best,
        "time_to_best": best_at,
    }


def _ray_trainable(config: dict[str, Any]) -> None:
    import torch
    from ray import tune

    started = time.time()
    torch.set_num_threads(1)
    data = load_split()
    for result in train_epochs(config, data, seed=0):
        tune.report(
            {
                "accuracy": result.val_accuracy,
                "epoch": result.epoch,
                "wall": time.time(),
                "started": started,
            }
        )
        if result.epoch >= MAX_EPOCHS:
            break


def run_ray(seconds: float, seed: int = 0) -> dict[str, Any]:
    """Ray Tune ASHA on 2 CPUs for `seconds` of wall-clock time (tuning time only)."""
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        with tempfile.TemporaryDirectory() as storage:
            tuner = tune.Tuner(
                tune.with_resources(_ray_trainable, {"cpu": 1}),
                param_space={n: tune.choice(v) for n, v in SPACE.items()},
                tune_config=tune.TuneConfig(
                    metric="accuracy",
                    mode="max",
                    num_samples=10_000,
                    max_concurrent_trials=2,
                    time_budget_s=seconds + RAY_WARMUP,
                    scheduler=ASHAScheduler(
                        time_attr="epoch", max_t=MAX_EPOCHS, grace_period=1, reduction_factor=3
                    ),
                    search_alg=tune.search.BasicVariantGenerator(
                        random_state=seed, max_concurrent=2
                    ),
                ),
                run_config=tune.RunConfig(storage_path=storage, verbose=0),
            )
            started = time.time()
            results = tuner.fit()
            # Trials still pending when the budget ran out never reported: leave them out.
            frames: list[Any] = [
                f
                for i in range(len(results))
                if (f := results[i].metrics_dataframe) is not None and "accuracy" in f.columns
            ]
    finally:
        ray.shutdown()
    # The clock starts when the first trial process starts (Ray's worker start-up excluded, as
    # ours excludes its pool's): only what was reported within `seconds` of that counts.
    zero = min(float(f["started"].min()) for f in frames)
    rows = [
        (float(a), float(w) - zero, i)
        for i, f in enumerate(frames)
        for a, w in zip(f["accuracy"], f["wall"], strict=True)
        if float(w) - zero <= seconds
    ]
    best = max(a for a, _, _ in rows)
    return {
        "method": "Ray Tune: ASHAScheduler (stopping), 2 CPUs",
        "seconds": seconds,
        "trials": len({i for _, _, i in rows}),
        "epochs": len(rows),
        "best_accuracy": best,
        "time_to_best": min(w for a, w, _ in rows if a == best),
        "startup_seconds": zero - started,
    }


def run_realtime(out: Path, *, seconds: float) -> None:
    """Run both for `seconds` each and write `out` (JSON); `seconds <= 0` keeps `out` as is."""
    if seconds <= 0:
        return
    runs = [run_ours(seconds)]
    try:
        runs.append(run_ray(seconds))
    except ImportError:
        print("ray[tune] is not installed: the Ray Tune real-time run is left out")
    except ValueError as error:  # no trial reported within the budget
        print(f"the Ray Tune real-time run produced no result ({error}); it is left out")
    description = (
        f"Budget {seconds:.0f} wall seconds each, 2 worker processes, the digits MLP grid, up to "
        f"{MAX_EPOCHS} epochs; each clock starts once its worker processes are up (our pool "
        "after importing torch and loading data; Ray at its first trial's start, which took "
        "the `startup` seconds shown after `tuner.fit()` began). One run each on 2 shared "
        "cores: a sanity check, not a statistic."
    )
    out.write_text(json.dumps({"description": description, "runs": runs}, indent=1))
    for run in runs:
        print(run)


if __name__ == "__main__":
    import sys

    run_realtime(
        Path(__file__).parent / "results" / "realtime.json",
        seconds=float(sys.argv[1]) if len(sys.argv) > 1 else 150.0,
    )
