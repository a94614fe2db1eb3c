"""The one login limiter, used by the page login, the API token endpoint and password changes.

Two independent counters, both counting **failures only** (a correct password never costs anything):

* **Per account** (the normalised e-mail, known or not): after ``LOGIN_ACCOUNT_FAILURES`` failures in a row
  the account is locked for ``LOGIN_LOCK_SECONDS``; every further failure after a lock doubles it
  (exponential back-off), up to ``LOGIN_LOCK_MAX_SECONDS``. While locked, every attempt on the account is
  refused (429) without looking at the password — the only case where a correct password is refused.
  A success resets the count. The count is forgotten ``LOGIN_ACCOUNT_WINDOW_SECONDS`` after the last failure.
* **Per address** (the client's IP): a budget of ``LOGIN_ADDRESS_FAILURES`` failures per
  ``LOGIN_ADDRESS_WINDOW_SECONDS``. Once it is spent, the address may still sign in to accounts that signed in
  successfully from it before (within ``LOGIN_KNOWN_ADDRESS_DAYS``) — colleagues behind one office NAT keep
  working — but attempts on any other account are refused (429) until the window ends, so one address
  cannot guess across many accounts.

Storage is Redis when ``REDIS_URL`` is set (shared by every worker), per-process memory otherwise.
Accounts and addresses are stored as SHA-256 digests, never in clear.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

from flask import Flask, current_app

from ..errors import ApiError
from ..text import Msg

EXTENSION_KEY = "greenmatch.login_limiter"


class TooManyLogins(ApiError):
    """429: the account is locked (``reason="account"``) or the address's failure budget is spent
    (``reason="address"``). ``retry_after`` is in whole seconds."""

    status, code = 429, "rate_limited"

    def __init__(self, reason: str, retry_after: int):
        self.reason = reason
        self.retry_after = max(1, retry_after)
        if reason == "account":
            message = Msg("Too many failed logins for this account; it is locked for %(seconds)s s. Try again later.",
                          seconds=self.retry_after)
        else:
            message = Msg("Too many failed logins from your network address; try again in %(seconds)s s or from an "
                          "address you have signed in from before.", seconds=self.retry_after)
        super().__init__(message)


class Store(Protocol):
    def get(self, key: str) -> int: ...
    def incr(self, key: str, ttl_ms: int, *, refresh: bool) -> int: ...
    def set(self, key: str, ttl_ms: int) -> None: ...
    def ttl_ms(self, key: str) -> int: ...
    def delete(self, key: str) -> None: ...
    def clear(self, prefix: str) -> None: ...


class MemoryStore:
    """Per-process counters with expiry (development, tests, one worker)."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str) -> tuple[int, float] | None:
        item = self._data.get(key)
        if item is not None and item[1] <= time.monotonic():
            del self._data[key]
            return None
        return item

    def get(self, key: str) -> int:
        with self._lock:
            item = self._live(key)
            return item[0] if item else 0

    def incr(self, key: str, ttl_ms: int, *, refresh: bool) -> int:
        with self._lock:
            item = self._live(key)
            expires = time.monotonic() + ttl_ms / 1000
            value = (item[0] if item else 0) + 1
            self._data[key] = (value, expires if refresh or item is None else item[1])
            return value

    def set(self, key: str, ttl_ms: int) -> None:
        with self._lock:
            self._data[key] = (1, time.monotonic() + ttl_ms / 1000)

    def ttl_ms(self, key: str) -> int:
        with self._lock:
            item = self._live(key)
            return max(0, math.ceil((item[1] - time.monotonic()) * 1000)) if item else 0

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self, prefix: str) -> None:
        with self._lock:
            for key in [k for k in self._data if k.startswith(prefix)]:
                del self._data[key]


class RedisStore:
    """Counters in Redis, shared by every worker; each change is one MULTI/EXEC transaction."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def get(self, key: str) -> int:
        value = self._redis.get(key)
        return int(value) if value is not None else 0

    def incr(self, key: str, ttl_ms: int, *, refresh: bool) -> int:
        pipe = self._redis.pipeline(transaction=True)
        if refresh:
            pipe.incr(key).pexpire(key, ttl_ms)
        else:  # a fixed window: the expiry is set by the first failure only
            pipe.set(key, 0, px=ttl_ms, nx=True).incr(key)
        results = pipe.execute()
        return int(results[0] if refresh else results[1])

    def set(self, key: str, ttl_ms: int) -> None:
        self._redis.set(key, 1, px=ttl_ms)

    def ttl_ms(self, key: str) -> int:
        return max(0, int(self._redis.pttl(key)))

    def delete(self, key: str) -> None:
        self._redis.delete(key)

    def clear(self, prefix: str) -> None:
        for key in self._redis.scan_iter(match=prefix + "*", count=500):
            self._redis.delete(key)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass
class LoginLimiter:
    store: Store
    settings: dict[str, Any]

    def _key(self, *parts: str) -> str:
        return ":".join([self.settings["LOGIN_LIMITER_PREFIX"], *parts])

    def _keys(self, email: str, address: str) -> tuple[str, str, str, str, str]:
        account, addr = _digest(email.strip().lower()), _digest(address or "-")
        return (self._key("fail", account), self._key("lock", account), self._key("locks", account),
                self._key("addr", addr), self._key("known", addr, account))

    def check(self, email: str, address: str) -> None:
        """Before the password is looked at: 429 when the account is locked, or when the address's failure
        budget is spent and the account has not signed in from this address before."""
        _fail, lock, _locks, addr, known = self._keys(email, address)
        locked_ms = self.store.ttl_ms(lock)
        if locked_ms:
            raise TooManyLogins("account", math.ceil(locked_ms / 1000))
        if self.store.get(addr) >= self.settings["LOGIN_ADDRESS_FAILURES"] and not self.store.get(known):
            raise TooManyLogins("address", math.ceil(self.store.ttl_ms(addr) / 1000))

    def failed(self, email: str, address: str) -> None:
        """A wrong password (or an unknown account): count it for the account and for the address; lock the
        account once it reaches the threshold, each lock twice as long as the one before."""
        fail, lock, locks, addr, _known = self._keys(email, address)
        s = self.settings
        self.store.incr(addr, s["LOGIN_ADDRESS_WINDOW_SECONDS"] * 1000, refresh=False)
        window_ms = s["LOGIN_ACCOUNT_WINDOW_SECONDS"] * 1000
        if self.store.incr(fail, window_ms, refresh=True) >= s["LOGIN_ACCOUNT_FAILURES"]:
            previous = self.store.incr(locks, window_ms, refresh=True) - 1
            seconds = min(s["LOGIN_LOCK_MAX_SECONDS"], s["LOGIN_LOCK_SECONDS"] * 2 ** min(previous, 30))
            # the count stays at or over the threshold: each further failure locks again, twice as long
            self.store.set(lock, int(seconds * 1000))

    def succeeded(self, email: str, address: str) -> None:
        """A correct password: the account's failures and back-off are forgotten and the address becomes
        one the account is known at."""
        fail, _lock, locks, _addr, known = self._keys(email, address)
        self.store.delete(fail)
        self.store.delete(locks)
        self.store.set(known, self.settings["LOGIN_KNOWN_ADDRESS_DAYS"] * 86400 * 1000)

    def reset(self) -> None:
        """Forget every counter under this limiter's prefix (tests)."""
        self.store.clear(self.settings["LOGIN_LIMITER_PREFIX"] + ":")


def init_app(app: Flask) -> None:
    """The app's limiter; its settings are the ``LOGIN_*`` keys of greenmatch.config.Defaults."""
    url = app.config.get("REDIS_URL")
    store: Store = RedisStore(url) if url else MemoryStore()
    app.extensions[EXTENSION_KEY] = LoginLimiter(store, app.config)


def login_limiter() -> LoginLimiter:
    return current_app.extensions[EXTENSION_KEY]
