"""What every command shares: the client, JSON output, Rich tables, small formatters."""

from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from trainyard.client import Client

__all__ = [
    "JSON_OPTION",
    "CliState",
    "console",
    "err_console",
    "fmt_metric",
    "fmt_time",
    "get_client",
    "print_json",
    "state",
    "table",
]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")


@dataclass
class CliState:
    """Global options, set by the top-level callback."""

    master: str | None = None
    debug: bool = False
    client: Client | None = None


state = CliState()


def get_client() -> Client:
    """The SDK client for `--master`/TRAINYARD_MASTER and the token from the environment."""
    if state.client is None:
        state.client = Client.from_env(state.master)
    return state.client


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def print_json(value: Any) -> None:
    """Machine-readable output: always valid JSON on stdout (non-finite floats as strings)."""
    typer.echo(json.dumps(to_jsonable(value), indent=2, sort_keys=False))


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    out = Table(title=title, title_justify="left", show_lines=False)
    for col in columns:
        out.add_column(col, overflow="fold")
    for row in rows:
        out.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(out)


def fmt_metric(value: float | str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:.4g}"


def fmt_time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
