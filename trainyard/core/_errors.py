"""Errors the Core API raises on purpose (all `TrainyardError`s, one-line messages)."""

from __future__ import annotations

from trainyard.errors import TrainyardError


class CoreUsageError(TrainyardError):
    """The Core API was called in a way it does not support (the message says how to fix it)."""


class MasterError(TrainyardError):
    """The master refused a request or could not be reached after retrying."""


class InvalidHP(TrainyardError):  # the name Determined users already know
    """Raise inside `core.init()` when the hyperparameters cannot work (e.g. out of memory).

    The context reports an early exit with reason `invalid_hp` and swallows the exception, so the
    process exits 0 and the searcher replaces the trial instead of counting it as failed.
    """
