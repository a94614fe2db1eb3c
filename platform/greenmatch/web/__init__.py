"""Server-rendered pages (session login with CSRF)."""

from flask import Flask


def init_web(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)
    from ..extensions import login_manager

    login_manager.login_view = "web.login"
