"""The invariants every run of the suite must end with, faults or not.

`check_experiment` returns a `Verdict`: for each named check, the list of problems found (empty:
the check held). Each check compares what the master serves or stores with an independent
truth: the trial's own records (`reliability_trial`), the metric function, the files on disk,
or an uninterrupted run's decisions. Nothing is relaxed for faults: a fault-free run and a run
with fifty kills must end the same way.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reliability_master import CrashableMaster
from reliability_trial import loss

from trainyard.client import Client, Trial
from trainyard.master.db import Allocation, Checkpoint, TrialEvent
from trainyard.master.db import Trial as TrialRow

CHECKS = (
    "completed",
    "metric_steps",
    "decisions",
    "checkpoints",
    "orphans",
    "logs",
    "processes",
)
"""Names of the checks, in the order the report lists them."""

_LOG_KEY = re.compile(r"reliability-log trial=(\d+) run=([0-9a-f]+) seq=(\d+) ")
_SETTLE_S = 30.0


@dataclass(frozen=True)
class Decision:
    """What the searcher decided for one trial: its hparams and how far it trained."""

    request_id: int
    hparams: tuple[tuple[str, Any], ...]
    validation_steps: tuple[int, ...]
    final_length: int


@dataclass
class Verdict:
    problems: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CHECKS})
    decisions: list[Decision] = field(default_factory=list)

    def add(self, check: str, problem: str) -> None:
        self.problems[check].append(problem)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())

    def failed(self) -> list[str]:
        return [name for name in CHECKS if self.problems[name]]

    def summary(self) -> str:
        lines = []
        for name in self.failed():
            shown = self.problems[name][:15]
            more = len(self.problems[name]) - len(shown)
            lines.append(f"[{name}] " + "; ".join(shown) + (f" (+{more} more)" if more else ""))
        return "\n".join(lines)


def check_experiment(
    master: CrashableMaster,
    experiment_id: int,
    truth_dir: Path,
    baseline: list[Decision] | None,
    *,
    settle_s: float = _SETTLE_S,
) -> Verdict:
    """Every check on one ended experiment; `baseline` None: record decisions, compare none.
    Storage checks poll up to `settle_s` for garbage collection to finish first."""
    verdict = Verdict()
    with master.client() as client:
        experiment = client.get_experiment(experiment_id)
        trials = list(client.list_trials(experiment_id, limit=1000).items)
        if experiment.state != "COMPLETED":
            verdict.add("completed", f"experiment {experiment_id} ended {experiment.state}")
        for trial in trials:
            if trial.state != "COMPLETED":
                verdict.add("completed", f"trial {trial.id} is {trial.state} ({trial.exit_reason})")
        decisions = [_check_metrics(client, t, verdict) for t in trials]
        spool = master.data_dir / "logs" / "allocations"
        _check_logs(client, trials, truth_dir, spool, verdict)
    verdict.decisions = sorted(decisions, key=lambda d: d.request_id)
    if baseline is not None and verdict.decisions != baseline:
        verdict.add("decisions", _decision_diff(baseline, verdict.decisions))
    _check_storage(master, experiment_id, verdict, settle_s)
    workers = master.trial_workers()
    if workers:
        verdict.add("processes", f"trial processes still alive after the end: {workers}")
    return verdict


def _check_metrics(client: Client, trial: Trial, verdict: Verdict) -> Decision:
    """Training steps 1..L each served once, validations once each, values = loss(x, steps)."""
    x = float(trial.hparams["x"])
    final = 0
    steps_by_group: dict[str, list[int]] = {}
    for group, name in (("training", "loss"), ("validation", "val_loss")):
        points = client.trial_metrics(trial.id, group=group, max_points=10000)
        steps = [p.steps for p in points]
        steps_by_group[group] = steps
        doubled = sorted(s for s, n in Counter(steps).items() if n > 1)
        if doubled:
            verdict.add("metric_steps", f"trial {trial.id} {group} steps served twice: {doubled}")
        for point in points:
            value = point.metrics.get(name)
            if not isinstance(value, int | float) or not math.isclose(
                value, loss(x, point.steps), rel_tol=1e-9
            ):
                verdict.add(
                    "metric_steps",
                    f"trial {trial.id} {group} {name} at {point.steps} is {value!r}, "
                    f"reported {loss(x, point.steps)!r}",
                )
    validations = sorted(set(steps_by_group["validation"]))
    final = validations[-1] if validations else 0
    expected = list(range(1, final + 1))
    training = sorted(set(steps_by_group["training"]))
    if training != expected:
        lost = sorted(set(expected) - set(training))
        extra = sorted(set(training) - set(expected))
        verdict.add(
            "metric_steps",
            f"trial {trial.id} validated up to {final}: training steps lost {lost}, "
            f"past the last validation {extra}",
        )
    if trial.trained_length != final:
        verdict.add(
            "metric_steps",
            f"trial {trial.id} trained_length {trial.trained_length} != last validation {final}",
        )
    hparams = tuple(sorted((k, v) for k, v in trial.hparams.items()))
    return Decision(trial.request_id, hparams, tuple(validations), final)


def _decision_diff(baseline: list[Decision], got: list[Decision]) -> str:
    if len(baseline) != len(got):
        return f"{len(got)} trials, the uninterrupted run had {len(baseline)}"
    diffs = [
        f"request {a.request_id}: expected {a.hparams} to {a.validation_steps}, "
        f"got {b.hparams} to {b.validation_steps}"
        for a, b in zip(baseline, got, strict=True)
        if a != b
    ]
    return "; ".join(diffs)


def _check_logs(
    client: Client, trials: list[Trial], truth_dir: Path, spool: Path, verdict: Verdict
) -> None:
    """Each line a trial printed is served by GET /trials/{id}/logs exactly once.

    One loss is not the master's: the last line or two a process printed just before the whole
    allocation was SIGKILLed (a restarted master ends its predecessor's allocations) may still
    sit in the pipe, unread by the launcher. Such a line is excused only if it is among the last
    two of its process and in no allocation log on disk (`spool`) either; a line the launcher
    did write to disk must be served.
    """
    spooled = set(_keys(text for path in spool.glob("*.log") for text in _lines(path)))
    for trial in trials:
        written = _keys(_lines(truth_dir / f"logs-{trial.id}.txt"))
        last: dict[str, int] = {}
        for run, seq in written:
            last[run] = max(seq, last.get(run, 0))
        served: Counter[tuple[str, int]] = Counter()
        for log in client.trial_logs(trial.id):
            match = _LOG_KEY.search(log.line)
            if match and int(match.group(1)) == trial.id:
                served[(match.group(2), int(match.group(3)))] += 1
        missing = [
            (run, seq)
            for run, seq in written
            if served[(run, seq)] == 0 and ((run, seq) in spooled or seq < last[run] - 1)
        ]
        doubled = sorted(k for k, n in served.items() if n > 1)
        if missing:
            verdict.add(
                "logs",
                f"trial {trial.id}: {len(missing)} of {len(written)} lines it wrote are not "
                f"served, e.g. run={missing[0][0]} seq={missing[0][1]}",
            )
        if doubled:
            verdict.add("logs", f"trial {trial.id}: lines served more than once: {doubled[:5]}")


def _lines(path: Path) -> list[str]:
    """Complete lines of a file (a last line cut by a kill is left out); none if absent."""
    if not path.exists():
        return []
    return [line for line in path.read_text(errors="replace").splitlines(True) if line[-1:] == "\n"]


def _keys(lines: Iterable[str]) -> list[tuple[str, int]]:
    """(run, seq) of each `reliability-log` line, in order."""
    found = []
    for line in lines:
        match = _LOG_KEY.search(line)
        if match:
            found.append((match.group(2), int(match.group(3))))
    return found


def _check_storage(
    master: CrashableMaster, experiment_id: int, verdict: Verdict, settle_s: float
) -> None:
    """Polls (GC runs after the end) until storage, work dirs and DB agree, then reports."""
    deadline = time.monotonic() + settle_s
    while True:
        problems = _storage_problems(master, experiment_id)
        if not any(problems.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for check, found in problems.items():
        for problem in found:
            verdict.add(check, problem)


@dataclass(frozen=True)
class _Stored:
    """What the DB holds that storage and the data dir must agree with."""

    active: dict[str, int]
    """ACTIVE checkpoint uuid -> steps_completed."""
    allocations: dict[str, str]
    trials: list[tuple[int, int, str | None]]
    """(id, completed_length, latest checkpoint uuid) of the experiment's trials."""
    events: dict[int, str]
    """Trial id -> its exit events, for the messages."""


def _read_db(master: CrashableMaster, experiment_id: int) -> _Stored:
    db = master.db()
    try:
        with db.session(read_only=True) as session:
            checkpoints = session.query(Checkpoint).filter(Checkpoint.state == "ACTIVE").all()
            rows = session.query(TrialRow).filter(TrialRow.experiment_id == experiment_id).all()
            events: dict[int, list[str]] = {}
            query = session.query(TrialEvent).filter(TrialEvent.trial_id.in_([t.id for t in rows]))
            for event in query.order_by(TrialEvent.id).all():
                events.setdefault(event.trial_id, []).append(
                    f"{event.kind}({event.exit_code},{event.reason or '-'})"
                )
            return _Stored(
                active={c.uuid: c.steps_completed for c in checkpoints},
                allocations={a.id: a.state for a in session.query(Allocation).all()},
                trials=[(t.id, t.completed_length, t.latest_checkpoint_uuid) for t in rows],
                events={tid: " ".join(found) for tid, found in events.items()},
            )
    finally:
        db.dispose()


def _storage_problems(master: CrashableMaster, experiment_id: int) -> dict[str, list[str]]:
    stored = _read_db(master, experiment_id)
    return {
        "orphans": _orphans(master, stored),
        "checkpoints": _latest_checkpoints(master, stored),
    }


def _orphans(master: CrashableMaster, stored: _Stored) -> list[str]:
    """Checkpoint dirs, staged writes, work dirs and allocations nothing accounts for."""
    found = []
    root = master.checkpoint_root
    on_disk = {p.name for p in root.iterdir() if p.is_dir() and p.name != ".staging"}
    unregistered = sorted(on_disk - set(stored.active))
    if unregistered:
        found.append(f"checkpoint dirs with no ACTIVE row: {unregistered}")
    staging = root / ".staging"
    leftovers = sorted(p.name for p in staging.iterdir()) if staging.exists() else []
    if leftovers:
        found.append(f"half-written checkpoints left in .staging: {leftovers}")
    live = sorted((a, s) for a, s in stored.allocations.items() if s != "TERMINATED")
    if live:
        found.append(f"allocations not TERMINATED: {live}")
    work = master.data_dir / "work"
    dirs = sorted(str(p.relative_to(work)) for p in work.glob("*/*")) if work.exists() else []
    ended = [
        d for d in dirs if stored.allocations.get(d.split("/", 1)[1], "TERMINATED") == "TERMINATED"
    ]
    if ended:
        found.append(f"work dirs of ended allocations: {ended}")
    return found


def _latest_checkpoints(master: CrashableMaster, stored: _Stored) -> list[str]:
    """Every ACTIVE row has files; each trial's latest checkpoint holds its final length."""
    found = []
    root = master.checkpoint_root
    missing = sorted(uuid for uuid in stored.active if not (root / uuid).is_dir())
    if missing:
        found.append(f"ACTIVE checkpoint rows with no files: {missing}")
    for trial_id, completed, latest in stored.trials:
        history = stored.events.get(trial_id, "none")
        if latest is None or latest not in stored.active:
            found.append(
                f"trial {trial_id} (trained to {completed}) has no ACTIVE latest checkpoint "
                f"[events: {history}]"
            )
            continue
        state = root / latest / "state.txt"
        held = state.read_text() if state.exists() else "(missing)"
        if stored.active[latest] != completed or held != str(completed):
            found.append(
                f"trial {trial_id} trained to {completed} but its latest checkpoint "
                f"{latest} holds {stored.active[latest]} steps (state.txt: {held}) "
                f"[events: {history}]"
            )
    return found
