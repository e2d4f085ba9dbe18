"""Seeded fault plans and the injector that carries them out on a running search.

A plan is a list of `Fault`s drawn from `random.Random(seed)`: which kind (kill -9 of a trial
process, of a trial inside its checkpoint hook, of the master at a random moment, of the master
while a trial is inside its checkpoint hook), how long to wait before it, how long a killed
master stays down. Replaying a seed replays the plan and every random choice of a target; the
exact moment a process is hit still depends on the OS, so a replay aims at the same windows.

`Injector.run_round` carries out faults while one experiment runs and stops when it has ended;
faults it could not deliver are handed to the next round.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reliability_master import CrashableMaster

Kind = Literal["trial", "trial_mid_checkpoint", "master", "master_mid_checkpoint"]
KINDS: tuple[Kind, ...] = ("trial", "trial_mid_checkpoint", "master", "master_mid_checkpoint")


@dataclass(frozen=True)
class Fault:
    kind: Kind
    delay_s: float
    """Wait this long (after the previous fault) before looking for a target."""
    down_s: float = 0.0
    """Master faults: how long the master stays dead before it is restarted."""


@dataclass(frozen=True)
class Delivered:
    fault: Fault
    round: int
    target: str
    at: float


def make_plan(rng: random.Random, *, trial_kills: int, master_kills: int) -> list[Fault]:
    """`trial_kills` trial faults (a third mid-checkpoint) and `master_kills` master faults
    (half mid-checkpoint), shuffled; delays and downtimes drawn from `rng`."""
    mid_trial = max(1, trial_kills // 3) if trial_kills else 0
    mid_master = (master_kills + 1) // 2
    counts: dict[Kind, int] = {
        "trial_mid_checkpoint": mid_trial,
        "trial": trial_kills - mid_trial,
        "master_mid_checkpoint": mid_master,
        "master": master_kills - mid_master,
    }
    kinds = [kind for kind, n in counts.items() for _ in range(n)]
    rng.shuffle(kinds)
    return [
        Fault(
            kind,
            delay_s=round(rng.uniform(0.2, 2.5), 3),
            down_s=round(rng.uniform(0.0, 2.0), 3) if kind.startswith("master") else 0.0,
        )
        for kind in kinds
    ]


@dataclass
class Injector:
    master: CrashableMaster
    rng: random.Random
    plan: list[Fault]
    delivered: list[Delivered] = field(default_factory=list)
    log: Callable[[str], None] = print

    def counts(self) -> dict[str, int]:
        return {kind: sum(d.fault.kind == kind for d in self.delivered) for kind in KINDS}

    def run_round(self, round_no: int, truth_dir: Path, ended: Callable[[], bool]) -> None:
        """Deliver planned faults until the plan is empty or `ended()` (the experiment is over;
        checked with the master up). The undelivered rest stays in `self.plan`."""
        while self.plan:
            fault = self.plan[0]
            time.sleep(fault.delay_s)
            if ended():
                return
            target = self._find_target(fault.kind, truth_dir, ended)
            if target is None:
                return
            self._strike(fault, target)
            self.plan.pop(0)
            self.delivered.append(Delivered(fault, round_no, str(target), time.time()))
            self.log(
                f"reliability: fault {len(self.delivered)} {fault.kind} "
                f"target={target} round={round_no} at {time.strftime('%H:%M:%S', time.gmtime())}"
            )

    def _find_target(self, kind: Kind, truth_dir: Path, ended: Callable[[], bool]) -> int | None:
        """A trial pid for trial faults, 0 for a random master fault; None if the experiment
        ended first. Mid-checkpoint kinds wait for a trial inside its checkpoint hook."""
        if kind == "master":
            return None if ended() else 0
        next_check = 0.0
        while True:
            if kind.endswith("mid_checkpoint"):
                candidates = self._in_checkpoint(truth_dir)
                pause = 0.01
            else:
                candidates = self.master.trial_workers()
                pause = 0.1
            if candidates:
                pid = self.rng.choice(sorted(candidates))
                return 0 if kind.startswith("master") else pid
            if time.monotonic() >= next_check:
                if ended():
                    return None
                next_check = time.monotonic() + 0.5
            time.sleep(pause)

    def _strike(self, fault: Fault, pid: int) -> None:
        if fault.kind.startswith("trial"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            return
        self.master.kill9()
        time.sleep(fault.down_s)
        self.master.start()

    def _in_checkpoint(self, truth_dir: Path) -> list[int]:
        """Pids of this master's trial processes inside their checkpoint hook (their marker
        exists); markers of dead processes are removed, so a reused pid is never mistaken."""
        pids = []
        for marker in truth_dir.glob("ckpt-*"):
            pid = int(marker.name.split("-", 1)[1])
            if self.master.owns(pid):
                pids.append(pid)
            else:
                marker.unlink(missing_ok=True)
        return pids
