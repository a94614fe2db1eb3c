"""Security of the web and API layers: the one login limiter, the password policy, response headers.

* :mod:`.limiter` — failed-login throttling shared by the page login and the API token endpoint
* :mod:`.passwords` — which new passwords are refused, and why
* :mod:`.headers` — CSP, framing, sniffing, referrer and HSTS headers on every response

See docs/security.md for the policy in words.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import headers, limiter

    limiter.init_app(app)
    headers.init_app(app)
