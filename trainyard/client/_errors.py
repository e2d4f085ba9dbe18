"""Errors the SDK raises, all `TrainyardError`s whose message is the server's one line.

A `404` becomes `NotFoundError`, a `409` `InvalidTransitionError`, a `400` `ConfigError`, as the
server's exception handler produced them; the rest have their own classes here.
"""

from __future__ import annotations

from trainyard.errors import ConfigError, InvalidTransitionError, NotFoundError, TrainyardError

__all__ = [
    "APIError",
    "AuthenticationError",
    "MasterUnreachableError",
    "ModelDirTooLargeError",
    "error_for_status",
]


class APIError(TrainyardError):
    """The master answered with an error that has no more specific class; `.status` holds it."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationError(APIError):
    """The token is missing, unknown (401) or not allowed on this route (403)."""


class ModelDirTooLargeError(APIError):
    """The model directory tarball is over the master's size limit (413)."""


class MasterUnreachableError(TrainyardError):
    """No master answers at the configured address."""


def error_for_status(status: int, detail: str) -> TrainyardError:
    """The `TrainyardError` an answer with `status` and `{"detail": detail}` stands for."""
    if status == 404:
        return NotFoundError(detail)
    if status == 409:
        return InvalidTransitionError(detail)
    if status in (400, 422):
        return ConfigError(detail)
    if status in (401, 403):
        return AuthenticationError(detail, status)
    if status == 413:
        return ModelDirTooLargeError(detail, status)
    return APIError(detail, status)
