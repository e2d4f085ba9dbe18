"""Predictions from history: run time per trial and per search, queue wait, peak memory.

Pure: records in (`RunRecord`, one per past allocation, as the master stores them), estimates
out (`Estimate`: a value and an 80% interval); no database and no clock inside. The model is an
ensemble of k-nearest neighbours and gradient boosting (`Ensemble`); `bench/predict_backtest.py`
replays a history in time order and compares it with naive baselines.

Example:
    >>> p = Predictor(history, capacity=16)  # doctest: +SKIP
    >>> p.trial_seconds(RunRecord("ann", 7, slots=1, queued_at=0.0, length=1000,
    ...                           hparams={"lr": 0.01}))  # doctest: +SKIP
    Estimate(value=412.0, low=350.2, high=498.7)
"""

from trainyard.predict._ensemble import MIN_ROWS, Ensemble, Estimate
from trainyard.predict._features import ConfigFeatures, QueueState, RunRecord, queue_state
from trainyard.predict._predictor import Predictor
from trainyard.predict._rows import record_from_rows

__all__ = [
    "MIN_ROWS",
    "ConfigFeatures",
    "Ensemble",
    "Estimate",
    "Predictor",
    "QueueState",
    "RunRecord",
    "queue_state",
    "record_from_rows",
]
