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
@click.option("--password", required=True, help="At least 10 characters.")
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


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
