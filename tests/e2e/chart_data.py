"""Reading the HPO page's packed learning curves back into per-trial curves.

The chart draws all trials as a few `scattergl` traces, trials separated by `null`, each point's
trial id in `customdata`. `curves_by_trial` splits them and checks the packing on the way: a
segment belongs to one trial, and no trial appears in two segments or two traces.
"""

from __future__ import annotations

from typing import Any

__all__ = ["curves_by_trial"]


def curves_by_trial(traces: list[dict[str, Any]]) -> dict[int, tuple[str, list[tuple[Any, Any]]]]:
    """{trial id: (name of its trace, [(x, y), ...])} from the drawn learning-curve traces."""
    out: dict[int, tuple[str, list[tuple[Any, Any]]]] = {}
    for trace in traces:
        segment: list[tuple[Any, Any]] = []
        ids: set[int] = set()
        for x, y, tid in [
            *zip(trace["x"], trace["y"], trace["customdata"], strict=True),
            (None,) * 3,
        ]:
            if x is not None:
                segment.append((x, y))
                ids.add(tid)
                continue
            assert tid is None and y is None, "a separator carries no trial and no value"
            if not segment:
                continue
            assert len(ids) == 1, f"one segment mixes trials {sorted(ids)}"
            (trial,) = ids
            assert trial not in out, f"trial {trial} is drawn twice"
            out[trial] = (trace["name"], segment)
            segment, ids = [], set()
    return out
