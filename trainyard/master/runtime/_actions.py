"""Experiment and trial actions: create, pause, activate, cancel, kill, archive, delete, fork,
continue a trial, set priority, kill a trial. Every state change is guarded by `states.py`
(`InvalidTransitionError` with a one-line message for an illegal one).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainyard.config import ExperimentConfig, load_experiment_config, to_yaml
from trainyard.errors import ConfigError, InvalidTransitionError, NotFoundError
from trainyard.master.db import Allocation, Checkpoint, Trial
from trainyard.master.db import checkpoints as ckpt_repo
from trainyard.master.db import experiments as exp_repo
from trainyard.master.db import trials as trial_repo
from trainyard.master.runtime._context import Runtime
from trainyard.master.runtime._exits import end_stopping_experiment
from trainyard.master.runtime._gc import delete_experiment_files
from trainyard.master.states import (
    AllocationState,
    CheckpointState,
    ExperimentState,
    TrialState,
)
from trainyard.searcher import ExitedReason, make_searcher

__all__ = ["Actions"]

E = ExperimentState
_WAITING = (TrialState.QUEUED, TrialState.PAUSED)
_DELETE_DELAY_S = 1.0


class Actions:
    """Lifecycle actions on experiments and trials (the `Master` service delegates here)."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    # -- create --

    def create_experiment(
        self,
        config_yaml: str,
        model_def: bytes,
        *,
        owner_id: int | None,
        activate: bool = True,
        parent_id: int | None = None,
    ) -> int:
        """Validate the config, store the experiment with its model definition and apply its
        searcher's initial operations, all in one transaction; returns the experiment id."""
        config = load_experiment_config(config_yaml)
        self._check_resources(config)
        settings = self._rt.settings
        searcher = make_searcher(
            config,
            allow_custom=settings.searcher_modules,
            max_trials_at_once=settings.max_trials_at_once,
        )
        rt = self._rt
        with rt.db.session() as session:
            _check_warm_start(session, config)
            experiment = exp_repo.create_experiment(
                session,
                name=config.name,
                config=config.model_dump(mode="json"),
                searcher_metric=config.searcher.metric,
                smaller_is_better=config.searcher.smaller_is_better,
                config_yaml=config_yaml,
                model_definition=model_def,
                owner_id=owner_id,
                parent_id=parent_id,
                description=config.description or "",
                labels=config.labels,
                state=E.ACTIVE if activate else E.PAUSED,
            )
            eid = experiment.id
            with rt.shell.lock(eid):
                rt.shell.start(session, eid, searcher)
        rt.wake.set()
        return eid

    def _check_resources(self, config: ExperimentConfig) -> None:
        pool = self._rt.settings.pool(config.resources.resource_pool)
        slots = config.resources.slots_per_trial
        if slots > pool.slots:
            raise ConfigError(
                f"resources.slots_per_trial is {slots} but resource pool {pool.name!r} has only "
                f"{pool.slots} slots; lower slots_per_trial"
            )

    # -- lifecycle --

    def pause(self, experiment_id: int) -> None:
        """Every running trial checkpoints and frees its slots; queued trials wait."""
        with self._rt.shell.unit(experiment_id) as session:
            exp_repo.set_experiment_state(session, experiment_id, E.PAUSED)
            for trial in trial_repo.list_trials(session, experiment_id, states=[TrialState.QUEUED]):
                trial_repo.set_trial_state(session, trial.id, TrialState.PAUSED)
            self._signal(session, experiment_id, "pause")

    def activate(self, experiment_id: int) -> None:
        with self._rt.shell.unit(experiment_id) as session:
            exp_repo.set_experiment_state(session, experiment_id, E.ACTIVE)
            for trial in trial_repo.list_trials(session, experiment_id, states=[TrialState.PAUSED]):
                trial_repo.set_trial_state(session, trial.id, TrialState.QUEUED)
            self._rt.shell.finish_if_done(session, experiment_id)
        self._rt.wake.set()

    def cancel(self, experiment_id: int) -> None:
        """Stop gracefully: running trials checkpoint and exit; results are kept."""
        self._stop(experiment_id, E.STOPPING_CANCELED, "stop")

    def kill(self, experiment_id: int) -> None:
        """Stop now: every allocation's processes get SIGKILL."""
        self._stop(experiment_id, E.STOPPING_KILLED, "kill")

    def _stop(self, experiment_id: int, target: ExperimentState, reason: str) -> None:
        rt = self._rt
        with rt.shell.unit(experiment_id) as session:
            exp_repo.set_experiment_state(session, experiment_id, target)
            for trial in trial_repo.list_trials(session, experiment_id, states=_WAITING):
                trial_repo.set_trial_state(session, trial.id, TrialState.CANCELED)
            live = self._signal(session, experiment_id, reason)
            end_stopping_experiment(rt, session, experiment_id)
        if reason == "kill":
            for allocation_id in live:
                rt.rm.kill(allocation_id)

    def _signal(self, session: Session, experiment_id: int, reason: str) -> list[str]:
        live = list(
            session.scalars(
                select(Allocation.id)
                .join(Trial, Trial.id == Allocation.trial_id)
                .where(
                    Trial.experiment_id == experiment_id,
                    Allocation.state != AllocationState.TERMINATED.value,
                )
            )
        )
        for allocation_id in live:
            self._rt.request_preemption(session, allocation_id, reason)
        return live

    def archive(self, experiment_id: int, archived: bool) -> None:
        with self._rt.db.session() as session:
            exp_repo.set_archived(session, experiment_id, archived)

    def set_priority(self, experiment_id: int, priority: int) -> None:
        with self._rt.db.session() as session:
            exp_repo.set_priority(session, experiment_id, priority)
        self._rt.wake.set()

    # -- delete --

    def delete(self, experiment_id: int) -> None:
        """Mark DELETING now; its checkpoints' files and then its rows go in the background."""
        with self._rt.shell.unit(experiment_id) as session:
            exp_repo.set_experiment_state(session, experiment_id, E.DELETING)
        self.resume_delete(experiment_id)

    def resume_delete(self, experiment_id: int) -> None:
        threading.Thread(
            target=self._delete_now, args=(experiment_id,), name="trainyard-delete", daemon=True
        ).start()

    def _delete_now(self, experiment_id: int) -> None:
        rt = self._rt
        # Callers read the DELETING experiment back right after asking; give them a moment.
        time.sleep(_DELETE_DELAY_S)
        try:
            delete_experiment_files(rt, experiment_id)
            with rt.db.session() as session:
                exp_repo.delete_experiment(session, experiment_id)
            rt.forget(experiment_id)
        except Exception as err:
            rt.log.warning("experiment %s: delete failed: %s", experiment_id, err)
            with rt.db.session() as session:
                exp_repo.set_experiment_state(session, experiment_id, E.DELETE_FAILED)

    # -- fork and continue --

    def fork(self, experiment_id: int, config_yaml: str | None, *, owner_id: int | None) -> int:
        """A new experiment from this one's model definition and `config_yaml` (None: the same
        config), with `parent_id` set."""
        with self._rt.db.session(read_only=True) as session:
            old = exp_repo.get_experiment(session, experiment_id)
            text = config_yaml or old.config_yaml or to_yaml(load_experiment_config(old.config))
            model_def = _model_definition(session, experiment_id)
        return self.create_experiment(text, model_def, owner_id=owner_id, parent_id=experiment_id)

    def continue_trial(
        self, trial_id: int, *, checkpoint_uuid: str | None, max_length: int | None
    ) -> tuple[int, int]:
        """Train a trial further: a new single-trial experiment (same model definition, the
        trial's hyperparameters as constants) whose trial starts from `checkpoint_uuid` (default:
        the trial's latest) and trains until `max_length` (default: the old searcher's length).
        Returns (experiment id, trial id)."""
        rt = self._rt
        with rt.db.session(read_only=True) as session:
            trial = trial_repo.get_trial(session, trial_id)
            uuid = checkpoint_uuid or trial.latest_checkpoint_uuid
            if uuid is None:
                raise InvalidTransitionError(
                    f"cannot continue trial {trial_id}: it has no checkpoint; "
                    "pick an experiment to fork instead"
                )
            ckpt = ckpt_repo.get_checkpoint(session, uuid)
            if ckpt.trial_id != trial_id:
                raise NotFoundError(f"checkpoint {uuid} does not belong to trial {trial_id}")
            experiment = exp_repo.get_experiment(session, trial.experiment_id)
            raw = dict(experiment.config)
            hparams = dict(trial.hparams)
            model_def = _model_definition(session, trial.experiment_id)
            old_length = trial.target_length or trial.completed_length
        config = _continued_config(raw, hparams, uuid, max_length or old_length, trial_id)
        eid = self.create_experiment(
            to_yaml(load_experiment_config(config)),
            model_def,
            owner_id=experiment.owner_id,
            parent_id=experiment.id,
        )
        with rt.db.session(read_only=True) as session:
            (new_trial,) = trial_repo.list_trials(session, eid, limit=1)
            return eid, new_trial.id

    # -- trials --

    def kill_trial(self, trial_id: int) -> None:
        """Kill one trial now; the searcher counts it as canceled by the user."""
        rt = self._rt
        with rt.db.session(read_only=True) as session:
            eid = trial_repo.get_trial(session, trial_id).experiment_id
        live: list[str] = []
        with rt.shell.unit(eid) as session:
            trial = trial_repo.get_trial(session, trial_id, for_update=True)
            state = TrialState(trial.state)
            state.transition_to(TrialState.STOPPING_KILLED, subject=f"trial {trial_id}")
            if state is TrialState.RUNNING:
                live = [
                    a.id
                    for a in session.scalars(
                        select(Allocation).where(
                            Allocation.trial_id == trial_id,
                            Allocation.state != AllocationState.TERMINATED.value,
                        )
                    )
                ]
                for allocation_id in live:
                    rt.request_preemption(session, allocation_id, "kill")
            else:
                trial.exited_reason = ExitedReason.USER_CANCELED.value
                rt.shell.drop_work(session, eid, trial)
                trial_repo.set_trial_state(session, trial_id, TrialState.CANCELED)
                rid = trial.request_id
                rt.shell.event(
                    session, eid, lambda s: s.on_trial_exited_early(rid, ExitedReason.USER_CANCELED)
                )
        for allocation_id in live:
            rt.rm.kill(allocation_id)


def _model_definition(session: Session, experiment_id: int) -> bytes:
    try:
        return exp_repo.get_model_definition(session, experiment_id)
    except NotFoundError:
        return b""


def _continued_config(
    raw: dict[str, Any], hparams: dict[str, Any], uuid: str, length: int, trial_id: int
) -> dict[str, Any]:
    searcher = dict(raw["searcher"])
    unit = _length_unit(searcher)
    config = dict(raw)
    config["name"] = f"{raw.get('name', 'experiment')} (continued trial {trial_id})"
    config["hyperparameters"] = _as_consts(hparams)
    config["searcher"] = {
        "name": "single",
        "metric": searcher["metric"],
        "smaller_is_better": searcher.get("smaller_is_better", True),
        "max_length": {unit: length},
        "source_checkpoint_uuid": uuid,
    }
    return config


def _length_unit(searcher: dict[str, Any]) -> str:
    length = searcher.get("max_length") or searcher.get("length_per_round") or {}
    if isinstance(length, dict) and "unit" in length:
        return str(length["unit"])
    if isinstance(length, dict) and length:
        return str(next(iter(length)))
    return "batches"


def _as_consts(hparams: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in hparams.items():
        if isinstance(value, dict):
            out[key] = _as_consts(value)
        else:
            out[key] = {"type": "const", "val": value}
    return out


def _check_warm_start(session: Session, config: ExperimentConfig) -> None:
    """Refuse (one-line `ConfigError`) a warm start from a checkpoint the master does not hold:
    an unknown or deleted `source_checkpoint_uuid`, or a `source_trial_id` with no checkpoint.
    Trials never train from scratch in place of the checkpoint they were given."""
    uuid = config.searcher.source_checkpoint_uuid
    if uuid:
        row = session.get(Checkpoint, uuid)
        if row is None or row.state != CheckpointState.ACTIVE:
            what = "does not exist" if row is None else "was deleted"
            raise ConfigError(f"searcher.source_checkpoint_uuid: checkpoint {uuid!r} {what}")
    trial_id = config.searcher.source_trial_id
    if trial_id is not None:
        source = session.get(Trial, trial_id)
        if source is None:
            raise ConfigError(f"searcher.source_trial_id: trial {trial_id} does not exist")
        if source.latest_checkpoint_uuid is None:
            raise ConfigError(
                f"searcher.source_trial_id: trial {trial_id} has no checkpoint to start from"
            )
