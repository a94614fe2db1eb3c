"""The matching package's commands of the ``greenmatch`` command line: ``greenmatch match run``
(registered by the app factory through :func:`greenmatch.cli.register_commands`)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from greenmatch.errors import ApiError

from .runs import full_rematch


@click.group("match", help="Matching of projects and products.")
def match_cli() -> None:
    pass


@match_cli.command("run")
@with_appcontext
def match_run() -> None:
    """Re-match every approved project against every published product (replaces results atomically)."""
    with click.progressbar(length=1, label="Matching", show_percent=True, show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        try:
            run = full_rematch(triggered_by="cli", progress=progress, parallel=current_app.config.get(
                "MATCH_CLI_PARALLEL", True))
        except ApiError as exc:  # another run is still running
            raise click.ClickException(exc.message) from exc
    click.echo(f"run {run.id} {run.status}: {run.pairs_considered} pairs considered, "
               f"{run.matches_written} matches written in {run.duration_ms} ms")
