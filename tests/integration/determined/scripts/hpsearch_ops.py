"""Stage 3 (hyperparameter search), Determined 0.37 style: searcher.operations()."""

import logging

import determined as det


def main(core_context, increment_by):
    x, batch = 0, 0
    for op in core_context.searcher.operations():
        while batch < op.length:
            x += increment_by
            batch += 1
            if batch % 2 == 0:
                core_context.train.report_training_metrics(steps_completed=batch, metrics={"x": x})
                op.report_progress(batch)
        core_context.train.report_validation_metrics(steps_completed=batch, metrics={"x": x})
        with core_context.checkpoint.store_path({"steps_completed": batch}) as (path, _uuid):
            path.joinpath("state").write_text(f"{x},{batch}")
        op.report_completed(x)
        if core_context.preempt.should_preempt():
            return


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    info = det.get_cluster_info()
    with det.core.init() as core_context:
        main(core_context, increment_by=info.trial.hparams["increment_by"])
