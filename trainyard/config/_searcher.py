"""Searcher configs, one model per search method, told apart by `name`.

Every method trains trials to a length: `max_length` (batches, records or epochs), or `max_time`
in the unit of a metric the trial reports (`time_metric`). Exactly one of the two is given,
except for PBT (which uses `length_per_round`), custom searchers, and `single`, `grid` and
`random`, which may give neither: then the training script decides how long each trial trains
(Determined 0.38's way) and a trial that exits 0 has finished.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError, ValidatorFunctionWrapHandler

from trainyard.config._length import Length
from trainyard.config._problems import Problem, Section, problem_details, show

LengthRule = Literal["required", "forbidden", "optional"]
SamplerName = Literal["tpe", "uniform", "random"]
"""How new trials' hyperparameters are drawn: by TPE from the results so far
(`trainyard.searcher.TPESampler`; the default of random, sync_halving, async_halving and
adaptive_asha, chosen from `make bench-hpo`), or uniformly at random (Determined's way, PBT's
default; "random" is the old spelling of "uniform")."""


class _SearcherBase(Section):
    name: str
    metric: str = Field(min_length=1)
    smaller_is_better: bool = True
    max_length: Length | None = None
    time_metric: str | None = Field(default=None, min_length=1)
    max_time: int | None = Field(default=None, ge=1)
    source_trial_id: int | None = Field(default=None, ge=1)
    source_checkpoint_uuid: str | None = Field(default=None, min_length=1)

    length_rule: ClassVar[LengthRule] = "required"
    """Whether this method needs max_length or time_metric + max_time."""

    @property
    def script_decides_length(self) -> bool:
        """True when the training script, not the searcher, decides how long a trial trains: a
        `time_metric` search (the searcher only stops trials), or single/grid/random without a
        length. A trial of such a search that exits 0 on its own has finished its work."""
        lengthless = self.length_rule == "optional" and self.max_length is None
        return self.time_metric is not None or (lengthless and self.name != "custom")

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        if not isinstance(data, dict):
            return data, []
        return data, _length_problems(cls.length_rule, data)

    @classmethod
    def _unknown_field_message(cls, name: str | int) -> str:
        users = [method for method, model in _METHODS.items() if name in model.model_fields]
        if users:
            method = cls.model_fields["name"].default
            return f"not a field of the {method} searcher (only of {', '.join(users)})"
        return super()._unknown_field_message(name)


def _length_problems(rule: LengthRule, data: dict[str, Any]) -> list[Problem]:
    given = {key for key in ("max_length", "time_metric", "max_time") if data.get(key) is not None}
    if rule == "forbidden":
        hint = "not used by the pbt searcher; set length_per_round"
        return [Problem((key,), hint, data[key]) for key in sorted(given)]
    problems = []
    if given == {"time_metric"}:
        problems.append(Problem(("max_time",), "required when time_metric is set"))
    if given == {"max_time"}:
        problems.append(Problem(("time_metric",), "required when max_time is set"))
    if "max_length" in given and given & {"time_metric", "max_time"}:
        rule_text = "give either max_length or time_metric with max_time, not both"
        problems.append(Problem(("max_length",), rule_text, data["max_length"]))
    if not given and rule == "required":
        need = "needs max_length (e.g. {batches: 1000}) or time_metric with max_time"
        problems.append(Problem((), need))
    return problems


class SingleSearcherConfig(_SearcherBase):
    """Train one trial with the (constant or first-sampled) hyperparameters."""

    name: Literal["single"] = "single"

    length_rule: ClassVar[LengthRule] = "optional"


class GridSearcherConfig(_SearcherBase):
    """One trial per point of the grid (int/double/log need `count`)."""

    name: Literal["grid"] = "grid"
    max_concurrent_trials: int = Field(default=16, ge=0)

    length_rule: ClassVar[LengthRule] = "optional"


class RandomSearcherConfig(_SearcherBase):
    """`max_trials` trials with independently sampled hyperparameters."""

    name: Literal["random"] = "random"
    max_trials: int = Field(ge=1)
    max_concurrent_trials: int = Field(default=16, ge=0)
    sampler: SamplerName = "tpe"

    length_rule: ClassVar[LengthRule] = "optional"


class SyncHalvingSearcherConfig(_SearcherBase):
    """Successive halving in lockstep rungs: the best 1/divisor of a rung train longer."""

    name: Literal["sync_halving"] = "sync_halving"
    max_trials: int = Field(ge=1)
    num_rungs: int = Field(ge=1)
    divisor: float = Field(default=4.0, gt=1, allow_inf_nan=False)
    max_concurrent_trials: int = Field(default=16, ge=0)
    sampler: SamplerName = "tpe"


class AsyncHalvingSearcherConfig(_SearcherBase):
    """ASHA: promote a trial as soon as it is in the top 1/divisor of its rung."""

    name: Literal["async_halving"] = "async_halving"
    max_trials: int = Field(ge=1)
    num_rungs: int = Field(ge=1)
    divisor: float = Field(default=4.0, gt=1, allow_inf_nan=False)
    max_concurrent_trials: int = Field(default=16, ge=0)
    sampler: SamplerName = "tpe"
    stop_once: bool = False


class AdaptiveASHASearcherConfig(_SearcherBase):
    """Hyperband over ASHA brackets; `mode` sets the brackets, `bracket_rungs` overrides it.

    `mode` defaults to "aggressive" (faster to a good model on `make bench-hpo`); Determined's
    default is "standard", which a config gets by naming it."""

    name: Literal["adaptive_asha"] = "adaptive_asha"
    max_trials: int = Field(ge=1)
    max_rungs: int = Field(default=5, ge=1)
    divisor: float = Field(default=4.0, gt=1, allow_inf_nan=False)
    mode: Literal["aggressive", "standard", "conservative"] = "aggressive"
    bracket_rungs: list[Annotated[int, Field(ge=1)]] | None = None
    max_concurrent_trials: int = Field(default=16, ge=0)
    sampler: SamplerName = "tpe"
    stop_once: bool = False

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        if isinstance(data, dict) and data.get("bracket_rungs") == []:
            # Determined's default is an empty list, meaning "derive from mode".
            data = {key: value for key, value in data.items() if key != "bracket_rungs"}
        return super()._prepare(data)


class PBTReplaceFunction(Section):
    """Each round the worst `truncate_fraction` of the population become copies of the best."""

    truncate_fraction: float = Field(gt=0, le=0.5)


class PBTExploreFunction(Section):
    """How a copied trial's hyperparameters change: resampled, or scaled by 1 ± `perturb_factor`."""

    resample_probability: float = Field(ge=0, le=1)
    perturb_factor: float = Field(ge=0, le=1)


class PBTSearcherConfig(_SearcherBase):
    """Population-based training: `num_rounds` rounds of `length_per_round` each."""

    name: Literal["pbt"] = "pbt"
    population_size: int = Field(ge=1)
    num_rounds: int = Field(ge=1)
    length_per_round: Length
    replace_function: PBTReplaceFunction
    explore_function: PBTExploreFunction
    sampler: SamplerName = "uniform"

    length_rule: ClassVar[LengthRule] = "forbidden"


_CLASS_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class CustomSearcherConfig(_SearcherBase):
    """A user `Searcher` subclass, `searcher_class: "pkg.module:Class"`, built with `options`."""

    name: Literal["custom"] = "custom"
    searcher_class: str
    options: dict[str, Any] = Field(default_factory=dict)

    length_rule: ClassVar[LengthRule] = "optional"

    @classmethod
    def _prepare(cls, data: Any) -> tuple[Any, list[Problem]]:
        data, problems = super()._prepare(data)
        path = data.get("searcher_class") if isinstance(data, dict) else None
        if isinstance(path, str) and not _CLASS_PATH.match(path):
            rule = f"must look like 'package.module:ClassName', got {show(path)}"
            problems.append(Problem(("searcher_class",), rule, path))
        return data, problems


SearcherConfig = Annotated[
    (
        SingleSearcherConfig
        | GridSearcherConfig
        | RandomSearcherConfig
        | SyncHalvingSearcherConfig
        | AsyncHalvingSearcherConfig
        | AdaptiveASHASearcherConfig
        | PBTSearcherConfig
        | CustomSearcherConfig
    ),
    Field(discriminator="name"),
]
"""Any searcher config; match on the class or on `.name`."""

_METHODS: dict[str, type[_SearcherBase]] = {
    "single": SingleSearcherConfig,
    "grid": GridSearcherConfig,
    "random": RandomSearcherConfig,
    "pbt": PBTSearcherConfig,
    "sync_halving": SyncHalvingSearcherConfig,
    "async_halving": AsyncHalvingSearcherConfig,
    "adaptive_asha": AdaptiveASHASearcherConfig,
    "custom": CustomSearcherConfig,
}
SEARCHER_NAMES: tuple[str, ...] = tuple(_METHODS)


def validate_searcher(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Pick the searcher model by `name` and validate with it (wrap validator of `searcher`).

    Dispatching by hand keeps the method name out of error paths: `searcher.divisor`, not
    `searcher.adaptive_asha.divisor`.
    """
    if isinstance(value, _SearcherBase):
        return value
    if value is None:
        raise _problem((), "required", value)
    if not isinstance(value, dict):
        raise _problem((), f"must be a map with a name and a metric, got {show(value)}", value)
    name = value.get("name")
    if name is None:
        raise _problem(("name",), f"required (one of {', '.join(SEARCHER_NAMES)})", None)
    model = _METHODS.get(name) if isinstance(name, str) else None
    if model is None:
        rule = f"must be one of {', '.join(SEARCHER_NAMES)}, got {show(name)}"
        raise _problem(("name",), rule, name)
    return model.model_validate(value)


def _problem(loc: tuple[str, ...], message: str, value: object) -> ValidationError:
    return ValidationError.from_exception_data(
        "searcher", problem_details([Problem(loc, message, value)])
    )
