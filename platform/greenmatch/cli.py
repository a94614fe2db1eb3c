"""The core's commands of the ``greenmatch`` command line (users, scheduler, worker).

The packages above the core bring their own groups (``greenmatch.matching.cli``: ``match``;
``greenmatch.catalog.demo``: ``seed``), which the app factory hands to :func:`register_commands`; the
console script itself is ``greenmatch.app:main``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from .errors import ApiError


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


def register_commands(app: Flask, *groups: click.Command) -> None:
    """The core's commands and ``groups``, those of the packages above it."""
    for group in (users_cli, scheduler_cli, *groups):
        app.cli.add_command(group)
    app.cli.add_command(worker)
