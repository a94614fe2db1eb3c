"""The ``greenmatch`` command: the app's Flask CLI plus GreenMatch commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from .errors import ApiError


def main() -> None:
    from .app import create_app

    FlaskGroup(create_app=create_app, help="GreenMatch platform commands.").main()


@click.group("users", help="Manage user accounts.")
def users_cli() -> None:
    pass


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True, help="At least 10 characters, not common or trivial (docs/security.md).")
@click.option("--role", type=click.Choice(["admin", "bureau"]), required=True)
@click.option("--org-name", required=True, help="Organisation name (a bureau or the platform operator).")
@click.option("--region", default=None, help="GB/T 2260 code; a bureau's jurisdiction (required for bureaus).")
@with_appcontext
def create_user(email: str, password: str, role: str, org_name: str, region: str | None) -> None:
    """Create an admin or bureau account and print its id."""
    from .accounts.service import create_staff_user

    try:
        user = create_staff_user(email, password, role, org_name, region)
    except ApiError as exc:
        raise click.UsageError(exc.message) from exc
    click.echo(user.id)


@click.group("match", help="Matching of projects and products.")
def match_cli() -> None:
    pass


@match_cli.command("run")
@with_appcontext
def match_run() -> None:
    """Re-match every approved project against every published product (replaces results atomically)."""
    from flask import current_app

    from greenmatch.matching.runs import full_rematch

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


@click.group("scheduler", help="The one scheduler process.")
def scheduler_cli() -> None:
    pass


@scheduler_cli.command("run")
@click.option("--run-for", type=float, default=None, help="Stop after this many seconds (smoke tests).")
@with_appcontext
def scheduler_run(run_for: float | None) -> None:
    """Run nightly re-matching, engagement expiry and weekly digests (start exactly one)."""
    from flask import current_app

    from . import scheduler

    scheduler.run(current_app._get_current_object(), run_for)


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.option("--concurrency", type=int, default=1, show_default=True, help="Jobs executed at once.")
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker(concurrency: int, celery_args: tuple[str, ...]) -> None:
    """Execute queued long work (full re-match runs) from the Celery queue in Redis (GREENMATCH_REDIS_URL);
    further arguments go to ``celery worker``."""
    from flask import current_app

    from . import jobs

    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.UsageError("set GREENMATCH_REDIS_URL: the worker reads its jobs from Redis")
    celery = jobs.celery_app(app)
    celery.worker_main(["worker", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=prefork",
                        "--queues=greenmatch", *celery_args])


def register_commands(app: Flask) -> None:
    from .catalog.demo import seed_cli

    for group in (users_cli, match_cli, scheduler_cli, seed_cli):
        app.cli.add_command(group)
    app.cli.add_command(worker)
