"""Security headers on every response (an ``after_request`` hook).

* ``Content-Security-Policy``: scripts, styles, fonts and connections from this origin only — no inline
  scripts or style attributes anywhere (the pages keep data in ``<script type="application/json">`` blocks,
  which are not executed, and size bars with classes from ``static/scale.css``); images also as ``data:``
  URIs (Bootstrap's icons, Swagger UI); no plugins, no framing, forms post to this origin only.
* ``X-Frame-Options: DENY`` (older browsers' ``frame-ancestors``), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: strict-origin-when-cross-origin``, ``Cross-Origin-Opener-Policy: same-origin``.
* ``Strict-Transport-Security`` only when the request came over TLS (``request.is_secure``, which honours
  ``X-Forwarded-Proto`` when ``TRUSTED_PROXIES`` is set) or the deployment says it is served over https
  (``PREFERRED_URL_SCHEME = "https"``, set in production).

``TRUSTED_PROXIES`` (default 0) is the number of reverse proxies in front of the app: with 1, the client
address (login limiter, logs) and the scheme are taken from the proxy's ``X-Forwarded-For`` and
``X-Forwarded-Proto``. Never set it without a proxy that overwrites those headers.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.is_secure or app.config.get("PREFERRED_URL_SCHEME") == "https":
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers.pop("Server", None)
        return response
