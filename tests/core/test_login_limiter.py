"""The one login limiter (greenmatch.security.limiter) for the page login and the API token endpoint:
per-account lock with exponential back-off, per-address failure budget, failures only.

The four cases run twice: in-process (memory storage) and against two gunicorn workers sharing Redis db
(GREENMATCH_TEST_REDIS_URL), each request from its own loopback address (127.0.0.x)."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from conftest import TEST_DATABASE_URL

from greenmatch.security.limiter import LoginLimiter, MemoryStore, RedisStore
from support.factories import PASSWORD
from support.servers import gunicorn
from support.services import REDIS_URL, require_service

LIMITS = {"LOGIN_ACCOUNT_FAILURES": 3, "LOGIN_LOCK_SECONDS": 2, "LOGIN_LOCK_MAX_SECONDS": 60,
          "LOGIN_ADDRESS_FAILURES": 4, "LOGIN_ADDRESS_WINDOW_SECONDS": 600}
WRONG = "wrong-password-猜的"


class InProcess:
    """Attempts through the Flask test client, the client address set per request."""

    def __init__(self, app):
        self.client = app.test_client()

    def token(self, email: str, password: str, source: str) -> tuple[int, dict[str, str]]:
        response = self.client.post("/api/v1/auth/token", json={"email": email, "password": password},
                                    environ_base={"REMOTE_ADDR": source})
        return response.status_code, {k.lower(): v for k, v in response.headers.items()}


class Gunicorn:
    def __init__(self, served):
        self.served = served

    def token(self, email: str, password: str, source: str) -> tuple[int, dict[str, str]]:
        status, headers, _body = self.served.request("POST", "/api/v1/auth/token",
                                                     {"email": email, "password": password}, source=source)
        return status, headers


def one_address_across_many_emails(server, users) -> None:
    """(1) One address guessing across many e-mails is stopped once its failure budget is spent — even a
    correct password is refused from it for an account that never signed in there; elsewhere it works."""
    target = users[0]
    guesses = ["zhao.lei@hbsteel.com.cn", "finance@ts-steel.com.cn", "admin@hebei-green.cn", "wu.min@hebei-green.cn"]
    assert [server.token(e, WRONG, "127.0.0.2")[0] for e in guesses] == [401] * 4
    status, headers = server.token("li.na@tangshan-energy.cn", WRONG, "127.0.0.2")
    assert status == 429 and int(headers["retry-after"]) > 0
    assert server.token(target.email, PASSWORD, "127.0.0.2")[0] == 429  # the spray is stopped
    assert server.token(target.email, PASSWORD, "127.0.0.3")[0] == 200  # the account is not locked


def many_addresses_at_one_email(server, users) -> None:
    """(2) Many addresses failing at one e-mail lock the account, for every address, correct password or not."""
    victim = users[0]
    statuses = [server.token(victim.email, WRONG, f"127.0.1.{n}")[0] for n in range(1, 4)]
    assert statuses == [401, 401, 401]
    status, headers = server.token(victim.email, PASSWORD, "127.0.1.9")
    assert status == 429 and 1 <= int(headers["retry-after"]) <= LIMITS["LOGIN_LOCK_SECONDS"]


def hot_shared_address(server, users) -> None:
    """(3) A correct password from a hot shared address (an office NAT) still logs in for an account that
    signed in from it before; the failures of others there do not lock it out."""
    colleague, newcomer, *_ = users
    office = "127.0.2.1"
    assert server.token(colleague.email, PASSWORD, office)[0] == 200  # yesterday, from the office
    for n in range(LIMITS["LOGIN_ADDRESS_FAILURES"]):
        assert server.token(f"guess{n}@hebei-gangtie.cn", WRONG, office)[0] == 401
    assert server.token(colleague.email, PASSWORD, office)[0] == 200
    assert server.token(colleague.email, WRONG, office)[0] == 401  # still checked, counted for the account
    assert server.token(colleague.email, PASSWORD, office)[0] == 200
    assert server.token(newcomer.email, PASSWORD, office)[0] == 429  # documented: unknown here, address hot


def back_off_expires(server, users) -> None:
    """(4) The lock expires and then the correct password works; a failure right after a lock locks again
    for twice as long; a success forgets the back-off."""
    user = users[0]
    for n in range(3):
        assert server.token(user.email, WRONG, f"127.0.3.{n + 1}")[0] == 401
    status, headers = server.token(user.email, PASSWORD, "127.0.3.9")
    assert status == 429
    time.sleep(int(headers["retry-after"]) + 0.2)
    assert server.token(user.email, WRONG, "127.0.3.9")[0] == 401  # one more failure: locked again, doubled
    status, headers = server.token(user.email, PASSWORD, "127.0.3.9")
    assert status == 429 and int(headers["retry-after"]) > LIMITS["LOGIN_LOCK_SECONDS"]
    time.sleep(int(headers["retry-after"]) + 0.2)
    assert server.token(user.email, PASSWORD, "127.0.3.9")[0] == 200
    assert server.token(user.email, WRONG, "127.0.3.9")[0] == 401  # the count started again


CASES = [one_address_across_many_emails, many_addresses_at_one_email, hot_shared_address, back_off_expires]


@pytest.fixture
def users(f):
    people = [("zhang.wei", "张家口风光新能源有限公司"), ("liu.yang", "唐山钢铁集团节能科技有限公司"),
              ("chen.jing", "沧州临港化工有限公司"), ("sun.hao", "保定英利光伏电力有限公司"),
              ("zhou.min", "邢台德龙钢铁有限公司"), ("wu.qiang", "邯郸新兴重型机械有限公司"),
              ("zheng.li", "秦皇岛耀华玻璃有限公司"), ("wang.lei", "承德建龙特殊钢有限公司")]
    return [f.user("enterprise", f.organization("enterprise", name=org), email=f"{name}@hebei-green.cn")
            for name, org in people]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_login_limiter_in_process(make_app, users, case):
    case(InProcess(make_app(**LIMITS)), users)


@pytest.mark.redis
def test_login_limiter_with_two_gunicorn_workers_sharing_redis(f, users, tmp_path):
    require_service("redis", REDIS_URL)
    prefix = f"gm-test-{uuid.uuid4().hex}"  # the Redis database may hold other runs' counters
    env = {"GREENMATCH_DATABASE_URL": TEST_DATABASE_URL, "GREENMATCH_REDIS_URL": REDIS_URL,
           "GREENMATCH_SECRET_KEY": "test-secret-key", "GREENMATCH_INSTRUMENTS": "[]",
           "GREENMATCH_LOGIN_LIMITER_PREFIX": prefix,
           **{f"GREENMATCH_{k}": str(v) for k, v in LIMITS.items()}}
    users = [SimpleNamespace(email=user.email) for user in users]  # plain values for the threads
    with gunicorn(env, tmp_path, workers=2) as served:
        server = Gunicorn(served)
        with ThreadPoolExecutor(4) as pool:  # the cases at once, so both workers answer
            # each case on accounts of its own: they run at the same time
            for future in [pool.submit(case, server, users[2 * i:2 * i + 2]) for i, case in enumerate(CASES)]:
                future.result()
        assert len(served.worker_pids()) == 2, served.access_log.read_text()
    store = RedisStore(REDIS_URL)
    assert list(store._redis.scan_iter(match=prefix + ":*"))  # the workers kept their counters in Redis
    store.clear(prefix + ":")


def test_the_page_login_shares_the_limiter_with_the_api(client, f):
    user = f.enterprise_user()
    for _ in range(5):
        assert client.post("/api/v1/auth/token", json={"email": user.email, "password": WRONG}).status_code == 401
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "该账号登录失败次数过多，已锁定" in response.get_data(as_text=True)


def test_successful_logins_cost_nothing(make_app, f):
    user = f.enterprise_user()
    client = make_app(**LIMITS).test_client()
    for _ in range(10):
        response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD},
                               environ_base={"REMOTE_ADDR": "127.0.4.1"})
        assert response.status_code == 200


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_accounts_and_addresses_are_stored_as_digests(store):
    if store == "redis":
        require_service("redis", REDIS_URL)
    backend = MemoryStore() if store == "memory" else RedisStore(REDIS_URL)
    prefix = f"gm-test-{uuid.uuid4().hex}"
    limiter = LoginLimiter(backend, {"LOGIN_LIMITER_PREFIX": prefix, "LOGIN_ACCOUNT_FAILURES": 5,
                                     "LOGIN_ACCOUNT_WINDOW_SECONDS": 60, "LOGIN_LOCK_SECONDS": 1,
                                     "LOGIN_LOCK_MAX_SECONDS": 60, "LOGIN_ADDRESS_FAILURES": 20,
                                     "LOGIN_ADDRESS_WINDOW_SECONDS": 60, "LOGIN_KNOWN_ADDRESS_DAYS": 1})
    limiter.failed("wang.fang@cangzhou-chem.cn", "10.20.30.40")
    limiter.succeeded("wang.fang@cangzhou-chem.cn", "10.20.30.40")
    keys = (list(backend._data) if store == "memory"
            else [k.decode() for k in backend._redis.scan_iter(match=prefix + "*")])
    assert keys and all("wang" not in k and "10.20" not in k for k in keys)
    limiter.reset()
    if store == "redis":
        assert not list(backend._redis.scan_iter(match=prefix + "*"))
