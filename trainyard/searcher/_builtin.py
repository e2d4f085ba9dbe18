"""The shell every built-in method shares: request ids, trial lifecycles, Shutdown, snapshots.

A method subclasses `BuiltinSearch` and implements the hooks `_start`, `_validated`, `_exited`,
`_more_work`, `_progress`, `_dump` and `_load`. The shell filters events the method must not see
(a validation from a trial already closed or stopped, a second exit of the same trial), normalizes
metrics (smaller is better, NaN/inf worst) and emits `Shutdown` exactly once: when no trial is open
and the method has no more work. A trial ends once, by `on_trial_closed` or `on_trial_exited_early`
(whichever comes first; the other is then ignored); a trial that ends without having been closed
or stopped counts as failed, with the worst metric.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from trainyard.searcher._base import Searcher
from trainyard.searcher._common import Seed, make_rng, normalize, rng_state, set_rng_state
from trainyard.searcher._ops import Close, ExitedReason, Operation, Shutdown, Stop
from trainyard.searcher._sampler import HParamSampler, UniformSampler
from trainyard.searcher._space import HParamSpace


class TrialLedger:
    """Request ids (1, 2, 3, ... in creation order) and which trials are still open.

    `open` maps each created, not yet finished trial to whether the searcher already sent it a
    Close/Stop. `counted` is the number of trials that count toward `max_trials` (a trial that
    reported invalid hyperparameters is uncounted by its method). `closed_ok` counts trials that
    ended after the searcher closed them.
    """

    def __init__(self) -> None:
        self.next_id = 1
        self.open: dict[int, bool] = {}
        self.counted = 0
        self.closed_ok = 0

    def create(self) -> int:
        rid = self.next_id
        self.next_id += 1
        self.open[rid] = False
        self.counted += 1
        return rid

    def uncount(self) -> None:
        """The last ended trial does not count toward `max_trials` (invalid hyperparameters)."""
        self.counted -= 1

    def is_active(self, request_id: int) -> bool:
        """Created, not finished and not yet sent Close/Stop."""
        return self.open.get(request_id) is False

    def close(self, request_id: int) -> Close:
        self.open[request_id] = True
        return Close(request_id)

    def stop(self, request_id: int) -> Stop:
        self.open[request_id] = True
        return Stop(request_id)

    def finish(self, request_id: int) -> bool | None:
        """Forget an ended trial; returns whether it had been closed, None if it was not open."""
        was_closing = self.open.pop(request_id, None)
        if was_closing:
            self.closed_ok += 1
        return was_closing

    def dump(self) -> dict[str, Any]:
        return {
            "next_id": self.next_id,
            "open": [[rid, closing] for rid, closing in self.open.items()],
            "counted": self.counted,
            "closed_ok": self.closed_ok,
        }

    def load(self, data: Mapping[str, Any]) -> None:
        self.next_id = int(data["next_id"])
        self.open = {int(rid): bool(closing) for rid, closing in data["open"]}
        self.counted = int(data["counted"])
        self.closed_ok = int(data["closed_ok"])


class BuiltinSearch(Searcher):
    """Base of the built-in methods; see the module docstring for the hooks.

    New trials' hyperparameters come from `_sample_hparams`, which asks `sampler` (uniform by
    default). A sampler that `learns` is shown every normalized validation of the trials it
    sampled. A `shared_sampler` belongs to a containing search (adaptive ASHA's brackets share
    one), which then keeps it in its own snapshot.
    """

    def __init__(
        self,
        hparam_space: HParamSpace | Mapping[str, Any] | None,
        *,
        smaller_is_better: bool,
        seed: Seed,
        sampler: HParamSampler | None = None,
        shared_sampler: bool = False,
    ) -> None:
        self.space = HParamSpace.of(hparam_space)
        self.smaller_is_better = smaller_is_better
        self.rng = make_rng(seed)
        self.ledger = TrialLedger()
        self.shut_down = False
        self.sampler: HParamSampler = sampler or UniformSampler()
        self.shared_sampler = shared_sampler
        self.sampled: dict[int, list[Any]] = {}
        """Open trials' hyperparameter values (in `space.params` order), kept for a learning
        sampler."""

    def _sample_hparams(self, request_id: int) -> dict[str, Any]:
        """Hyperparameters for new trial `request_id`, from the sampler."""
        hparams = self.sampler.sample(self.space, self.rng)
        if self.sampler.learns:
            flat = self.space.flat(hparams)
            self.sampled[request_id] = [flat[p.keys] for p in self.space.params]
        return hparams

    # --- hooks ----------------------------------------------------------------------------------

    @abstractmethod
    def _start(self) -> list[Operation]:
        """The first operations."""

    @abstractmethod
    def _validated(self, request_id: int, metric: float, length: int) -> list[Operation]:
        """An active trial validated; `metric` is normalized (smaller is better, NaN/inf worst)."""

    @abstractmethod
    def _exited(self, request_id: int, invalid_hp: bool) -> list[Operation]:
        """An active trial ended on its own (already removed from the ledger)."""

    def _closed(self, request_id: int) -> list[Operation]:
        """A trial the method closed or stopped has exited."""
        return []

    @abstractmethod
    def _more_work(self) -> bool:
        """Whether the method may still create trials or send work."""

    @abstractmethod
    def _progress(self) -> float:
        """Progress before Shutdown (clamped into [0, 1] by `progress`)."""

    @abstractmethod
    def _dump(self) -> dict[str, Any]:
        """The method's own state as JSON-safe data."""

    @abstractmethod
    def _load(self, data: dict[str, Any]) -> None:
        """Replace the method's own state with `_dump` output."""

    # --- Searcher -------------------------------------------------------------------------------

    def initial_operations(self) -> list[Operation]:
        return self._after(self._start())

    def on_validation_completed(
        self, request_id: int, metric: float, length: int
    ) -> list[Operation]:
        if not self.ledger.is_active(request_id):
            return []
        score = normalize(metric, self.smaller_is_better)
        if request_id in self.sampled:
            self.sampler.observe(self.sampled[request_id], int(length), score)
        return self._after(self._validated(request_id, score, int(length)))

    def on_trial_closed(self, request_id: int) -> list[Operation]:
        self.sampled.pop(request_id, None)
        was_closing = self.ledger.finish(request_id)
        if was_closing is None:
            return []
        if was_closing:
            return self._after(self._closed(request_id))
        return self._after(self._exited(request_id, False))

    def on_trial_exited_early(self, request_id: int, reason: ExitedReason) -> list[Operation]:
        self.sampled.pop(request_id, None)
        was_closing = self.ledger.finish(request_id)
        if was_closing is None:
            return []
        if was_closing:
            return self._after(self._closed(request_id))
        invalid = ExitedReason(reason) == ExitedReason.INVALID_HP
        return self._after(self._exited(request_id, invalid))

    def progress(self) -> float:
        if self.shut_down:
            return 1.0
        return min(1.0, max(0.0, self._progress()))

    def snapshot(self) -> dict[str, Any]:
        data = {
            "rng": rng_state(self.rng),
            "ledger": self.ledger.dump(),
            "shut_down": self.shut_down,
            "method": self._dump(),
        }
        if self.sampler.learns:
            data["sampled"] = [[rid, values] for rid, values in self.sampled.items()]
            if not self.shared_sampler:
                data["sampler"] = self.sampler.dump()
        return data

    def restore(self, snapshot: dict[str, Any]) -> None:
        set_rng_state(self.rng, snapshot["rng"])
        self.ledger.load(snapshot["ledger"])
        self.shut_down = bool(snapshot["shut_down"])
        self._load(snapshot["method"])
        self.sampled = {int(rid): list(values) for rid, values in snapshot.get("sampled", [])}
        if self.sampler.learns and not self.shared_sampler:
            self.sampler.load(snapshot.get("sampler", {}))

    def _after(self, ops: list[Operation]) -> list[Operation]:
        if not self.shut_down and not self.ledger.open and not self._more_work():
            self.shut_down = True
            ops.append(Shutdown(failure=self.ledger.closed_ok == 0))
        return ops
