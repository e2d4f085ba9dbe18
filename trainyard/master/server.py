"""Run a master: `trainyard master up` and `python -m trainyard.master.server`.

    python -m trainyard.master.server --data-dir /tmp/ty --port 0

`--port 0` picks a free port. Once the master answers, its URL is printed
(`Trainyard master listening on http://...`) and written to `<data_dir>/master_url`, which is how
the embedded mode of `trainyard run` and the test fixtures find it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from trainyard.master.app import create_app
from trainyard.master.db import Database
from trainyard.master.db.database import ensure_private_dir
from trainyard.master.settings import MasterSettings, load_master_settings

__all__ = ["main", "serve", "settings_from_options"]

_GRACEFUL_SHUTDOWN_S = 5
"""How long open requests (log follows, long polls) may finish once the runtime has stopped."""
_GC_THRESHOLDS = (50_000, 20, 20)
"""Cyclic-GC thresholds once serving (Python's defaults are (700, 10, 10))."""


def settings_from_options(
    config: Path | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    db_url: str | None = None,
    data_dir: Path | None = None,
) -> MasterSettings:
    """Settings from an optional `master.yaml`, the environment and command-line overrides."""
    return load_master_settings(config, host=host, port=port, db_url=db_url, data_dir=data_dir)


def serve(settings: MasterSettings) -> None:
    """Serve until interrupted (SIGINT/SIGTERM stop the runtime cleanly via the lifespan).

    The schema is checked and migrated before the server starts, so a database problem (a newer
    schema, a bad URL) is one `TrainyardError` line instead of a failed startup traceback.
    """
    ensure_private_dir(settings.data_dir)  # the DB, admin token and checkpoints: owner only
    db = Database(settings.db_url)
    try:
        db.migrate()
    finally:
        db.dispose()
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as err:
        from trainyard.errors import TrainyardError

        raise TrainyardError(
            f"cannot listen on {settings.host}:{settings.port} ({err.strerror}); "
            "pick another --port or stop the process using it"
        ) from None
    port = sock.getsockname()[1]
    if port != settings.port:
        settings = settings.model_copy(update={"port": port})
    url_file = settings.data_dir / "master_url"

    def announce_ready() -> None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Written to a temporary name and renamed, so a reader never sees an empty file.
        partial = url_file.with_name(url_file.name + ".partial")
        partial.write_text(settings.url + "\n")
        partial.replace(url_file)
        print(f"Trainyard master listening on {settings.url}", flush=True)

    def announce_gone() -> None:
        url_file.unlink(missing_ok=True)

    app = create_app(settings)

    def stop_runtime() -> None:
        # Stop trials while the API still serves them, so they can checkpoint and report; the
        # lifespan's own stop() afterwards finds nothing left to do.
        ctx = getattr(app.state, "ctx", None)
        if ctx is not None:
            ctx.service.stop()

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
    )
    server = _AnnouncingServer(config, announce_ready, announce_gone, stop_runtime)
    try:
        server.run(sockets=[sock])
    finally:
        announce_gone()


class _AnnouncingServer(uvicorn.Server):
    """Calls `on_ready` once serving, `before_shutdown` (in a thread, while still serving) when
    asked to stop, and `on_gone` after shutdown (uvicorn re-raises SIGTERM after its shutdown,
    which ends the process before any `finally` of the caller runs)."""

    def __init__(
        self,
        config: uvicorn.Config,
        on_ready: Callable[[], None],
        on_gone: Callable[[], None],
        before_shutdown: Callable[[], None],
    ) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        self._on_gone = on_gone
        self._before_shutdown = before_shutdown

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            # What start-up built (modules, the app, the DB engine) lives as long as the master:
            # keep it out of the cyclic collector's sweeps, and sweep less often (requests make
            # many short-lived objects, few cycles).
            gc.freeze()
            gc.set_threshold(*_GC_THRESHOLDS)
            self._on_ready()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await asyncio.to_thread(self._before_shutdown)
            await super().shutdown(sockets)
        finally:
            self._on_gone()


def main(argv: list[str] | None = None) -> None:
    """Command line of `python -m trainyard.master.server` (same options as `master up`)."""
    parser = argparse.ArgumentParser(prog="trainyard-master", description=__doc__)
    parser.add_argument("--config", type=Path, default=None, help="master.yaml")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    serve(
        settings_from_options(
            args.config,
            host=args.host,
            port=args.port,
            db_url=args.db_url,
            data_dir=args.data_dir,
        )
    )


if __name__ == "__main__":
    from trainyard.errors import TrainyardError

    try:
        main()
    except TrainyardError as err:
        import sys

        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        pass
