"""What a simulation needs from an experiment config and its searcher."""

from __future__ import annotations

from typing import Any

from trainyard.config import ExperimentConfig, load_experiment_config, searcher_max_length
from trainyard.searcher._adaptive import AdaptiveASHA
from trainyard.searcher._base import Searcher
from trainyard.searcher._halving import HalvingBase


def resolve_config(config: Any) -> ExperimentConfig:
    """Return an `ExperimentConfig`: `config` itself if it already is one, else loaded from it.

    Anything `trainyard.config.load_experiment_config` takes is accepted (a `Path`, YAML text, a
    dict; a `str` is always text); bad input raises its `ConfigError`.
    """
    if isinstance(config, ExperimentConfig):
        return config
    return load_experiment_config(config)


def report_lengths(config: ExperimentConfig, searcher: Searcher) -> list[int] | None:
    """Lengths at which a trial of a trial-driven search reports, or None for searcher-driven ones.

    In a trial-driven search (`time_metric` + `max_time`) each trial trains towards `max_time` and
    the searcher decides from the validations reported on the way. A halving search gets a report
    at each of its rung lengths (every bracket's, for adaptive ASHA), which is all it looks at;
    any other search one at every 1% of `max_time`.
    """
    max_time = searcher_max_length(config)
    if config.searcher.time_metric is None or max_time is None:
        return None
    if isinstance(searcher, AdaptiveASHA):
        return sorted({length for b in searcher.brackets for length in b.rung_lengths})
    if isinstance(searcher, HalvingBase):
        return list(searcher.rung_lengths)
    step = max(1, max_time // 100)
    return [*range(step, max_time, step), max_time]
