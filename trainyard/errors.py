"""The one exception tree of Trainyard.

Every error we raise on purpose derives from `TrainyardError`; its message is one line that says
what was wrong and what to do. The CLI's `main` and the API's exception handler are the only places
that catch it and turn it into output.
"""


class TrainyardError(Exception):
    """Base of every error Trainyard raises on purpose; `str(err)` is the user-facing message."""


class ConfigError(TrainyardError):
    """An experiment or master config is invalid; the message lists every problem, one per line."""


class CheckpointError(TrainyardError):
    """A checkpoint is missing, partial or corrupt (its manifest does not match its files)."""


class NotFoundError(TrainyardError):
    """A named object (experiment, trial, checkpoint, ...) does not exist."""


class InvalidTransitionError(TrainyardError):
    """A lifecycle action is not allowed in the object's current state."""
