"""The `trainyard` command line (Typer + Rich), built on `trainyard.client`.

Errors are caught in one place (`_Group.invoke`): a `TrainyardError` prints one line on stderr and
exits 1; with `--debug` the traceback is shown instead.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from trainyard.cli import checkpoint, experiment, master_cmd, trial
from trainyard.cli._common import err_console, state
from trainyard.cli.cluster import cluster, preview
from trainyard.cli.run import run
from trainyard.errors import TrainyardError

__all__ = ["app", "main"]


class _Group(TyperGroup):
    """The CLI's one catch site for expected errors."""

    def invoke(self, ctx: Any) -> Any:  # typer vendors click; its Context class is private
        try:
            return super().invoke(ctx)
        except TrainyardError as err:
            if state.debug:
                raise
            err_console.print(f"error: {err}", markup=False, soft_wrap=True)
            raise SystemExit(1) from None
        except KeyboardInterrupt:
            if state.debug:
                raise
            err_console.print("interrupted", markup=False)
            raise SystemExit(130) from None
        except TimeoutError as err:
            if state.debug:
                raise
            err_console.print(f"error: {err}", markup=False, soft_wrap=True)
            raise SystemExit(1) from None
        finally:
            if state.client is not None:
                state.client.close()
                state.client = None


app = typer.Typer(
    cls=_Group,
    help="Trainyard: train, search and schedule deep-learning experiments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _options(
    master: str | None = typer.Option(
        None, "--master", "-m", envvar="TRAINYARD_MASTER", help="Master URL."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks."),
) -> None:
    state.master = master
    state.debug = debug
    state.client = None


app.add_typer(experiment.app, name="experiment")
app.add_typer(experiment.app, name="e", hidden=True)
app.add_typer(trial.app, name="trial")
app.add_typer(checkpoint.app, name="checkpoint")
app.add_typer(master_cmd.app, name="master")
app.command("cluster")(cluster)
app.command("preview")(preview)
app.command("run")(run)


def main() -> None:
    """Entry point of the `trainyard` script."""
    app()
