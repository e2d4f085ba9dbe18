"""Trainer overhead: the same model, data and seed trained by a hand-written PyTorch loop and by
`PyTorchTrial` + `Trainer`, in 1 process and in 2-process DDP (gloo), reporting every 100 batches.

    .venv/bin/python bench/trainer_overhead.py [--steps 600] [--repeats 3] [--skip-ddp]
                                               [--skip-single] [--per-record-reads]

The model is `examples/digits_cnn` (dropout 0, Adam, global batch 32 per process group).

How it is timed. On a shared machine the speed of one run differs from the next by several
percent (other work, frequency changes), more than the overhead we look for; so the two loops do
not run one after the other but step by step in turns, in one process: the hand-written loop is
a generator, and after each Trainer batch (and its bookkeeping) the hand loop takes one step.
The time spent inside the hand loop's step is its step time; the rest of the time is the
Trainer's (its own step plus all its per-batch bookkeeping: data loading, metric window,
reporting, preemption checks). Each loop's data fetch comes right after the other loop's
optimizer step, so neither finds the other's leftovers in the CPU caches. Both loops see the
same machine at the same moment. Steps before `--warmup` are not counted; process start, the
final validation and the checkpoint are not counted either. Wall and CPU time (of the rank-0
thread) are both printed: each loop's median step time over `--repeats` runs, and the median
of the runs' ratios (each run pairs the two loops).

Reading data. For a plain `TensorDataset` the Trainer gathers each batch with one indexing call
per tensor, where a DataLoader (the hand loop's) calls `__getitem__` once per record and stacks
the records (same values, same order). `--per-record-reads` makes the Trainer read record by
record too, to show the cost of its bookkeeping alone.
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
from collections.abc import Generator
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.utils.data import Dataset, TensorDataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "digits_cnn"))

from model_def import DigitsTrial  # noqa: E402

from trainyard.pytorch import PyTorchTrialContext, Trainer  # noqa: E402
from trainyard.pytorch.local import free_port, rank_env  # noqa: E402

HPARAMS = {"global_batch_size": 32, "lr": 0.003, "n_filters1": 16, "n_filters2": 32, "dropout": 0.0}
REPORTING_PERIOD = 100
SEED = 1234

Clocks = tuple[float, float]


def clocks() -> Clocks:
    """(wall, CPU) seconds now; CPU time of this thread (torch runs single-threaded here)."""
    return time.perf_counter(), time.thread_time()


def hand_steps() -> Generator[None, None, None]:
    """The loop a user would write (DDP, DistributedSampler, Adam, loss logged every 100
    batches), as a generator that yields after each training step."""
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
    while True:
        sampler.set_epoch(epoch)
        for x, y in loader:
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
            yield
        epoch += 1


class Pacer:
    """Advances the hand loop one step after each Trainer batch and splits the time."""

    def __init__(self, warmup: int, last: int) -> None:
        self.hand = hand_steps()
        self.warmup, self.last = warmup, last
        self.start: Clocks = (0.0, 0.0)
        self.end: Clocks = (0.0, 0.0)
        self.in_hand = [0.0, 0.0]

    def after_trainer_batch(self, steps: int) -> None:
        """Trainer batch `steps` is done (with its bookkeeping): the hand loop takes a step.

        The window timed is Trainer batches and hand steps `warmup + 1 .. last`.
        """
        if steps > self.last:
            return
        t0 = clocks()
        next(self.hand)
        t1 = clocks()
        if self.warmup < steps:
            self.in_hand[0] += t1[0] - t0[0]
            self.in_hand[1] += t1[1] - t0[1]
        if steps == self.warmup:
            self.start = t1
        if steps == self.last:
            self.end = t1

    def per_step(self) -> tuple[Clocks, Clocks]:
        """((hand wall, hand CPU), (Trainer wall, Trainer CPU)) seconds per step."""
        n = self.last - self.warmup
        total = (self.end[0] - self.start[0], self.end[1] - self.start[1])
        hand = (self.in_hand[0] / n, self.in_hand[1] / n)
        return hand, ((total[0] - self.in_hand[0]) / n, (total[1] - self.in_hand[1]) / n)


class RecordByRecord(TensorDataset):
    """The digits with an overridden `__getitem__`: the Trainer then reads them one record at a
    time, as the hand loop's DataLoader does, instead of a whole batch per call."""

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return tuple(t[index] for t in self.tensors)


class BenchTrial(DigitsTrial):
    """DigitsTrial, optionally read record by record."""

    per_record_reads = False

    def build_training_data(self) -> Dataset[Any]:
        data = self.train_data
        return RecordByRecord(*data.tensors) if self.per_record_reads else data


class PacedTrainer(Trainer):
    """A Trainer that hands the turn to the hand loop after each batch's bookkeeping, so that
    each loop's data fetch follows the other loop's optimizer step (same cache conditions)."""

    pacer: Pacer

    def _after_batch(self) -> bool:
        carry_on = super()._after_batch()
        self.pacer.after_trainer_batch(self.steps)
        return carry_on


def run_interleaved(steps: int, warmup: int) -> tuple[Clocks, Clocks]:
    """Train `steps` batches with the Trainer (core.init local mode), the hand loop in turns."""
    import trainyard.core as core

    pacer = PacedTrainer.pacer = Pacer(warmup, steps)
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
        PacedTrainer(BenchTrial, ctx, reporting_period=REPORTING_PERIOD).fit()
    pacer.hand.close()
    return pacer.per_step()


def worker(steps: int, warmup: int, per_record_reads: bool) -> None:
    """One rank of a 2-process run: rank 0 prints its per-step seconds as JSON."""
    torch.set_num_threads(1)
    BenchTrial.per_record_reads = per_record_reads
    dist.init_process_group("gloo")
    hand, trainer = run_interleaved(steps, warmup)
    if dist.get_rank() == 0:
        print(json.dumps({"hand": hand, "trainer": trainer}), flush=True)
    dist.destroy_process_group()


def run_ddp(steps: int, warmup: int, per_record_reads: bool) -> tuple[Clocks, Clocks]:
    port = free_port()
    cmd = [sys.executable, __file__, "--worker", "--steps", str(steps), "--warmup", str(warmup)]
    cmd += ["--per-record-reads"] if per_record_reads else []
    procs = [
        subprocess.Popen(
            cmd,
            env=rank_env(dict(os.environ), r, 2, port),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for r in range(2)
    ]
    outs = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise SystemExit(f"a DDP rank failed: exit codes {[p.returncode for p in procs]}")
    line = next(ln for out in outs for ln in out.splitlines() if ln.startswith("{"))
    answer = json.loads(line)
    (hand_wall, hand_cpu), (trainer_wall, trainer_cpu) = answer["hand"], answer["trainer"]
    return (float(hand_wall), float(hand_cpu)), (float(trainer_wall), float(trainer_cpu))


def report(label: str, runs: list[tuple[Clocks, Clocks]]) -> None:
    """Median step times of each loop, and the median of the runs' paired ratios."""
    for i, clock in enumerate(("wall", "CPU")):
        h = statistics.median(hand[i] for hand, _ in runs)
        t = statistics.median(trainer[i] for _, trainer in runs)
        ratios = sorted(trainer[i] / hand[i] for hand, trainer in runs)
        ratio = statistics.median(ratios)
        print(
            f"{label:<11} {clock:<4} hand loop {h * 1e3:7.3f} ms/step   Trainer {t * 1e3:7.3f} "
            f"ms/step   ratio {ratio:6.3f} (overhead {100 * (ratio - 1):+.1f}%; per-run ratios "
            f"{', '.join(f'{r:.3f}' for r in ratios)})",
            flush=True,
        )


def quietly(fn: Any, *args: Any) -> Any:
    """Run `fn(*args)` with the Trainer's console lines sent to /dev/null."""
    with open(os.devnull, "w") as sink:
        saved = os.dup(1), os.dup(2)
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            return fn(*args)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-ddp", action="store_true")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--per-record-reads", action="store_true")
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(args.steps, args.warmup, args.per_record_reads)
        return
    BenchTrial.per_record_reads = args.per_record_reads
    torch.set_num_threads(1)
    print(f"$ {Path(sys.executable).name} bench/trainer_overhead.py " + " ".join(sys.argv[1:]))
    reads = "one record per call" if args.per_record_reads else "a whole batch per call"
    print(
        f"torch {torch.__version__}, CPU, 1 thread per process, {args.steps} steps, "
        f"interleaved; the Trainer reads the TensorDataset {reads}"
    )
    if not args.skip_single:
        runs = [quietly(run_interleaved, args.steps, args.warmup) for _ in range(args.repeats)]
        report("1 process", runs)
    if not args.skip_ddp:
        runs = [
            run_ddp(args.steps, args.warmup, args.per_record_reads) for _ in range(args.repeats)
        ]
        report("2-proc DDP", runs)


if __name__ == "__main__":
    main()
