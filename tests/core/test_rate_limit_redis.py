"""With GREENMATCH_REDIS_URL set, the failed-login budget is shared by every worker process (Redis storage)."""

import json
import subprocess
import sys
import uuid

import pytest
from conftest import TEST_DATABASE_URL

from support.services import REDIS_URL, require_service

pytestmark = pytest.mark.redis

WORKER = """
import json, sys
from greenmatch import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "REDIS_URL": sys.argv[2],
                  "RATELIMIT_KEY_PREFIX": sys.argv[3], "LOGIN_LIMITER_PREFIX": sys.argv[3],
                  "INSTRUMENTS": []})
client = app.test_client()
bad = {"email": sys.argv[4], "password": "not-the-password"}
print(json.dumps([client.post("/api/v1/auth/token", json=bad).status_code for _ in range(3)]))
"""


def test_two_worker_processes_share_the_failed_login_budget(f, app_ctx, tmp_path):
    require_service("redis", REDIS_URL)
    user = f.enterprise_user()
    prefix = f"gm-test-{uuid.uuid4().hex}"  # the Redis database may hold other runs' counters

    def worker():
        out = subprocess.run([sys.executable, "-c", WORKER, TEST_DATABASE_URL, REDIS_URL, prefix, user.email],
                             capture_output=True, text=True, check=True, cwd=tmp_path)
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert worker() == [401, 401, 401]
    assert worker() == [401, 401, 429]  # 5 failures per minute in all, across processes
