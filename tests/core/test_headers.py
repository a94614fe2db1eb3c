"""Security headers and production settings: CSP and friends on every response, HSTS only over TLS or in
production, Secure cookies in production, no inline script or style in the templates (the CSP allows
none), and no ``Server: gunicorn`` under the documented gunicorn configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import TEST_DATABASE_URL

from greenmatch.security.headers import CSP
from support.factories import PASSWORD
from support.servers import gunicorn

TEMPLATES = Path(__file__).resolve().parents[2] / "platform" / "greenmatch" / "templates"
EXPECTED = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize("path", ["/", "/login", "/catalogue", "/api/v1/openapi.json", "/api/docs", "/healthz",
                                  "/no-such-page", "/api/v1/no-such-thing", "/static/app.css"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (path, name)
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_the_csp_allows_no_inline_script_or_style_and_no_framing():
    directives = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CSP


def test_hsts_only_over_tls(client):
    assert client.get("/", base_url="https://greenmatch.example.cn").headers["Strict-Transport-Security"] \
        == "max-age=31536000; includeSubDomains"


def test_a_trusted_proxy_says_the_request_came_over_tls(make_app):
    proxied = make_app(TRUSTED_PROXIES=1).test_client()
    response = proxied.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" in response.headers
    direct = make_app().test_client()  # without TRUSTED_PROXIES the header is not believed
    assert "Strict-Transport-Security" not in direct.get("/", headers={"X-Forwarded-Proto": "https"}).headers


def test_production_cookies_are_secure_and_responses_carry_hsts(make_app, f):
    user = f.enterprise_user()
    app = make_app(ENV="production")
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    client = app.test_client()
    html = client.get("/login", base_url="https://greenmatch.example.cn").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/login", base_url="https://greenmatch.example.cn",  # CSRF over TLS checks the referrer
                           headers={"Referer": "https://greenmatch.example.cn/login"}, data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" in response.headers


def test_development_cookies_work_over_plain_http(make_app):
    app = make_app()
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_an_explicit_setting_beats_production(make_app):
    assert make_app(ENV="production", SESSION_COOKIE_SECURE=False).config["SESSION_COOKIE_SECURE"] is False


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_templates_have_no_inline_script_style_or_handler(template):
    text = (TEMPLATES / template).read_text()
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to a static file"
    assert "<style" not in text and " style=" not in text, "inline style: use a class (static/app.css)"
    assert not HANDLER.search(text), "inline event handler: bind it in static/app.js"
    assert "javascript:" not in text


def test_gunicorn_serves_without_a_server_header(tmp_path, app):
    env = {"GREENMATCH_DATABASE_URL": TEST_DATABASE_URL, "GREENMATCH_SECRET_KEY": "test-secret-key",
           "GREENMATCH_INSTRUMENTS": "[]"}
    with gunicorn(env, tmp_path, workers=1) as served:
        status, headers, _body = served.request("GET", "/login")
    assert status == 200
    assert "server" not in headers
    assert headers["content-security-policy"] == CSP and headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" in headers  # the gunicorn configuration means production
    assert "Secure" in headers["set-cookie"]
