"""`trainyard.searcher` exports exactly the names we mean to support."""

from __future__ import annotations

import trainyard.searcher as searcher

EXPECTED = {
    # operations and events
    "Create",
    "ValidateAfter",
    "Stop",
    "Close",
    "Shutdown",
    "Operation",
    "ExitedReason",
    # the interface, the user base class, the config → searcher mapping, spaces
    "Searcher",
    "CustomSearcher",
    "make_searcher",
    "HParamSpace",
    # how new trials' hyperparameters are drawn
    "HParamSampler",
    "UniformSampler",
    "TPESampler",
    # methods
    "SingleSearch",
    "GridSearch",
    "RandomSearch",
    "SyncHalving",
    "AsyncHalving",
    "AsyncHalvingStopping",
    "AdaptiveASHA",
    "PBT",
    # simulation and preview
    "simulate",
    "simulate_searcher",
    "SimulationResult",
    "SimulatedTrial",
    "preview_search",
    "SearchPreview",
    "BracketPreview",
    "RungPreview",
}


def test_all_is_exactly_the_public_surface() -> None:
    assert set(searcher.__all__) == EXPECTED
    assert len(searcher.__all__) == len(EXPECTED), "no duplicates"
    for name in searcher.__all__:
        assert getattr(searcher, name) is not None


def test_every_method_is_a_searcher() -> None:
    methods = [
        searcher.SingleSearch,
        searcher.GridSearch,
        searcher.RandomSearch,
        searcher.SyncHalving,
        searcher.AsyncHalving,
        searcher.AsyncHalvingStopping,
        searcher.AdaptiveASHA,
        searcher.PBT,
        searcher.CustomSearcher,
    ]
    assert all(issubclass(m, searcher.Searcher) for m in methods)
