"""Bad bytes on every operation of the OpenAPI document: a 400 in the contract's error shape naming the field,
never a 5xx (issue #10.2). The operations are read from ``/api/v1/openapi.json``, not listed by hand, so a new
endpoint is probed as soon as it exists."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest

DEEP = "[" * 1000 + "]" * 1000
PROBES = {
    "nul": ('{"name": "光伏\\u0000电站", "email": "a@b.cn"}', "name"),
    "surrogate": ('{"email": "\\ud800@example.cn", "organization": {"name": "张家口\\udfff"}}', "email"),
    "surrogate_key": ('{"\\ud83d": 1}', None),
    "deep": (DEEP, "_body"),
    "deep_object": ('{"a":' * 1000 + "1" + "}" * 1000, "_body"),
}


def _operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                url = re.sub(r"\{[^}]+\}", "1", path)
                yield method.upper(), url, op


@pytest.fixture
def tokens(auth, f):
    return {"anonymous": {}, "enterprise": auth(f.enterprise_user()), "institution": auth(f.institution_user()),
            "bureau": auth(f.bureau_user()), "admin": auth(f.admin_user())}


def _assert_refused(response, field, context):
    assert response.status_code == 400, (context, response.status_code, response.get_data(as_text=True)[:300])
    error = response.get_json()["error"]
    assert error["code"] == "bad_request" and error["message"], context
    if field:
        assert field in error["fields"], (context, error)


def test_every_json_operation_refuses_bad_bytes_for_every_caller(client, tokens):
    operations = [(m, u, op) for m, u, op in _operations(client) if "application/json" in
                  op.get("requestBody", {}).get("content", {})]
    assert len(operations) >= 15, "the OpenAPI document lists the JSON operations"
    for method, url, _op in operations:
        for who, headers in tokens.items():
            for probe, (body, field) in PROBES.items():
                response = client.open(url, method=method, data=body, content_type="application/json",
                                       headers=headers)
                _assert_refused(response, field, (method, url, who, probe))


def test_every_operation_refuses_control_characters_in_its_query(client, tokens):
    operations = list(_operations(client))
    assert len(operations) >= 50
    for method, url, op in operations:
        names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"] or ["q"]
        for name in names:
            for bad in ("\x00", "\r\nSet-Cookie: x=1", "\x1b[31m"):
                target = f"{url}?{name}={quote('光伏' + bad)}"
                for who in ("anonymous", "admin"):
                    response = client.open(target, method=method, headers=tokens[who])
                    _assert_refused(response, name, (method, target, who))


def test_valid_unicode_still_passes(client, auth, f):
    """Astral characters (paired surrogates), CJK extension B, emoji and escaped forms are real text."""
    user = f.enterprise_user()
    body = json.dumps({"name": "𠀀𪚥光伏😀电站", "description": "含“引号”与\\t制表符"}, ensure_ascii=True)
    response = client.post("/api/v1/taxonomy/classify", data=body, content_type="application/json",
                           headers=auth(user))
    assert response.status_code == 200, response.get_json()


def test_login_next_with_cr_lf_is_refused_or_ignored(client, f):
    from support.factories import PASSWORD

    user = f.enterprise_user()
    assert client.get("/login?next=" + quote("/\r\nSet-Cookie: evil=1")).status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for target in ("/\r\nSet-Cookie: evil=1", "//evil.example/", "/\\evil.example", "https://evil.example/"):
        response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token,
                                               "next": target})
        assert response.status_code == 302, target
        assert "evil" not in response.headers["Location"] and "\n" not in response.headers["Location"]
        client.post("/logout", data={"csrf_token": token})


def test_nul_in_a_form_field_is_a_400_page(client, f):
    response = client.post("/login", data={"email": "a\x00@b.cn", "password": "x"})
    assert response.status_code == 400
    assert "text/html" in response.content_type
