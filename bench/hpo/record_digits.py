"""Record the digits tabular benchmark: every configuration of the MLP grid, trained for real.

Trains each of the `digits_training.SPACE` grid's configurations for `--epochs` epochs on
`--processes` worker processes (one thread each) and writes, per configuration and epoch, the
validation accuracy, validation loss, wall seconds and CPU seconds to a compressed `.npz`.
Finished configurations are appended to `<out>.partial.jsonl` as they come, so an interrupted
recording resumes where it stopped.

    python -m bench.hpo.record_digits [--epochs 30] [--processes 2] [--out PATH.npz]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.hpo.digits_training import SPACE, DigitsData, all_configs, load_split, train_config

DEFAULT_OUT = Path(__file__).parent / "data" / "digits_mlp.npz"

_DATA: DigitsData | None = None


def _init_worker() -> None:
    global _DATA
    torch.set_num_threads(1)
    _DATA = load_split()


def _record_one(job: tuple[int, dict[str, Any], int]) -> dict[str, Any]:
    index, config, epochs = job
    results = train_config(config, epochs, data=_DATA, seed=index)
    return {
        "index": index,
        "val_accuracy": [r.val_accuracy for r in results],
        "val_loss": [r.val_loss for r in results],
        "seconds": [r.seconds for r in results],
        "cpu_seconds": [r.cpu_seconds for r in results],
    }


def _load_partial(path: Path, epochs: int) -> dict[int, dict[str, Any]]:
    done: dict[int, dict[str, Any]] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if len(row["val_accuracy"]) == epochs:
                done[int(row["index"])] = row
    return done


def record(out: Path, *, epochs: int, processes: int) -> None:
    """Train every configuration not yet in the partial file, then write `out`."""
    configs = all_configs()
    partial = out.with_suffix(".partial.jsonl")
    done = _load_partial(partial, epochs)
    jobs = [(i, c, epochs) for i, c in enumerate(configs) if i not in done]
    started = time.perf_counter()
    print(f"{len(done)} of {len(configs)} configurations already recorded; training {len(jobs)}")
    pool = multiprocessing.get_context("spawn").Pool(processes, _init_worker)
    with pool, partial.open("a") as sink:
        for row in pool.imap_unordered(_record_one, jobs):
            done[int(row["index"])] = row
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            if len(done) % 20 == 0:
                elapsed = time.perf_counter() - started
                print(f"{len(done)}/{len(configs)} after {elapsed:.0f} s", flush=True)
    rows = [done[i] for i in range(len(configs))]
    meta = {
        "space": SPACE,
        "epochs": epochs,
        "processes": processes,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "torch": torch.__version__,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_seconds": time.perf_counter() - started,
    }
    np.savez_compressed(
        out,
        configs=np.array([[c[k] for k in SPACE] for c in configs], dtype=np.float64),
        val_accuracy=np.array([r["val_accuracy"] for r in rows], dtype=np.float32),
        val_loss=np.array([r["val_loss"] for r in rows], dtype=np.float32),
        seconds=np.array([r["seconds"] for r in rows], dtype=np.float32),
        cpu_seconds=np.array([r["cpu_seconds"] for r in rows], dtype=np.float32),
        meta=np.array(json.dumps(meta)),
    )
    partial.unlink()
    print(f"wrote {out} ({len(rows)} configurations x {epochs} epochs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    record(args.out, epochs=args.epochs, processes=args.processes)


if __name__ == "__main__":
    main()
