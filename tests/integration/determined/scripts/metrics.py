"""Stage 1 (metrics), written to Determined's documented Core API."""

import logging

import determined as det


def main(core_context, increment_by):
    x = 0
    for batch in range(12):
        x += increment_by
        steps_completed = batch + 1
        if steps_completed % 4 == 0:
            core_context.train.report_training_metrics(
                steps_completed=steps_completed, metrics={"x": x}
            )
            core_context.train.report_metrics("training", steps_completed, {"y": -x})
    core_context.train.report_validation_metrics(steps_completed=steps_completed, metrics={"x": x})
    best = core_context.train.get_experiment_best_validation()
    logging.info(f"best so far {best}")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    info = det.get_cluster_info()
    assert info is not None
    assert isinstance(info.trial.trial_id, int), info.trial.trial_id
    with det.core.init() as core_context:
        main(core_context, increment_by=info.trial.hparams["increment_by"])
    print(f"done trial={info.trial.trial_id} slots={len(info.slot_ids)}", flush=True)
