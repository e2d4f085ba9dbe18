"""Stage 2 (checkpoints and preemption), written to Determined's documented Core API."""

import logging
import pathlib
import sys

import determined as det


def save_state(x, steps_completed, trial_id, checkpoint_directory):
    with checkpoint_directory.joinpath("state").open("w") as f:
        f.write(f"{x},{steps_completed},{trial_id}")


def load_state(trial_id, checkpoint_directory):
    with pathlib.Path(checkpoint_directory).joinpath("state").open("r") as f:
        x, steps_completed, ckpt_trial_id = [int(field) for field in f.read().split(",")]
    return (x, steps_completed) if ckpt_trial_id == trial_id else (x, 0)


def main(core_context, latest_checkpoint, trial_id, increment_by, stop_at):
    x, starting_batch = 0, 0
    if latest_checkpoint is not None:
        with core_context.checkpoint.restore_path(latest_checkpoint) as path:
            x, starting_batch = load_state(trial_id, path)
        print(f"resumed at {starting_batch} x={x}", flush=True)
    for batch in range(starting_batch, 20):
        x += increment_by
        steps_completed = batch + 1
        if steps_completed % 5 == 0:
            core_context.train.report_training_metrics(
                steps_completed=steps_completed, metrics={"x": x}
            )
            with core_context.checkpoint.store_path({"steps_completed": steps_completed}) as (
                path,
                _uuid,
            ):
                save_state(x, steps_completed, trial_id, path)
            if steps_completed == stop_at and latest_checkpoint is None:
                print(f"crashing on purpose at {steps_completed}", flush=True)
                sys.exit(3)
            if core_context.preempt.should_preempt():
                return
    core_context.train.report_validation_metrics(steps_completed=steps_completed, metrics={"x": x})


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    info = det.get_cluster_info()
    with det.core.init() as core_context:
        main(
            core_context,
            latest_checkpoint=info.latest_checkpoint,
            trial_id=info.trial.trial_id,
            increment_by=info.trial.hparams["increment_by"],
            stop_at=int(info.trial.hparams.get("stop_at", 0)),
        )
