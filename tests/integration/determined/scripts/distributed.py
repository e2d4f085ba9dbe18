"""Stage 4 (distributed), written to Determined's documented Core API; launched with
`python3 -m determined.launch.torch_distributed python3 distributed.py`."""

import logging
import os

import determined as det


def main(core_context, increment_by):
    x = 0
    for batch in range(10):
        x += increment_by
        steps_completed = batch + 1
        if steps_completed % 5 == 0:
            all_x = core_context.distributed.allgather(x)
            if core_context.distributed.rank == 0:
                core_context.train.report_training_metrics(
                    steps_completed=steps_completed, metrics={"x": sum(all_x)}
                )
                with core_context.checkpoint.store_path({"steps_completed": steps_completed}) as (
                    path,
                    _uuid,
                ):
                    path.joinpath("state").write_text(str(x))
            if core_context.preempt.should_preempt():
                return
    if core_context.distributed.rank == 0:
        core_context.train.report_validation_metrics(
            steps_completed=steps_completed, metrics={"x": x}
        )
    print(
        f"rank {core_context.distributed.get_rank()} of {core_context.distributed.get_size()}",
        flush=True,
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format=det.LOG_FORMAT)
    info = det.get_cluster_info()
    if info.trial.hparams.get("explicit"):  # as stage 4's worker builds it, from ClusterInfo
        distributed = det.core.DistributedContext(
            rank=int(os.environ["RANK"]),
            size=len(info.container_addrs) * len(info.slot_ids),
            local_rank=int(os.environ["LOCAL_RANK"]),
            local_size=len(info.slot_ids),
            cross_rank=info.container_rank,
            cross_size=len(info.container_addrs),
            chief_ip=info.container_addrs[0],
        )
    else:
        distributed = det.core.DistributedContext.from_torch_distributed()
    with det.core.init(distributed=distributed) as core_context:
        main(core_context, increment_by=info.trial.hparams["increment_by"])
