"""External services for tests: reachable, or skip locally / fail in CI."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_ADMIN_URL = os.environ.get("GREENMATCH_TEST_POSTGRES_ADMIN_URL",
                                    "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("GREENMATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=2):
            return True
    except OSError:
        return False


def require_service(name: str, url: str) -> None:
    if reachable(url):
        return
    message = f"{name} is not reachable at {urlsplit(url).hostname}:{urlsplit(url).port}"
    if IN_CI:
        pytest.fail(message + " (CI needs it: failing, not skipping)")
    pytest.skip(message)
