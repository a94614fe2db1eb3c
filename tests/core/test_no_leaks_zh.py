"""Chinese users read Chinese: the main journeys' pages and API answers in zh_CN carry no raw keys
(``green_power_certificates``) and no English sentences (``not eligible for green credit``).

The journeys: an enterprise's PV plant (with a greenwashing signal and an environmental-rights pledge)
through review, a bank's products of two instruments, the leads, an engagement request and answer,
the inbox, the public catalogue and the statistics; the API's assessment, matches, leads, inbox and a
422. Visible text is what is checked (tags, scripts and styles stripped; attributes not).
"""

from __future__ import annotations

import html as html_lib
import re

import pytest

from greenmatch.labels import TABLES
from support.flows import approved_project, published_product, web_login

# codes of the contract that may appear as codes (in a code column) are not prose; everything else of these
# shapes is a leak
RAW_KEY = re.compile(r"(?<![\w/.-])[a-z]+(?:_[a-z0-9]+)+(?![\w/.-])")
ENGLISH = re.compile(r"(?<![\w@.])[A-Za-z][a-z]+(?:[ ,-]+[A-Za-z][a-z]+)+")
# proper names and units that are written in Latin letters in Chinese text too
ALLOWED = ("GreenMatch", "Green Finance", "Swagger", "OpenAPI")
KNOWN_KEYS = {key for table in TABLES.values() for key in table if "_" in key}

PLANT = {"name": "张家口塞北50MW集中式光伏电站", "benefits": {"renewable_generation_mwh": 75_000,
                                                           "co2_reduction_t": 9_000_000}}
PLEDGE = {"instrument": "green_credit", "name": "冀绿环境权益贷", "description": "以绿证、CCER 等环境权益质押",
          "params": {"variants": ["environmental_rights_pledge", "carbon_reduction_facility"],
                     "accepted_collateral": ["green_power_certificates", "ccer"]}}
INSURANCE = {"instrument": "green_insurance", "name": "气象指数保险", "description": "风光电站气象指数保险",
             "params": {}}


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return html_lib.unescape(page)


def leaks(text: str, field_names: set[str] = frozenset()) -> list[str]:
    """Raw keys and English phrases in ``text``; ``field_names``: the API fields a 422 names (by contract)."""
    for name in sorted(field_names, key=len, reverse=True):
        text = text.replace(name, " ")
    found = [m for m in RAW_KEY.findall(text) if m in KNOWN_KEYS or m.count("_") >= 2]
    for phrase in ENGLISH.findall(text):
        if not any(a in phrase for a in ALLOWED):
            found.append(phrase)
    return found


def strings(value, path=""):
    """The human-text strings of an API answer (codes, ids, enum values and names of things skipped)."""
    prose = ("message", "reason", "reasons", "missing", "method", "label_reason", "title", "paths", "labels")
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from strings(item, path)
    elif isinstance(value, str) and (path.rsplit(".", 1)[-1] in prose or ".paths" in path):
        yield path, value


@pytest.fixture
def journey(client, auth, f):
    owner, bureau = f.enterprise_user(), f.bureau_user()
    bank = f.institution_user(verified=True)
    credit = published_product(client, auth, bank, **PLEDGE)
    published_product(client, auth, bank, **INSURANCE)
    pid = approved_project(client, auth, owner, bureau, **PLANT)
    lead = client.get("/api/v1/leads", headers=auth(bank)).get_json()["items"][0]
    engaged = client.post("/api/v1/engagements", json={"match_id": lead["match_id"], "message": "希望进一步洽谈"},
                          headers=auth(bank))
    assert engaged.status_code == 201, engaged.get_json()
    eid = engaged.get_json()["id"]
    return {"owner": owner, "bureau": bureau, "bank": bank, "project": pid, "product": credit, "engagement": eid}


def test_pages_of_the_main_journeys_speak_chinese(client, journey):
    pid, eid, product = journey["project"], journey["engagement"], journey["product"]
    pages = {
        journey["owner"]: ["/", "/workspace", "/my/projects", f"/projects/{pid}", "/projects/new", "/engagements",
                           f"/engagements/{eid}", "/inbox", "/catalogue", f"/catalogue/{pid}"],
        journey["bureau"]: ["/review", f"/review/{pid}", "/bureau/catalogue", "/bureau/statistics", "/inbox"],
        journey["bank"]: ["/products", f"/products/{product}", "/leads", "/engagements", f"/engagements/{eid}",
                          "/inbox"],
    }
    problems = {}
    for user, paths in pages.items():
        client.post("/logout")
        web_login(client, user.email)
        for path in paths:
            response = client.get(path, headers={"Accept-Language": "zh-CN"}, follow_redirects=True)
            assert response.status_code == 200, path
            found = leaks(visible_text(response.get_data(as_text=True)))
            if found:
                problems[f"{user.role} {path}"] = found
    assert not problems, problems


def test_api_answers_speak_chinese_by_default(client, auth, journey):
    pid, owner, bank = journey["project"], journey["owner"], journey["bank"]
    answers = {
        "assessment": client.get(f"/api/v1/projects/{pid}/assessment", headers=auth(owner)),
        "matches": client.get(f"/api/v1/projects/{pid}/matches", headers=auth(owner)),
        "leads": client.get("/api/v1/leads", headers=auth(bank)),
        "inbox": client.get("/api/v1/notifications", headers=auth(owner)),
        "bank inbox": client.get("/api/v1/notifications", headers=auth(bank)),
        "422": client.post("/api/v1/projects", json={"name": "x", "total_investment_cny": "很多"}, headers=auth(owner)),
        "404": client.get("/api/v1/projects/999999", headers=auth(owner)),
    }
    problems = {}
    for name, response in answers.items():
        body = response.get_json()
        texts = list(strings(body))
        assert texts or name in ("matches",), (name, body)
        named = set((body.get("error") or {}).get("fields") or {}) if isinstance(body, dict) else set()
        for path, text in texts:
            found = leaks(text, named)
            if found:
                problems[f"{name} {path}"] = (text, found)
    assert not problems, problems
    assessment = answers["assessment"].get_json()
    assert any("环境权益" in r or "碳减排" in r for f in assessment["instruments"] for r in f["reasons"])
    assert assessment["greenwashing_signals"] and all(s["message"] for s in assessment["greenwashing_signals"])


def test_the_same_answers_in_english_on_request(client, auth, journey):
    pid, owner = journey["project"], journey["owner"]
    body = client.get(f"/api/v1/projects/{pid}/assessment?lang=en", headers=auth(owner)).get_json()
    reasons = [r for f in body["instruments"] for r in f["reasons"]]
    assert any("environmental-rights pledge" in r for r in reasons), reasons
    assert not any(re.search(r"[\u4e00-\u9fff]{4,}", s["message"]) for s in body["greenwashing_signals"])
