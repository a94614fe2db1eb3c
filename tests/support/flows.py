"""Multi-step flows reused across tests: an approved project, a published product, a signed-in
browser session (the test client, for server-rendered pages)."""

from __future__ import annotations

import re

from .factories import PASSWORD
from .payloads import project

P = "/api/v1/projects"


def approved_project(client, auth, owner, bureau, **overrides):
    pid = client.post(P, json=project(**overrides), headers=auth(owner)).get_json()["id"]
    assert client.post(f"{P}/{pid}/submit", headers=auth(owner)).status_code == 200
    response = client.post(f"{P}/{pid}/review", json={"decision": "approve", "note": "同意"}, headers=auth(bureau))
    assert response.status_code == 200, response.get_json()
    return pid


def published_product(client, auth, institution, **body):
    response = client.post("/api/v1/products", json=body, headers=auth(institution))
    assert response.status_code == 201, response.get_json()
    pid = response.get_json()["id"]
    assert client.post(f"/api/v1/products/{pid}/publish", headers=auth(institution)).status_code == 200
    return pid


def web_login(client, email: str) -> None:
    """Sign in through the login form (with its CSRF token), as a browser would."""
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
