"""`python -m trainyard.determined.pytorch.run module:TrialClass`: run a Determined-style
`PyTorchTrial` (what `determined.launch.torch_distributed --trial module:Class` becomes).

Lengths come from the searcher (`searcher.max_length` operations); validation and checkpoint
periods from the config's `min_validation_period` / `min_checkpoint_period` when given.
"""

from __future__ import annotations

import sys

from trainyard.determined.pytorch._load import _import
from trainyard.determined.pytorch._trainer import Trainer, init
from trainyard.determined.pytorch._units import Batch, Epoch, TrainUnit


def _period(config: dict[str, object], key: str) -> TrainUnit | None:
    value = config.get(key)
    if isinstance(value, dict) and value:
        unit, n = next(iter(value.items()))
        if isinstance(n, int):
            return Epoch(n) if unit == "epochs" else Batch(n)
    return None


def main(argv: list[str]) -> int:
    if len(argv) != 1 or ":" not in argv[0]:
        print(
            "usage: python -m trainyard.determined.pytorch.run module:TrialClass", file=sys.stderr
        )
        return 2
    sys.path.insert(0, ".")
    cls = _import(argv[0])
    with init() as context:
        config = context.get_experiment_config()
        trainer = Trainer(cls(context), context)
        trainer.fit(
            validation_period=_period(config, "min_validation_period"),
            checkpoint_period=_period(config, "min_checkpoint_period"),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
