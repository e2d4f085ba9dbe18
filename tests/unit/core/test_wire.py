"""Metric values on the wire: non-finite floats as strings, everything else checked."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from trainyard.core import CoreUsageError
from trainyard.core._wire import decode_float, encode_float, encode_metrics


@pytest.mark.parametrize(
    ("value", "wire"),
    [(math.nan, "NaN"), (math.inf, "Infinity"), (-math.inf, "-Infinity"), (1.5, 1.5), (-0.0, -0.0)],
)
def test_encode_and_decode_round_trip(value: float, wire: float | str) -> None:
    assert encode_float(value) == wire
    back = decode_float(encode_float(value))
    assert (math.isnan(back) and math.isnan(value)) or back == value


def test_encoded_metrics_are_strict_json() -> None:
    encoded = encode_metrics(
        {"loss": math.nan, "acc": np.float32(0.5), "n": 3, "t": torch.tensor(2.0), "ok": True}
    )
    assert json.loads(json.dumps(encoded, allow_nan=False)) == {
        "loss": "NaN",
        "acc": 0.5,
        "n": 3.0,
        "t": 2.0,
        "ok": 1.0,
    }


def test_non_numeric_metric_names_the_metric() -> None:
    with pytest.raises(CoreUsageError, match="metric 'name' is str 'resnet'; report a number"):
        encode_metrics({"name": "resnet"})


def test_empty_metric_name_is_refused() -> None:
    with pytest.raises(CoreUsageError, match="non-empty string"):
        encode_metrics({"": 1.0})
