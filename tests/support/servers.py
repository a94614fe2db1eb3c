"""GreenMatch served by gunicorn in a subprocess, the way docs/security.md says to serve it."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass
class Served:
    port: int
    access_log: Path
    log: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, body: dict | None = None, *, source: str = "127.0.0.1",
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request on a new connection from the loopback address ``source`` (any 127.x.y.z)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(source, 0))
        try:
            payload = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def worker_pids(self) -> set[str]:
        """The worker processes that answered requests (the access log's first field)."""
        return {line.split()[0] for line in self.access_log.read_text().splitlines() if line.strip()}


@contextlib.contextmanager
def gunicorn(env: dict[str, str], tmp_path: Path, workers: int = 2) -> Iterator[Served]:
    """``gunicorn -c python:greenmatch.gunicorn_conf -w N`` on a port the OS picks; stopped on exit."""
    access_log = tmp_path / "access.log"
    access_log.touch()
    environment = dict(os.environ, GREENMATCH_INSTANCE_PATH=str(tmp_path), **env)
    command = [GUNICORN, "-c", "python:greenmatch.gunicorn_conf", "-w", str(workers), "-b", "127.0.0.1:0",
               "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s %(r)s",
               "--error-logfile", "-", "greenmatch:create_app()"]
    process = subprocess.Popen(command, env=environment, cwd=tmp_path, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        deadline, port = time.monotonic() + 60, None
        while time.monotonic() < deadline and process.poll() is None:
            found = next((LISTENING.search(line) for line in list(lines) if LISTENING.search(line)), None)
            port = int(found.group(1)) if found else None
            if port and sum("Booting worker" in line for line in list(lines)) >= workers:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not start:\n" + "".join(lines))
        served = Served(port, access_log, lines)
        _wait_until_serving(served)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_serving(served: Served) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            status, _headers, _body = served.request("GET", "/api/v1/openapi.json")
            if status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn workers do not answer:\n" + "".join(served.log))
        time.sleep(0.2)
