"""Stage 3 (hyperparameter search), Determined 0.38 style: the script decides the length and
reports the time metric (`batches`) with its validations; the searcher stops losers through
should_preempt()."""

import logging
import pathlib

import determined as det


def main(core_context, latest_checkpoint, trial_id, increment_by):
    x, starting_batch, max_length = 0, 0, 20
    if latest_checkpoint is not None:
        with core_context.checkpoint.restore_path(latest_checkpoint) as path:
            x, starting_batch, owner = map(int, pathlib.Path(path, "state").read_text().split(","))
            starting_batch = starting_batch if owner == trial_id else 0
    for batch in range(starting_batch, max_length):
        x += increment_by
        steps_completed = batch + 1
        if steps_completed % 2 == 0:
            core_context.train.report_training_metrics(
                steps_completed=steps_completed, metrics={"x": x}
            )
            core_context.train.report_progress(steps_completed / float(max_length))
            core_context.train.report_validation_metrics(
                steps_completed=steps_completed, metrics={"x": x, "batches": steps_completed}
            )
            with core_context.checkpoint.store_path({"steps_completed": steps_completed}) as (
                path,
                _uuid,
            ):
                pathlib.Path(path, "state").write_text(f"{x},{steps_completed},{trial_id}")
            if core_context.preempt.should_preempt():
                print(f"stopped at {steps_completed}", flush=True)
                return


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    info = det.get_cluster_info()
    with det.core.init() as core_context:
        main(
            core_context,
            latest_checkpoint=info.latest_checkpoint,
            trial_id=info.trial.trial_id,
            increment_by=info.trial.hparams["increment_by"],
        )
