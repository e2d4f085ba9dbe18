"""One fault-injection campaign: an uninterrupted baseline search, then rounds of the same search
(same config, same seed) under a seeded fault plan, each ended run checked in full.

`run_campaign` is what the tests call; it returns a `Campaign` (verdicts, faults delivered,
timings) that the tests assert on and record for the results table.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from reliability_checks import Decision, Verdict, check_experiment
from reliability_faults import KINDS, Injector, make_plan
from reliability_master import CrashableMaster
from reliability_trial import asha_config, write_model_dir

_END_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class SearchShape:
    """The adaptive ASHA search every round runs (see `reliability_trial.asha_config`)."""

    max_trials: int
    max_length: int
    step_sleep: float = 0.05
    checkpoint_sleep: float = 0.6


@dataclass
class Round:
    number: int
    experiment_id: int
    verdict: Verdict
    seconds: float
    faults: int


@dataclass
class Campaign:
    seed: int
    backend: str
    rounds: list[Round] = field(default_factory=list)
    delivered: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    undelivered: int = 0
    master_starts: int = 0
    log: list[str] = field(default_factory=list)
    """One line per fault delivered: round, kind, target pid (0: the master), wall time."""

    @property
    def faulted(self) -> list[Round]:
        return [r for r in self.rounds if r.number > 0]

    @property
    def injected(self) -> int:
        return sum(self.delivered.values())

    @property
    def survived(self) -> int:
        """Faults delivered in rounds that ended with every check holding."""
        return sum(r.faults for r in self.faulted if r.verdict.ok)

    def failures(self) -> str:
        """Each failed round: its problems, then the faults delivered in it."""
        parts = []
        for r in self.rounds:
            if not r.verdict.ok:
                faults = [line for line in self.log if line.startswith(f"round {r.number} ")]
                parts.append(
                    f"round {r.number} (experiment {r.experiment_id}):\n{r.verdict.summary()}"
                    + "".join(f"\n  fault: {line}" for line in faults)
                )
        return "\n".join(parts)


def run_campaign(
    master: CrashableMaster,
    root: Path,
    *,
    seed: int,
    backend: str,
    shape: SearchShape,
    trial_kills: int,
    master_kills: int,
    max_rounds: int,
) -> Campaign:
    """Baseline round 0 without faults, then faulted rounds until the plan is delivered, an
    experiment does not end, or `max_rounds` rounds ran (a failed check does not stop it).
    The master must be started; it is left running."""
    rng = random.Random(seed)
    campaign = Campaign(seed, backend)
    injector = Injector(
        master, rng, make_plan(rng, trial_kills=trial_kills, master_kills=master_kills)
    )
    model_dir = write_model_dir(root)
    baseline: list[Decision] | None = None
    for number in range(max_rounds + 1):
        before = len(injector.delivered)
        started = time.monotonic()
        truth = root / f"truth-{number}"
        truth.mkdir(parents=True)
        config = root / f"round-{number}.yaml"
        config.write_text(
            asha_config(
                truth_dir=truth,
                max_trials=shape.max_trials,
                max_length=shape.max_length,
                seed=seed % (2**31),
                step_sleep=shape.step_sleep,
                checkpoint_sleep=shape.checkpoint_sleep,
                name=f"reliability-{backend}-{number}",
            )
        )
        finished, verdict, experiment_id = _run_round(
            master, config, model_dir, injector if number > 0 else None, number, truth, baseline
        )
        faults = len(injector.delivered) - before
        seconds = time.monotonic() - started
        campaign.rounds.append(Round(number, experiment_id, verdict, seconds, faults))
        outcome = "ok" if verdict.ok else "FAILED " + ",".join(verdict.failed())
        print(
            f"reliability: {backend} round {number} experiment {experiment_id} {outcome} "
            f"faults={faults} in {seconds:.1f}s",
            flush=True,
        )
        if number == 0:
            baseline = verdict.decisions
        if not finished or not injector.plan:
            break
    campaign.delivered = injector.counts()
    campaign.undelivered = len(injector.plan)
    campaign.master_starts = master.starts
    campaign.log = [
        f"round {d.round} {d.fault.kind} target={d.target} "
        f"at {time.strftime('%H:%M:%S', time.gmtime(d.at))}"
        for d in injector.delivered
    ]
    return campaign


def _run_round(
    master: CrashableMaster,
    config: Path,
    model_dir: Path,
    injector: Injector | None,
    number: int,
    truth: Path,
    baseline: list[Decision] | None,
) -> tuple[bool, Verdict, int]:
    """Create the experiment, inject faults while it runs, wait for its end, check it.
    Returns (whether it ended, the verdict, the experiment id)."""
    with master.client() as client:
        experiment_id = client.create_experiment(config, model_dir).id

    def ended() -> bool:
        with master.client() as client:
            return bool(client.get_experiment(experiment_id).is_terminal)

    if injector is not None:
        injector.run_round(number, truth, ended)
    finished = _wait_end(ended)
    verdict = check_experiment(master, experiment_id, truth, baseline)
    if not finished:
        verdict.add("completed", f"experiment {experiment_id} did not end in {_END_TIMEOUT_S}s")
    return finished, verdict, experiment_id


def _wait_end(ended: Callable[[], bool]) -> bool:
    """Wait until the experiment has ended; False if it has not within the timeout."""
    deadline = time.monotonic() + _END_TIMEOUT_S
    while not ended():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True
