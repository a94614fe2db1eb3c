"""Full re-match runs through the API: POST answers 202 at once, the run is polled to its end."""

from __future__ import annotations

import time

TERMINAL = ("succeeded", "failed", "abandoned")


def wait_for_run(client, headers, run_id: int, timeout: float = 60.0, until=TERMINAL) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/matching/runs/{run_id}", headers=headers)
        assert response.status_code == 200, response.get_json()
        run = response.get_json()
        if run["status"] in until or time.monotonic() > deadline:
            return run
        time.sleep(0.05)


def run_via_api(client, headers, timeout: float = 60.0) -> dict:
    response = client.post("/api/v1/matching/runs", headers=headers)
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] in ("queued", "running")
    return wait_for_run(client, headers, response.get_json()["id"], timeout)
