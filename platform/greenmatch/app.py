"""The application factory, and the ``greenmatch`` console script (:func:`main`). Creating an app never starts
a scheduler and never touches the network.

The factory wires the layers together: it is the one module of the core that imports the packages
above it (their models, blueprints, commands and scheduled jobs; the web UI), see README "Layers"."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import flask_babel
from flask import Flask, request, session
from flask_login import current_user

from . import config as config_module
from . import guard, security
from . import migrations as _migrations
from .api import Api, IdConverter
from .errors import register_error_handlers
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .instruments import load_plugins
from .log import configure_logging

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent
# The migrations travel inside the package (greenmatch.migrations, mapped from migrations/ in setup.cfg),
# so an installed wheel finds them as well as a source checkout does.
MIGRATIONS_DIR = Path(_migrations.__file__).resolve().parent
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _instance_path() -> str | None:
    if os.environ.get("GREENMATCH_INSTANCE_PATH"):
        return os.environ["GREENMATCH_INSTANCE_PATH"]
    if (REPO_DIR / "setup.cfg").exists():  # a source checkout: keep instance/ at its root
        return str(REPO_DIR / "instance")
    return None


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask("greenmatch", instance_path=_instance_path(), instance_relative_config=True)
    config_module.load_config(app, config)
    configure_logging(app)
    guard.install(app)  # NUL, control characters, lone surrogates, deep JSON: 400/422 before anything else
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    # each request chooses its language afresh, also when an app context outlives one request (tests, jobs)
    app.before_request(flask_babel.refresh)
    if app.config.get("REDIS_URL"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    limiter.init_app(app)
    security.init_app(app)  # the login limiter, response headers

    _load_instruments(app)
    register_error_handlers(app)
    _register_models()
    _register_blueprints(app)
    _register_cli(app)
    return app


def _load_instruments(app: Flask) -> None:
    from .rules_settings import EXTENSION_KEY, RuleSettings, configure_plugins

    result = load_plugins(app.config["INSTRUMENTS"])
    # Deployment overrides of thresholds (RULES, PLUGIN_SETTINGS); a bad override stops start-up.
    # One RuleSettings per app: catalog.service.rule_settings() returns it, so its screening memo is reused.
    rules = RuleSettings.from_config(app.config)
    configure_plugins(result.plugins, app.config, rules)
    app.extensions[EXTENSION_KEY] = rules
    for key, error in result.errors.items():
        app.logger.error("instrument plugin %s not loaded: %s", key, error)
    app.extensions["greenmatch.instruments"] = result


def _register_models() -> None:
    # Importing the model modules registers their tables, permission policies and scheduled jobs.
    from . import permissions, scheduler  # noqa: F401
    from .accounts import models  # noqa: F401
    from .catalog import models as catalog_models  # noqa: F401
    from .catalog import policy  # noqa: F401
    from .matching import demand, demo_steps, engagements, queries, receivers, runs, scheduled  # noqa: F401
    from .matching import models as matching_models  # noqa: F401
    from .products import models as product_models  # noqa: F401
    from .products import policy as product_policy  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from . import health
    from .accounts.views import blp as accounts_blp
    from .catalog.io_views import blp as catalog_io_blp
    from .catalog.views import blp as catalog_blp
    from .matching.demand_views import blp as demand_blp
    from .matching.views import blp as matching_blp
    from .products.views import blp as products_blp

    app.url_map.converters["int"] = IdConverter  # every <int:...> of a rule is an id
    api = Api(app)
    app.extensions["greenmatch.api"] = api
    for blp in (accounts_blp, catalog_blp, catalog_io_blp, products_blp, matching_blp, demand_blp):
        api.register_blueprint(blp)
        csrf.exempt(blp)
    app.register_blueprint(health.bp)

    @app.before_request
    def _csrf_for_session_api_calls() -> None:
        # The API takes bearer tokens (no CSRF risk) or the page session (then a CSRF token is required).
        if (request.path.startswith("/api/") and request.method not in SAFE_METHODS
                and "Authorization" not in request.headers and current_user.is_authenticated):
            csrf.protect()

    from .web import init_web

    init_web(app)


def _register_cli(app: Flask) -> None:
    from .catalog.demo import seed_cli
    from .cli import register_commands
    from .matching.cli import match_cli

    register_commands(app, match_cli, seed_cli)


def main() -> None:
    """The ``greenmatch`` console script: the app's Flask CLI plus GreenMatch commands."""
    from flask.cli import FlaskGroup

    FlaskGroup(create_app=create_app, help="GreenMatch platform commands.").main()


@login_manager.user_loader
def _load_user(user_id: str):
    from .accounts.models import User
    from .accounts.service import live_login
    from .permissions import SESSION_LOGIN_KEY

    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or not live_login(session.get(SESSION_LOGIN_KEY), user.id):
        return None  # a session whose login ended (logout, password change) is anonymous, even if saved
    return user


def select_locale() -> str:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if request.path.startswith("/api/"):  # machine clients: ?lang=, else Accept-Language, default Chinese
        from .api import locale

        return "en" if locale() == "en" else current_app.config["BABEL_DEFAULT_LOCALE"]
    wanted = request.args.get("lang") or session.get("lang")
    if wanted in languages:
        return wanted
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"])
    if best and best.startswith("en"):
        return "en"
    return current_app.config["BABEL_DEFAULT_LOCALE"]
