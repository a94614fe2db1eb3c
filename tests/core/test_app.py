"""The app factory: configuration order, health check, no side effects at creation."""

import socket

import pytest

from greenmatch import create_app


def test_config_order_defaults_env_argument(monkeypatch, tmp_path):
    monkeypatch.setenv("GREENMATCH_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "greenmatch.cfg").write_text("TOKEN_TTL_SECONDS = 111\nLOGIN_LOCK_SECONDS = 9\n")
    monkeypatch.setenv("GREENMATCH_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("GREENMATCH_LOGIN_LOCK_SECONDS", "7")
    monkeypatch.setenv("GREENMATCH_INSTRUMENTS", '["green_credit"]')
    app = create_app({"TOKEN_TTL_SECONDS": 222})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"  # env
    assert app.config["LOGIN_LOCK_SECONDS"] == 7  # env beats instance file
    assert app.config["TOKEN_TTL_SECONDS"] == 222  # argument beats instance file
    assert app.config["INSTRUMENTS"] == ["green_credit"]  # JSON parsed from the environment
    assert app.config["SECRET_KEY"]  # generated and kept in the instance folder
    assert (tmp_path / "secret_key").read_text().strip() == app.config["SECRET_KEY"]


def test_default_database_is_sqlite_in_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GREENMATCH_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("GREENMATCH_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/greenmatch.db"


def test_creating_the_app_touches_no_network_and_starts_no_scheduler(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise AssertionError("network access during create_app")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    import threading

    before = threading.active_count()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
                      "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert threading.active_count() == before
    assert "apscheduler" not in app.extensions


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_broken_database(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite", "TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "error"}


def test_unexpected_errors_are_logged_and_generic(make_app, caplog):
    app = make_app()

    @app.route("/api/v1/_boom")
    def _boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/api/v1/_boom")
    assert response.status_code == 500
    assert any("unhandled error" in r.getMessage() and r.exc_info for r in caplog.records)
    body = response.get_json()
    assert body["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_request_id_is_echoed_and_logged(client, caplog):
    import logging

    with caplog.at_level(logging.INFO, logger="greenmatch.access"):
        response = client.get("/healthz", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"
    assert any("GET /healthz -> 200" in r.getMessage() and r.request_id == "abc123" for r in caplog.records)


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/docs"])
def test_api_docs_are_served(client, path):
    assert client.get(path).status_code == 200
