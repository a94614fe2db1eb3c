"""Server-rendered pages (session login with CSRF): one blueprint ``web``, one module per audience.

* :mod:`.views` — everyone: home, public catalogue, login, registration, language, inbox
* :mod:`.enterprise` — my projects, the financing-need form, a project's page
* :mod:`.bureau` — review queue and review, the jurisdiction's catalogue (Excel), statistics
* :mod:`.institution` — products, leads, engagements (shared with enterprises)
* :mod:`.admin` — verification, users, matching runs

Pages call the services (catalog, products, matching, accounts); service errors become pages,
redirects or flash messages (:mod:`.errors`), never a 500.
"""

from flask import Flask


def init_web(app: Flask) -> None:
    from ..errors import ErrorPages, set_error_pages
    from ..extensions import login_manager
    from . import admin, bureau, enterprise, errors, formatting, i18n, institution, views  # noqa: F401

    i18n.install(app)
    set_error_pages(app, ErrorPages(errors.error_page, errors.server_error_page))  # browsers' errors get pages

    app.register_blueprint(views.bp)
    formatting.register(app)

    @app.context_processor
    def _page_context():
        return {"unread_notifications": views.unread_count}

    login_manager.login_view = "web.login"
    login_manager.login_message = None
