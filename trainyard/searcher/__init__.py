"""Search methods as pure, replayable state machines: events in, operations out.

    searcher = make_searcher(config)            # or e.g. AsyncHalving(space, max_length=..., ...)
    ops = searcher.initial_operations()         # Create / ValidateAfter / Stop / Close / Shutdown
    ops = searcher.on_validation_completed(request_id, metric, length)
    saved = searcher.snapshot()                 # JSON-safe; restore(saved) continues bit-for-bit

`simulate` plays a search against simulated slots; `preview_search` summarises what it will do.
"""

from trainyard.searcher._adaptive import AdaptiveASHA
from trainyard.searcher._asha import AsyncHalving
from trainyard.searcher._asha_stopping import AsyncHalvingStopping
from trainyard.searcher._base import Searcher
from trainyard.searcher._custom import CustomSearcher
from trainyard.searcher._factory import make_searcher
from trainyard.searcher._grid import GridSearch
from trainyard.searcher._ops import (
    Close,
    Create,
    ExitedReason,
    Operation,
    Shutdown,
    Stop,
    ValidateAfter,
)
from trainyard.searcher._pbt import PBT
from trainyard.searcher._preview import (
    BracketPreview,
    RungPreview,
    SearchPreview,
    preview_search,
)
from trainyard.searcher._random import RandomSearch, SingleSearch
from trainyard.searcher._sampler import HParamSampler, TPESampler, UniformSampler
from trainyard.searcher._sha import SyncHalving
from trainyard.searcher._simulate import (
    SimulatedTrial,
    SimulationResult,
    simulate,
    simulate_searcher,
)
from trainyard.searcher._space import HParamSpace

__all__ = [
    "PBT",
    "AdaptiveASHA",
    "AsyncHalving",
    "AsyncHalvingStopping",
    "BracketPreview",
    "Close",
    "Create",
    "CustomSearcher",
    "ExitedReason",
    "GridSearch",
    "HParamSampler",
    "HParamSpace",
    "Operation",
    "RandomSearch",
    "RungPreview",
    "SearchPreview",
    "Searcher",
    "Shutdown",
    "SimulatedTrial",
    "SimulationResult",
    "SingleSearch",
    "Stop",
    "SyncHalving",
    "TPESampler",
    "UniformSampler",
    "ValidateAfter",
    "make_searcher",
    "preview_search",
    "simulate",
    "simulate_searcher",
]
