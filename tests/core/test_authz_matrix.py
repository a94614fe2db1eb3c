"""The authorization matrix, generated from the OpenAPI document.

Organisation X (an enterprise, its bank, its bureau) owns projects, products, a match, engagements and
notifications in every interesting status. Every operation of the document is called by every kind of
caller from *other* organisations — anonymous, an enterprise of the same city, an unverified and a verified
institution, a bureau of another province — with its path ids (and id fields of its query and body)
filled with X's objects. None of them may get a 2xx that reveals or changes X's object:

* role-restricted operations (``x-roles``): 401 for anonymous, 403 for a caller without the role;
* otherwise 404 (the object is not revealed), 401 for anonymous where the operation needs a login;
* lists and other operations without X's ids in the path may answer 2xx, but never with X's private
  data (marker strings: private names, messages, the contact) in the response;
* the public catalogue (an approved project's entry, history and assessment; a published product) is
  readable by all — without its contact.

Admins see and act on everything by contract; their calls are made too and must never be a 5xx.
The test prints the number of calls and of leaks, and fails on any leak.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

import pytest

from greenmatch.extensions import db
from greenmatch.matching.models import Engagement, Notification
from support import factories
from support.flows import approved_project, published_product
from support.payloads import project

API = "/api/v1"
METHODS = ("get", "post", "put", "patch", "delete")
CALLERS = ("anonymous", "enterprise", "institution_unverified", "institution_verified", "bureau", "admin")

# Valid request bodies for the operations on one object: a request that would succeed if the object's
# visibility were missing (an invalid body would stop at 422 and hide a leak). An operation with a body
# that is not listed here is called with {} (then a 422 is tolerated for it, and counted as unchecked).
BODIES = {
    ("PATCH", "/api/v1/projects/{project_id}"): {"version": 1, "name": "被他人篡改的项目名称"},
    ("POST", "/api/v1/projects/{project_id}/submit"): {},
    ("POST", "/api/v1/projects/{project_id}/review"): {"decision": "approve", "note": "同意入库"},
    ("PATCH", "/api/v1/products/{product_id}"): {"version": 1, "name": "被他人篡改的产品名称"},
    ("POST", "/api/v1/products/{product_id}/publish"): {},
    ("POST", "/api/v1/products/{product_id}/withdraw"): {},
    ("PATCH", "/api/v1/engagements/{engagement_id}"): {"status": "in_progress", "note": "推进中"},
    ("POST", "/api/v1/engagements/{engagement_id}/accept"): {"note": "欢迎洽谈"},
    ("POST", "/api/v1/engagements/{engagement_id}/decline"): {"note": "暂不需要"},
    ("POST", "/api/v1/engagements"): {"match_id": "{match_id}", "message": "冒用他行匹配的洽谈请求"},
    ("POST", "/api/v1/financing-requests"): {"project_id": "{project_id}", "amount_cny": 1_000_000,
                                             "term_months": 12, "purpose": "被他人篡改的融资需求",
                                             "closes_at": "2099-12-31"},
    ("POST", "/api/v1/financing-requests/{request_id}/offers"): {"product_id": "{product_id}",
                                                                 "amount_cny": 1_000_000, "term_months": 12},
    ("POST", "/api/v1/financing-requests/{request_id}/close"): {},
    ("POST", "/api/v1/engagements/{engagement_id}/reports"): {"period": "2026-H2", "disbursed_cny": 1_000_000,
                                                              "use_of_proceeds": "被他人篡改的资金用途"},
}
INVALID_BODY = {"version": "第一版", "status": 3, "decision": ["approve"], "note": {"x": 1}, "多余字段": True}
# Query parameters that name an object: filled with X's ids on the lists that take them.
QUERY_IDS = {"product_id": "product_id", "project_id": "project_id"}
# Reads of the public catalogue: answered to everyone when the object is public.
PUBLIC_READS = {
    ("GET", "/api/v1/projects/{project_id}"), ("GET", "/api/v1/projects/{project_id}/history"),
    ("GET", "/api/v1/projects/{project_id}/assessment"), ("GET", "/api/v1/products/{product_id}"),
    ("GET", "/api/v1/taxonomy/categories/{code}"),
}
# Strings only X (and admins) may ever see.
SECRET_CONTACT = {"name": "赵总监", "phone": "+86 313 7654321", "email": "zhao@secret-steel.cn"}
MARKERS = ("冀北钢铁余热发电机密草稿", "冀北钢铁超低排放改造待审", "冀行内部未发布绿色贷款", "冀行专属洽谈留言机密",
           SECRET_CONTACT["phone"], SECRET_CONTACT["email"], "被他人篡改", "冀北钢铁储能融资需求机密",
           "冀行报价条件机密")


@dataclass
class Variant:
    """Which of X's objects fill the path ids in one pass; ``public``: the kinds that are public here."""

    name: str
    ids: dict[str, object]
    public: frozenset[str]


@pytest.fixture
def world(client, auth):
    x_enterprise = factories.enterprise_user(region_code="130700", name="冀北钢铁集团有限公司")
    x_bank = factories.institution_user(region_code="130000", name="河北银行")
    x_bureau = factories.bureau_user(region_code="130000", name="河北省工业和信息化厅")
    x_pending_bank = factories.institution_user(verified=False, region_code="130000", name="冀东农商银行")
    admin = factories.admin_user()
    secret = {"contact": SECRET_CONTACT}

    x_product = published_product(client, auth, x_bank, instrument="green_credit", name="冀行绿色转型贷",
                                  params={})
    draft_product = client.post(f"{API}/products", json={"instrument": "green_credit", "name": MARKERS[2],
                                                         "params": {}}, headers=auth(x_bank)).get_json()["id"]
    approved = approved_project(client, auth, x_enterprise, x_bureau, name="冀北钢铁光伏一体化项目", **secret)
    accepted_project = approved_project(client, auth, x_enterprise, x_bureau, name="冀北钢铁储能调峰项目", **secret)
    draft = client.post(f"{API}/projects", json=project(name=MARKERS[0], **secret),
                        headers=auth(x_enterprise)).get_json()["id"]
    submitted = client.post(f"{API}/projects", json=project(name=MARKERS[1], **secret),
                            headers=auth(x_enterprise)).get_json()["id"]
    assert client.post(f"{API}/projects/{submitted}/submit", headers=auth(x_enterprise)).status_code == 200

    leads = client.get(f"{API}/leads?per_page=100", headers=auth(x_bank)).get_json()["items"]
    matches = {lead["project"]["id"]: lead["match_id"] for lead in leads}
    engagement_ids = {}
    for pid in (approved, accepted_project):
        response = client.post(f"{API}/engagements", json={"match_id": matches[pid], "message": MARKERS[3]},
                               headers=auth(x_bank))
        assert response.status_code == 201, response.get_json()
        engagement_ids[pid] = response.get_json()["id"]
    requested, accepted = engagement_ids[approved], engagement_ids[accepted_project]
    assert client.post(f"{API}/engagements/{accepted}/accept", json={"note": "欢迎"},
                       headers=auth(x_enterprise)).status_code == 200
    # a financing request open only to REITs (nobody else's product matches it) and an offer of X's bank on
    # a second request of X's enterprise
    closes = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    request_id = client.post(f"{API}/financing-requests", json={
        "project_id": approved, "amount_cny": 50_000_000, "term_months": 36, "purpose": MARKERS[7],
        "instruments": ["reits"], "closes_at": closes}, headers=auth(x_enterprise)).get_json()["id"]
    other_request = client.post(f"{API}/financing-requests", json={
        "project_id": accepted_project, "amount_cny": 50_000_000, "term_months": 36, "purpose": MARKERS[7],
        "instruments": ["green_credit"], "closes_at": closes}, headers=auth(x_enterprise)).get_json()["id"]
    offer = client.post(f"{API}/financing-requests/{other_request}/offers", json={
        "product_id": x_product, "amount_cny": 40_000_000, "annual_rate_pct": 3.2, "term_months": 36,
        "conditions": MARKERS[8]}, headers=auth(x_bank))
    assert offer.status_code == 201, offer.get_json()
    from greenmatch.matching.models import MatchRun

    run = MatchRun(kind="full", status="succeeded", triggered_by="test")  # runs are the platform's: admins only
    from greenmatch.catalog.models import ExportJob

    export = ExportJob(organization_id=x_bureau.organization_id, requested_by_id=x_bureau.id, status="running",
                       filters={"q": MARKERS[7]})
    db.session.add_all([run, export])
    db.session.commit()
    notification = db.session.scalar(db.select(Notification.id).where(
        Notification.organization_id == x_enterprise.organization_id))

    # the callers, all of other organisations: same city, same province, another province
    y_verified = factories.institution_user(region_code="130000", name="张家口银行")
    published_product(client, auth, y_verified, instrument="green_credit", name="张行绿色贷", params={})
    callers = {
        "anonymous": None,
        "enterprise": factories.enterprise_user(region_code="130700", name="张家口新能源科技有限公司"),
        "institution_unverified": factories.institution_user(verified=False, region_code="130000",
                                                             name="沧州村镇银行"),
        "institution_verified": y_verified,
        "bureau": factories.bureau_user(region_code="140000", name="山西省工业和信息化厅"),
        "admin": admin,
    }
    common = {"notification_id": notification, "org_id": x_pending_bank.organization_id, "code": "4.2.2",
              "match_id": matches[approved], "request_id": request_id, "offer_id": offer.get_json()["id"], "run_id": run.id, "export_id": export.id}
    variants = [
        Variant("private", {**common, "project_id": submitted, "product_id": draft_product,
                            "engagement_id": requested}, frozenset({"code"})),
        Variant("draft", {**common, "project_id": draft, "product_id": draft_product,
                          "engagement_id": accepted, "org_id": x_bank.organization_id}, frozenset({"code"})),
        Variant("public", {**common, "project_id": approved, "product_id": x_product,
                           "engagement_id": accepted, "org_id": x_enterprise.organization_id},
                frozenset({"code", "project_id", "product_id"})),
    ]
    return {"callers": callers, "variants": variants, "x_bank": x_bank, "engagements": (requested, accepted)}


def operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def _fill(template: str, ids: dict[str, object]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), template)


def _request(method, path, op, ids):
    """(url, json body or None, multipart or None, body listed in BODIES) for one call."""
    url = _fill(path, ids)
    query = [f"{name}={ids[key]}" for p in op.get("parameters", []) if p.get("in") == "query"
             for name, key in QUERY_IDS.items() if p["name"] == name]
    if query:
        url += "?" + "&".join(query)
    content = (op.get("requestBody") or {}).get("content", {})
    if "multipart/form-data" in content:
        return url, None, {}, True
    if not content:
        return url, None, None, True
    listed = (method, path) in BODIES
    body = {key: ids[value[1:-1]] if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value) else value
            for key, value in BODIES.get((method, path), {}).items()}
    return url, body, None, listed


def _named_objects(method, path) -> set[str]:
    """The kinds of X's objects a call names: its path ids and the id fields of its body."""
    in_body = {value[1:-1] for value in BODIES.get((method, path), {}).values()
               if isinstance(value, str) and re.fullmatch(r"\{\w+\}", value)}
    return set(re.findall(r"\{(\w+)\}", path)) | in_body


def _expected(method, path, op, caller, user, variant, listed) -> set[int] | None:
    """The statuses the contract allows; None: any non-5xx answer without X's markers."""
    names = _named_objects(method, path)
    roles = set(op.get("x-roles", ()))
    if caller == "admin":
        return None
    wrong_role = bool(roles) and (user is None or user.role not in roles
                                  or (op.get("x-verified") and not user.organization.verified))
    if roles and user is None:
        return {401}
    if wrong_role:
        return {403}
    if not names or (method, path) in PUBLIC_READS and names <= variant.public:
        return None
    allowed = {404, 403} if user is not None else {401, 404}
    return allowed | ({422} if not listed else set())


def _calls(ops, variant):
    """Each operation with a valid body; those that name X's object in their path once more with an invalid
    body: the role and X's object are checked before the body (401/403/404, never a 422 that is none of
    the caller's business)."""
    for method, path, op in ops:
        url, body, files, listed = _request(method, path, op, variant.ids)
        yield method, path, op, url, body, files, listed
        if body is not None and re.search(r"\{\w+\}", path):
            yield method, path, op, url, INVALID_BODY, None, True


def run_matrix(client, auth, world):
    """Every operation x caller x object set: (operations, calls, leaks, operations lacking a listed body)."""
    spec = client.get(f"{API}/openapi.json").get_json()
    ops = list(operations(spec))
    leaks, calls, unchecked = [], 0, set()
    for variant in world["variants"]:
        for caller in CALLERS:
            user = world["callers"][caller]
            for method, path, op, url, body, files, listed in _calls(ops, variant):
                headers = auth(user) if user is not None else {}  # fresh: DELETE /auth/token revokes it
                if not listed and _named_objects(method, path):
                    unchecked.add((method, path))
                if files is not None:
                    response = client.open(url, method=method, data=files, content_type="multipart/form-data",
                                           headers=headers)
                else:
                    response = client.open(url, method=method, json=body, headers=headers)
                calls += 1
                expected = _expected(method, path, op, caller, user, variant, listed)
                # parsed: the API escapes non-ASCII characters in its JSON
                payload = response.get_json(silent=True)
                text = json.dumps(payload, ensure_ascii=False) if payload is not None else response.get_data(
                    as_text=True) if response.mimetype.startswith("text/") else ""
                problem = None
                if response.status_code >= 500:
                    problem = "server error"
                elif expected is not None and response.status_code not in expected:
                    problem = f"expected {sorted(expected)}"
                elif caller != "admin" and any(marker in text for marker in MARKERS):
                    problem = "X's private data in the response"
                if problem:
                    leaks.append(f"{variant.name} {caller:<22} {method} {url} -> {response.status_code}: {problem}")
    return ops, calls, leaks, unchecked


def test_no_operation_reveals_or_changes_another_organisations_object(client, auth, world, capsys):
    ops, calls, leaks, unchecked = run_matrix(client, auth, world)
    assert len(ops) >= 40 and calls > len(ops) * len(CALLERS) * len(world["variants"])
    # nothing of X's was changed by the calls of other organisations (admins only verify and re-match)
    requested, accepted = world["engagements"]
    db.session.expire_all()
    assert db.session.get(Engagement, requested).status == "requested"
    assert db.session.get(Engagement, accepted).status == "accepted"
    with capsys.disabled():
        print(f"\nauthz matrix: {len(ops)} operations x {len(CALLERS)} callers x {len(world['variants'])} object "
              f"sets (and invalid bodies) = {calls} calls, {len(leaks)} leaks")
    assert not leaks, f"{len(leaks)} leaks:\n" + "\n".join(leaks[:60])
    assert not unchecked, f"list a valid body in BODIES for: {sorted(unchecked)}"


def test_the_matrix_finds_a_leak(client, auth, world, monkeypatch):
    """The matrix is not vacuous: let institutions change every product and see every engagement, and it
    reports those calls."""
    from greenmatch.matching.engagements import EngagementPolicy
    from greenmatch.products.policy import ProductPolicy

    monkeypatch.setattr(ProductPolicy, "scope", lambda self, stmt, actor, purpose="view": stmt)
    monkeypatch.setattr(ProductPolicy, "can", lambda self, actor, action, obj: True)
    monkeypatch.setattr(EngagementPolicy, "scope", lambda self, stmt, actor, purpose="view": stmt)
    _ops, _calls, leaks, _unchecked = run_matrix(client, auth, world)
    found = "\n".join(leaks)
    assert "institution_verified   PATCH /api/v1/products/" in found
    assert "GET /api/v1/engagements/" in found
    assert "X's private data in the response" in found  # the engagement list shows X's message
