"""Trainer overhead: the same model, data and seed trained by a hand-written PyTorch loop and by
`PyTorchTrial` + `Trainer`, in 1 process and in 2-process DDP (gloo), reporting every 100 batches.

    .venv/bin/python bench/trainer_overhead.py [--steps 600] [--repeats 5] [--skip-ddp]
                                               [--skip-single]

The model is `examples/digits_cnn` (dropout 0, Adam, global batch 32 per process group). Each run
times the training steps between batch `--warmup` and the last batch from inside `train_batch`, so
process start, data loading, the final validation and checkpoint are not counted; runs of the two
loops alternate and the median per-step time of each is reported with the ratio, both in wall
time and in CPU time of the (rank-0) process — CPU time is the steadier figure on a machine that
other work shares.
Not a test: figures depend on the machine (see bench/README.md for measured values).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "digits_cnn"))

from model_def import DigitsTrial  # noqa: E402

from trainyard.pytorch import PyTorchTrialContext, Trainer  # noqa: E402
from trainyard.pytorch.local import free_port, rank_env  # noqa: E402

HPARAMS = {"global_batch_size": 32, "lr": 0.003, "n_filters1": 16, "n_filters2": 32, "dropout": 0.0}
REPORTING_PERIOD = 100
SEED = 1234


class TimedDigitsTrial(DigitsTrial):
    """DigitsTrial that stamps the clock at batch `warmup` and at the last batch."""

    warmup = 50
    last = 0
    stamps: dict[int, tuple[float, float]] = {}  # noqa: RUF012  # one trial per process

    def train_batch(
        self, batch: Any, model: torch.nn.Module, epoch_idx: int, batch_idx: int
    ) -> dict[str, Any]:
        if batch_idx in (self.warmup, self.last):
            self.stamps[batch_idx] = clocks()
        return super().train_batch(batch, model, epoch_idx, batch_idx)


Clocks = tuple[float, float]


def clocks() -> Clocks:
    """(wall, CPU) seconds now."""
    return time.perf_counter(), time.process_time()


def per_step(start: Clocks, end: Clocks, steps: int) -> Clocks:
    return (end[0] - start[0]) / steps, (end[1] - start[1]) / steps


def hand_loop(steps: int, warmup: int) -> Clocks:
    """The loop a user would write: DDP, DistributedSampler, Adam, loss logged every 100."""
    rank, size = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    torch.manual_seed(SEED)
    context = PyTorchTrialContext.build(
        HPARAMS, rank=rank, size=size, local_rank=rank, device=torch.device("cpu"), trial_seed=SEED
    )
    trial = DigitsTrial(context)
    model = trial.build_model()
    if size > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = trial.build_optimizer(model)
    data = trial.build_training_data()
    sampler: torch.utils.data.DistributedSampler[Any] = torch.utils.data.DistributedSampler(
        data, size, rank, seed=SEED, drop_last=True
    )
    loader = torch.utils.data.DataLoader(
        data, batch_size=context.per_slot_batch_size, sampler=sampler, drop_last=True
    )
    model.train()
    step, epoch, reported = 0, 0, []
    loss_sum, acc_sum = torch.zeros(()), torch.zeros(())
    start = clocks()
    while step < steps:
        sampler.set_epoch(epoch)
        for x, y in loader:
            if step == warmup:
                start = clocks()
            if step == steps - 1:
                return per_step(start, clocks(), steps - 1 - warmup)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            accuracy = (logits.argmax(1) == y).float().mean()  # what DigitsTrial reports too
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it untyped
            optimizer.step()
            loss_sum, acc_sum = loss_sum + loss.detach(), acc_sum + accuracy
            step += 1
            if step % REPORTING_PERIOD == 0:
                sums = torch.stack([loss_sum, acc_sum])
                if size > 1:
                    dist.all_reduce(sums)
                reported.append((step, (sums / REPORTING_PERIOD / size).tolist()))
                loss_sum, acc_sum = torch.zeros(()), torch.zeros(())
        epoch += 1
    raise AssertionError("unreachable")


def trainer_loop(steps: int, warmup: int) -> Clocks:
    """The same training through `trainyard.core.init()` local mode and the Trainer."""
    import trainyard.core as core

    TimedDigitsTrial.warmup, TimedDigitsTrial.last = warmup, steps - 1
    config = {
        "name": "bench-trainer-overhead",
        "entrypoint": "model_def:DigitsTrial",
        "hyperparameters": HPARAMS,
        "reproducibility": {"experiment_seed": SEED},
        "searcher": {
            "name": "single",
            "metric": "validation_loss",
            "max_length": {"batches": steps},
        },
    }
    on = dist.is_initialized()
    distributed = core.DistributedContext.from_torch_distributed() if on else None
    with (
        tempfile.TemporaryDirectory() as run_dir,
        core.init(distributed=distributed, config=config, run_dir=run_dir) as ctx,
    ):
        Trainer(TimedDigitsTrial, ctx, reporting_period=REPORTING_PERIOD).fit()
    stamps = TimedDigitsTrial.stamps
    return per_step(stamps[warmup], stamps[steps - 1], steps - 1 - warmup)


def worker(kind: str, steps: int, warmup: int) -> None:
    """One rank of a 2-process run: print this rank's per-step seconds as JSON."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    wall, cpu = (hand_loop if kind == "hand" else trainer_loop)(steps, warmup)
    if dist.get_rank() == 0:
        print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)
    dist.destroy_process_group()


def run_ddp(kind: str, steps: int, warmup: int) -> Clocks:
    port = free_port()
    cmd = [sys.executable, __file__, "--worker", kind, "--steps", str(steps)]
    cmd += ["--warmup", str(warmup)]
    env = dict(os.environ)
    procs = [
        subprocess.Popen(cmd, env=rank_env(env, r, 2, port), stdout=subprocess.PIPE, text=True)
        for r in range(2)
    ]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"a DDP {kind} rank failed: exit codes {[p.returncode for p in procs]}")
    line = next(ln for out in outs for ln in out.splitlines() if ln.startswith("{"))
    answer = json.loads(line)
    return float(answer["wall"]), float(answer["cpu"])


def measure(label: str, run_one: Any, repeats: int) -> None:
    hand: list[Clocks] = []
    trainer: list[Clocks] = []
    for _ in range(repeats):
        hand.append(run_one("hand"))
        trainer.append(run_one("trainer"))
    for i, clock in enumerate(("wall", "CPU")):
        h = statistics.median(c[i] for c in hand)
        t = statistics.median(c[i] for c in trainer)
        print(
            f"{label:<11} {clock:<4} hand loop {h * 1e3:7.3f} ms/step   Trainer {t * 1e3:7.3f} "
            f"ms/step   ratio {t / h:6.3f} (overhead {100 * (t / h - 1):+.1f}%, "
            f"median of {repeats})",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-ddp", action="store_true")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--worker", choices=["hand", "trainer"])
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps, args.warmup)
        return
    torch.set_num_threads(1)
    print(f"$ {Path(sys.executable).name} bench/trainer_overhead.py " + " ".join(sys.argv[1:]))
    print(f"torch {torch.__version__}, CPU, 1 thread per process, {args.steps} steps")

    def single(kind: str) -> Clocks:
        return (hand_loop if kind == "hand" else trainer_loop)(args.steps, args.warmup)

    if not args.skip_single:
        measure("1 process", single, args.repeats)
    if not args.skip_ddp:
        measure("2-proc DDP", lambda kind: run_ddp(kind, args.steps, args.warmup), args.repeats)


if __name__ == "__main__":
    main()
