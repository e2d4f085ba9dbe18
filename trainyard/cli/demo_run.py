"""`python -m trainyard.cli.demo_run`: a real adaptive ASHA search of `examples/digits_cnn`.

Starts an embedded master (local resource manager, SQLite) in a fresh temporary data directory
(or `--data-dir`), runs `examples/digits_cnn/adaptive.yaml` with live progress, and prints the
best validation accuracy reached. A few minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from trainyard.cli._common import console, fmt_metric
from trainyard.cli._embedded import EmbeddedMaster
from trainyard.cli.run import run_experiment
from trainyard.errors import TrainyardError

__all__ = ["main"]

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits_cnn"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trainyard.cli.demo_run", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=None, help="Keep the master's data here.")
    parser.add_argument("--config", type=Path, default=EXAMPLE / "adaptive.yaml")
    parser.add_argument("--cpu-slots", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="trainyard-demo-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        try:
            return _run(args.config, data_dir, args.cpu_slots)
        except TrainyardError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130


def _run(config: Path, data_dir: Path, cpu_slots: int) -> int:
    console.print(f"Trainyard demo: {config.name} of {EXAMPLE.name}, data in {data_dir}")
    started = time.monotonic()
    with EmbeddedMaster(data_dir, cpu_slots=cpu_slots) as master:
        summary = run_experiment(master.client, config, EXAMPLE)
        trials = master.client.list_trials(summary["experiment_id"], limit=1000)
    minutes = (time.monotonic() - started) / 60
    console.print(
        f"Experiment {summary['experiment_id']} {summary['state']} in {minutes:.1f} min, "
        f"{trials.total} trials"
    )
    if summary["best_trial_id"] is None:
        console.print("No trial reported a validation metric; see the master log in the data dir.")
        return 1
    console.print(
        f"Best {summary['searcher_metric']}: {fmt_metric(summary['best_metric'])} "
        f"(trial {summary['best_trial_id']}, hparams {summary['best_hparams']}, "
        f"checkpoint {summary['best_checkpoint'] or '-'})"
    )
    return 0 if summary["state"] == "COMPLETED" else 1


if __name__ == "__main__":
    raise SystemExit(main())
