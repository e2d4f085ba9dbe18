"""Softmax regression on scikit-learn's bundled digits, written against the Core API only.

No trainer class: the script asks the searcher how far to train, reports metrics, checkpoints
after every validation, and stops cleanly (after a checkpoint) when the platform preempts it.
With several ranks (launched by `python -m trainyard.launch --nproc-per-node 2`) every rank
trains on its slice of each batch and the gradients are averaged with `ctx.distributed`.

Run it locally (no master):  TRAINYARD_CONFIG=examples/core_api_script/const.yaml \
                                 python examples/core_api_script/train.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.datasets import load_digits

import trainyard.core as core
from trainyard.errors import CheckpointError

Arrays = tuple[np.ndarray, np.ndarray]


def load_data(seed: int) -> tuple[Arrays, Arrays]:
    """Digits scaled to [0, 1], shuffled with a fixed seed, split 80/20."""
    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order] / 16.0, y[order]
    cut = int(0.8 * len(x))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def loss_and_grad(
    w: np.ndarray, x: np.ndarray, y: np.ndarray, l2: float
) -> tuple[float, np.ndarray]:
    """Cross-entropy of a linear softmax model (bias as the last row of `w`) and its gradient."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    logits = xb @ w
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    probs /= probs.sum(axis=1, keepdims=True)
    loss = float(-np.log(probs[np.arange(len(y)), y] + 1e-12).mean() + 0.5 * l2 * (w**2).sum())
    probs[np.arange(len(y)), y] -= 1.0
    return loss, xb.T @ probs / len(y) + l2 * w


def evaluate(w: np.ndarray, data: Arrays) -> dict[str, float]:
    x, y = data
    loss, _ = loss_and_grad(w, x, y, 0.0)
    xb = np.hstack([x, np.ones((len(x), 1))])
    return {"val_loss": loss, "val_accuracy": float(((xb @ w).argmax(axis=1) == y).mean())}


def save(ctx: core.Context, w: np.ndarray, steps: int) -> None:
    """Checkpoint weights + step count (chief only; the weights are the same on every rank)."""
    if ctx.distributed.is_chief:
        with ctx.checkpoint.store_path({"steps_completed": steps}) as (path, _uuid):
            np.save(path / "weights.npy", w)
            (path / "state.json").write_text(json.dumps({"steps": steps}))


def restore(ctx: core.Context) -> tuple[np.ndarray | None, int]:
    """Weights and steps from the latest checkpoint; falls back to the last good one."""
    uuid = ctx.info.latest_checkpoint
    if uuid is None:
        return None, 0
    try:
        with ctx.checkpoint.restore_path(uuid) as path:
            return _read(path)
    except CheckpointError as err:
        print(f"latest checkpoint unusable ({err}); looking for an earlier good one")
    good = ctx.checkpoint.latest_good()
    if good is None:
        return None, 0
    with ctx.checkpoint.restore_path(good) as path:
        return _read(path)


def _read(path: Path) -> tuple[np.ndarray, int]:
    return np.load(path / "weights.npy"), int(
        json.loads((path / "state.json").read_text())["steps"]
    )


def train(ctx: core.Context) -> None:
    hp: dict[str, Any] = ctx.info.hparams
    lr, batch_size, l2 = float(hp["learning_rate"]), int(hp["batch_size"]), float(hp["l2"])
    dist = ctx.distributed
    (x_train, y_train), val = load_data(seed=0)
    rng = np.random.default_rng(ctx.info.trial_seed)
    w, steps = restore(ctx)
    if w is None:
        w = rng.normal(0.0, 0.01, size=(x_train.shape[1] + 1, 10))
    w = dist.broadcast(w)
    print(f"rank {dist.rank} of {dist.size}: hparams {hp}, starting at step {steps}", flush=True)

    for op in ctx.searcher.operations():
        while steps < op.length:
            # Same batch indices on every rank (shared seed + step); each rank takes its slice.
            idx = np.random.default_rng([ctx.info.trial_seed, steps]).choice(
                len(x_train), batch_size
            )
            mine = idx[dist.rank :: dist.size]
            loss, grad = loss_and_grad(w, x_train[mine], y_train[mine], l2)
            if dist.size > 1:
                grad = np.mean(dist.allgather(grad), axis=0)
                loss = float(np.mean(dist.allgather(loss)))
            w = w - lr * grad
            steps += 1
            if steps % 25 == 0:
                ctx.train.report_training_metrics(steps, {"loss": loss})
            if ctx.preempt.should_preempt():
                save(ctx, w, steps)
                print(f"preempted at step {steps}; checkpoint saved, exiting")
                return
        metrics = evaluate(w, val)
        ctx.train.report_validation_metrics(steps, metrics)
        save(ctx, w, steps)
        op.report_completed(metrics["val_loss"])


def main() -> None:
    with core.init() as ctx:
        train(ctx)


if __name__ == "__main__":
    main()
