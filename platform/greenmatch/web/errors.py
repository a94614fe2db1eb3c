"""Error pages for browsers (the API answers JSON).

Services raise :class:`~greenmatch.errors.ApiError` subclasses. On pages they become: not signed in →
the login page (coming back afterwards); forbidden → a 403 page; not found → a 404 page; conflict or
invalid → a flash message on the page the user came from. Never a 500 for a user's mistake.
HTTP errors of pages (404, 405, 413 ...) get :func:`error_page`, unexpected errors :func:`server_error_page`:
:func:`~greenmatch.web.init_web` installs both in the core (``greenmatch.errors.set_error_pages``).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from ..errors import ApiError, Conflict, Forbidden, Invalid, NotAuthenticated, NotFound
from ..guard import BadRequest
from ..text import render


def server_error_page():
    return render_template("errors/500.html"), 500


def error_page(status: int, title: str | None = None, message: str | None = None):
    titles = {
        400: _("The request could not be processed"),
        403: _("You are not allowed to see this page"),
        404: _("Page not found"),
        405: _("This action is not available here"),
        409: _("This could not be done"),
        413: _("The file is too large"),
        422: _("Some information is not valid"),
        429: _("Too many attempts"),
    }
    texts = {
        400: _("The form may have expired or its security token is missing. Go back, reload the page and try "
               "again."),
        403: _("Your account does not give access to this page. If you think it should, contact the platform "
               "team."),
        404: _("The page or record does not exist, or it is not visible to your organisation."),
        405: _("Use the buttons on the page to perform this action."),
        413: _("Upload a smaller file."),
        429: _("Please wait a minute before trying again."),
    }
    return render_template("errors/error.html", status=status, title=title or titles.get(status, _("Error")),
                           message=message or texts.get(status, "")), status


def _back(default: str = "web.home") -> str:
    target = request.referrer
    if target and target.startswith(request.host_url):
        return target
    return url_for(default)


def register_blueprint(bp: Blueprint) -> None:
    """Handlers of service errors raised by page views (once, when the blueprint is defined)."""

    @bp.errorhandler(NotAuthenticated)
    def _not_authenticated(exc: NotAuthenticated):
        flash(_("Please log in to continue."), "info")
        return redirect(url_for("web.login", next=request.full_path if request.method == "GET" else None))

    @bp.errorhandler(Forbidden)
    def _forbidden(exc: Forbidden):
        return error_page(403, message=render(exc.message))

    @bp.errorhandler(NotFound)
    def _not_found(exc: NotFound):
        return error_page(404)

    @bp.errorhandler(Conflict)
    @bp.errorhandler(Invalid)
    def _conflict(exc: ApiError):
        if request.method == "GET":
            return error_page(exc.status, message=render(exc.message))
        flash(render(exc.message), "warning")
        return redirect(_back())

    @bp.errorhandler(BadRequest)
    def _bad_request(exc: BadRequest):  # refused by the request guard: control characters, broken JSON
        return error_page(400, message=exc.message)

    @bp.errorhandler(ValidationError)
    def _invalid(exc: ValidationError):
        return error_page(422, message=_("Some information is not valid."))
