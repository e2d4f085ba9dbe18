"""The master's runtime: searchers, scheduling loop, allocations, exits, actions, recovery, GC.

`Master` (in `service.py`) is the one object the API uses; see its docstring. Modules:
`_searchers` (the one place searcher operations are applied), `_loop` (scheduling loop),
`_allocations` (starting processes), `_exits` (exits and restarts), `_actions` (experiment and
trial actions), `_recovery` (start-up after a crash), `_gc` (checkpoint GC), `_trial_calls`
(trial-facing handlers), `_cluster` (cluster view).
"""

from trainyard.master.runtime.service import Master

__all__ = ["Master"]
