"""gunicorn settings for serving GreenMatch: ``gunicorn -c python:greenmatch.gunicorn_conf 'greenmatch:create_app()'``.

* the app runs in production mode (``GREENMATCH_ENV=production`` unless set otherwise): ``Secure`` cookies,
  https URLs, HSTS (greenmatch.config.Production);
* responses carry no ``Server: gunicorn`` header (the software and version are nobody's business);
* bind, workers and logs default to the documented deployment and can be overridden on the command line
  (``-b``, ``-w``) or with ``GUNICORN_CMD_ARGS``.
"""

import os

from gunicorn.http import wsgi

os.environ.setdefault("GREENMATCH_ENV", "production")

bind = os.environ.get("GREENMATCH_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GREENMATCH_WORKERS", "4"))
accesslog = "-"
forwarded_allow_ips = os.environ.get("GREENMATCH_FORWARDED_ALLOW_IPS", "127.0.0.1")


class _Response(wsgi.Response):
    """gunicorn's response without its ``Server`` header (gunicorn has no setting for it)."""

    def default_headers(self):
        return [line for line in super().default_headers() if not line.lower().startswith("server:")]


wsgi.Response = _Response
