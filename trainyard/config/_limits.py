"""The size limits every experiment config must stay within, in one place.

They bound what one request can cost the master: reading, parsing and storing a config, and
planning or previewing its search. Every limit is refused with one line that names it, so a
user sees which one was hit and what to change.
"""

from __future__ import annotations

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DESCRIPTION_CHARS",
    "MAX_EXPANDED_BYTES",
    "MAX_INT",
    "MAX_NAME_CHARS",
    "MAX_PLANNED_TRIALS",
    "MAX_PREVIEW_TRIALS",
    "MAX_RUNGS",
    "MAX_TRIALS_AT_ONCE",
    "MAX_YAML_DEPTH",
    "MIN_INT",
    "fmt_bytes",
]

MAX_CONFIG_BYTES = 1_000_000
"""Config text, UTF-8 encoded."""

MAX_EXPANDED_BYTES = 1_000_000
"""The parsed config with every YAML alias expanded (about its size written out as JSON)."""

MAX_YAML_DEPTH = 64
"""Nesting of maps and lists, aliases expanded."""

MAX_NAME_CHARS = 255
"""`name`, as the experiment name column and the web UI can show it."""

MAX_DESCRIPTION_CHARS = 10_000
"""`description`."""

MIN_INT = -(2**63)
MAX_INT = 2**63 - 1
"""Every integer of a config (outside `data`) must fit a signed 64-bit database column."""

MAX_RUNGS = 64
"""Brackets and rungs per bracket in `searcher.bracket_rungs` (a rung ladder longer than 64
would need lengths past 2^63 with any divisor >= 2)."""

MAX_PLANNED_TRIALS = 100_000
"""Trials one search may plan (grid points, `max_trials`, PBT's population x rounds)."""

MAX_TRIALS_AT_ONCE = 1_000
"""Default of the master's `max_trials_at_once`: trials a search may create in one step
(`max_concurrent_trials`, 0 meaning all of them, or PBT's population); the master creates them
in one transaction while the request waits. Simulations have no such bound."""

MAX_PREVIEW_TRIALS = 20_000
"""Trials a preview may simulate one by one; random, grid and single searches are previewed
without simulation, so only halving searches and PBT are held to it."""


def fmt_bytes(size: int) -> str:
    """`1_500_000` → `1.5 MB`; small sizes in bytes."""
    if size < 10_000:
        return f"{size} bytes"
    return f"{size / 1e6:.1f} MB"
