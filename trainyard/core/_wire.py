"""JSON encoding of metrics: non-finite floats travel as "NaN" / "Infinity" / "-Infinity"."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trainyard.core._errors import CoreUsageError

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def encode_float(value: float) -> float | str:
    """`value` itself when finite, else its wire string."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def decode_float(value: Any) -> float:
    """Inverse of `encode_float` (numbers pass through)."""
    if isinstance(value, str):
        return _NON_FINITE[value]
    return float(value)


def to_float(name: str, value: Any) -> float:
    """Coerce a reported metric (int, float, numpy or torch scalar) to float, or say why not."""
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CoreUsageError(
            f"metric {name!r} is {type(value).__name__} {value!r:.60}; report a number"
        ) from None


def encode_metrics(metrics: Mapping[str, Any]) -> dict[str, float | str]:
    """Check names and values of one metrics report and encode it for the wire."""
    encoded: dict[str, float | str] = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name:
            raise CoreUsageError(f"metric name {name!r} must be a non-empty string")
        encoded[name] = encode_float(to_float(name, value))
    return encoded


def describe_report(group: str, steps: int, metrics: Mapping[str, float | str]) -> str:
    """One log line for a report: `validation steps=100 loss=0.25 acc=0.9`."""
    shown = " ".join(
        f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in metrics.items()
    )
    return f"{group} steps={steps} {shown}"
