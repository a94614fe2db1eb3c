"""Configuration: defaults -> instance config file -> GREENMATCH_* environment -> create_app(config).

Settings that matter to an operator:

* ``GREENMATCH_DATABASE_URL``  -> ``SQLALCHEMY_DATABASE_URI`` (default: SQLite file in the instance folder)
* ``GREENMATCH_SECRET_KEY``    -> ``SECRET_KEY`` (default: a random key kept in the instance folder)
* ``GREENMATCH_REDIS_URL``     -> ``REDIS_URL`` (rate-limit and login-limiter storage shared by all workers)
* ``GREENMATCH_ENV=production`` -> ``ENV``: ``Secure`` cookies, https URLs and HSTS (:class:`Production`)
* any other ``GREENMATCH_X``   -> ``X`` (values parsed as JSON when they are JSON, e.g. lists)
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

INSTANCE_CONFIG_FILE = "greenmatch.cfg"
ENV_PREFIX = "GREENMATCH"
# Environment names that differ from the config key they set.
ENV_ALIASES = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "LOG_LEVEL": "GREENMATCH_LOG_LEVEL",
}


class Defaults:
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False
    JSON_SORT_KEYS = False
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # imports of large spreadsheets

    # API and OpenAPI (flask-smorest)
    API_TITLE = "GreenMatch API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "v1/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/static/swagger-ui/"  # vendored, works offline

    # Accounts
    TOKEN_TTL_SECONDS = 12 * 3600
    REGISTER_RATE_LIMIT = "20 per hour"
    # The login limiter (greenmatch.security.limiter, docs/security.md); failures only are counted.
    LOGIN_ACCOUNT_FAILURES = 5  # failures in a row that lock an account
    LOGIN_ACCOUNT_WINDOW_SECONDS = 24 * 3600  # an account's failures are forgotten this long after the last
    LOGIN_LOCK_SECONDS = 60  # the first lock; each further failure locks twice as long ...
    LOGIN_LOCK_MAX_SECONDS = 3600  # ... up to this
    LOGIN_ADDRESS_FAILURES = 20  # failures one address may make per window on any accounts ...
    LOGIN_ADDRESS_WINDOW_SECONDS = 15 * 60
    LOGIN_KNOWN_ADDRESS_DAYS = 30  # ... after which only accounts that signed in from it before may try
    LOGIN_LIMITER_PREFIX = "greenmatch:login"  # Redis key prefix

    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto are trusted (greenmatch.security.headers)
    TRUSTED_PROXIES = 0

    # Rate limiting (Flask-Limiter); storage switches to Redis when REDIS_URL is set.
    REDIS_URL: str | None = None
    RATELIMIT_STORAGE_URI = "memory://"  # per process; set GREENMATCH_REDIS_URL when running several workers
    RATELIMIT_HEADERS_ENABLED = True

    # Long work (greenmatch.jobs): on a Celery queue with Redis as broker when REDIS_URL is set (workers:
    # ``greenmatch worker``), else in a thread of the process that enqueued it. JOBS_EXECUTOR forces
    # "celery" or "thread". A run's worker renews its lease every third of RUN_LEASE_SECONDS; a queued or
    # running run whose lease has expired is marked abandoned.
    JOBS_EXECUTOR: str | None = None
    RUN_LEASE_SECONDS = 60

    # Pages
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True in production (below)
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"

    # Instrument plugins: None = every installed plugin (built-ins first); or an ordered list of keys.
    INSTRUMENTS: list[str] | None = None
    # Overrides of the screening/assessment thresholds and of each plugin's settings.
    RULES: dict[str, Any] = {}
    PLUGIN_SETTINGS: dict[str, dict[str, Any]] = {}

    # Matching weights and limits (greenmatch.matching.settings.MatchSettings field names).
    MATCHING: dict[str, Any] = {}

    # Demand side (matching.demand). Huzhou's 绿贷通 lets the first three banks answer a posted need and
    # gives the chosen bank a week to make contact; both are deployment settings, these are the defaults.
    FINANCING_MAX_OFFERS = 3
    FINANCING_MAX_OFFERS_LIMIT = 10  # the most an enterprise may ask for on one request
    OFFER_CONTACT_DUE_DAYS = 7

    # Scheduler (only the `greenmatch scheduler run` process uses these)
    SCHEDULER_TIMEZONE = "Asia/Shanghai"
    ENGAGEMENT_EXPIRY_DAYS = 14
    SCHEDULE: dict[str, dict[str, Any]] = {}  # cron fields per job, see greenmatch.scheduler

    GREENMATCH_LOG_LEVEL = "INFO"


class Production:
    """What ``ENV = "production"`` (``GREENMATCH_ENV=production``, set by the gunicorn configuration
    ``greenmatch.gunicorn_conf``) changes, unless a setting is given explicitly: the site is served over
    https, so cookies are ``Secure`` and responses carry HSTS."""

    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "greenmatch.db")
    app.config.from_pyfile(INSTANCE_CONFIG_FILE, silent=True)
    _load_env(app)
    if overrides:
        app.config.update(overrides)
    if app.config.get("ENV") == "production":
        for key in dir(Production):
            if key.isupper() and app.config.get(key) == getattr(Defaults, key, None) \
                    and key not in (overrides or {}):
                app.config[key] = getattr(Production, key)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app)


def _load_env(app: Flask) -> None:
    before = dict(app.config)
    app.config.from_prefixed_env(ENV_PREFIX)
    for env_name, key in ENV_ALIASES.items():
        if env_name in app.config and app.config[env_name] != before.get(env_name):
            app.config[key] = app.config.pop(env_name)


def _instance_secret(app: Flask) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts of a dev server."""
    path = Path(app.instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    os.makedirs(app.instance_path, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
