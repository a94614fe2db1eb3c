"""Error pages for browsers (the API answers JSON)."""

from flask import render_template


def server_error_page():
    return render_template("errors/500.html"), 500
