"""`trainyard master up`: run the master server in the foreground."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["app"]

app = typer.Typer(help="Run the master server.", no_args_is_help=True)


@app.command()
def up(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="master.yaml")] = None,
    host: str | None = typer.Option(None, help="Listen address (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default 8080; 0 picks a free one)."),
    db_url: str | None = typer.Option(None, help="sqlite:///PATH or postgresql+psycopg://..."),
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory (default ~/.trainyard).")
    ] = None,
) -> None:
    """Start the master (API, web UI, scheduler, local resource manager) until Ctrl-C."""
    # The server is the master package's entry point; the CLI only hands it the options.
    from trainyard.master.server import serve, settings_from_options

    settings = settings_from_options(config, host=host, port=port, db_url=db_url, data_dir=data_dir)
    serve(settings)
