"""Products through the HTTP API: plugin-validated params, publish/withdraw, who may do what."""

import pytest

API = "/api/v1/products"
CREDIT = {"instrument": "green_credit", "name": "冀绿光伏贷", "description": "支持河北光伏电站建设",
          "params": {"min_amount_cny": 10_000_000, "max_amount_cny": 500_000_000, "regions": ["130000"],
                     "categories": ["4.2"], "variants": ["general"]}}


@pytest.fixture
def bank(f):
    return f.institution_user(verified=True)


def create(client, auth, user, body=CREDIT):
    response = client.post(API, json=body, headers=auth(user))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_instruments_lists_the_five_builtins_with_json_schemas(client):
    from jsonschema import Draft202012Validator

    items = client.get("/api/v1/instruments").get_json()["items"]
    assert [i["key"] for i in items] == ["green_credit", "green_bond", "reits", "green_insurance", "green_fund"]
    for item in items:
        assert item["name_zh"] and item["name_en"] and item["description"]
        Draft202012Validator.check_schema(item["params_schema"])
        props = item["params_schema"]["properties"]
        assert {"min_amount_cny", "max_amount_cny", "regions", "categories", "stages"} <= set(props)


def test_disabling_an_instrument_removes_it_everywhere(make_app, f):
    app = make_app(INSTRUMENTS=["green_credit", "green_bond", "green_insurance", "green_fund"])
    client = app.test_client()
    with app.app_context():
        bank = f.institution_user(verified=True)
        enterprise = f.enterprise_user()
        headers, eheaders = f.auth_headers(bank), f.auth_headers(enterprise)
    keys = [i["key"] for i in client.get("/api/v1/instruments").get_json()["items"]]
    assert "reits" not in keys and len(keys) == 4
    refused = client.post(API, json={**CREDIT, "instrument": "reits", "params": {}}, headers=headers)
    assert refused.status_code == 422 and "instrument" in refused.get_json()["error"]["fields"]
    from support.payloads import project

    pid = client.post("/api/v1/projects", json=project(), headers=eheaders).get_json()["id"]
    assessed = client.get(f"/api/v1/projects/{pid}/assessment", headers=eheaders).get_json()
    assert [i["instrument"] for i in assessed["instruments"]] == keys


def test_lifecycle_publish_withdraw(client, auth, bank, f):
    product = create(client, auth, bank)
    assert product["status"] == "draft"
    pid = product["id"]
    # a draft is invisible to others
    other = f.institution_user(verified=True)
    assert client.get(f"{API}/{pid}", headers=auth(other)).status_code == 404
    assert client.get(API).get_json()["total"] == 0
    published = client.post(f"{API}/{pid}/publish", headers=auth(bank))
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    assert [p["id"] for p in client.get(API).get_json()["items"]] == [pid]
    assert client.post(f"{API}/{pid}/publish", headers=auth(bank)).status_code == 409
    withdrawn = client.post(f"{API}/{pid}/withdraw", headers=auth(bank))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"
    assert client.get(API).get_json()["total"] == 0
    assert client.get(f"{API}?instrument=green_credit", headers=auth(other)).get_json()["total"] == 0
    mine = client.get(f"{API}?mine=true", headers=auth(bank)).get_json()
    assert [p["status"] for p in mine["items"]] == ["withdrawn"]


def test_unverified_institution_cannot_create_or_publish(client, auth, f):
    pending = f.institution_user(verified=False)
    response = client.post(API, json=CREDIT, headers=auth(pending))
    assert response.status_code == 403
    assert "尚未通过平台认证" in response.get_json()["error"]["message"]


def test_unverified_institution_cannot_publish_an_existing_draft(client, auth, bank, app_ctx):
    from greenmatch.extensions import db

    pid = create(client, auth, bank)["id"]
    bank.organization.verified = False
    db.session.commit()
    assert client.post(f"{API}/{pid}/publish", headers=auth(bank)).status_code == 403


@pytest.mark.parametrize("params,field", [
    ({"min_amount_cny": -5}, "params.min_amount_cny"),
    ({"min_amount_cny": 10, "max_amount_cny": 5}, "params.max_amount_cny"),
    ({"regions": ["999999"]}, "params.regions"),
    ({"categories": ["77.1"]}, "params.categories"),
    ({"stages": ["dreaming"]}, "params.stages.0"),
    ({"variants": ["payday"]}, "params.variants.0"),
    ({"no_such_param": 1}, "params.no_such_param"),
])
def test_bad_params_get_422_with_field_names(client, auth, bank, params, field):
    response = client.post(API, json={**CREDIT, "params": params}, headers=auth(bank))
    assert response.status_code == 422, response.get_json()
    fields = response.get_json()["error"]["fields"]
    assert any(name == field or name.startswith(field) for name in fields), fields


def test_plugin_specific_params_are_validated(client, auth, bank):
    reits = {"instrument": "reits", "name": "基础设施REITs", "params": {"min_operating_years": -1}}
    response = client.post(API, json=reits, headers=auth(bank))
    assert response.status_code == 422
    assert "params.min_operating_years" in response.get_json()["error"]["fields"]
    insurance = {"instrument": "green_insurance", "name": "首台套保险", "params": {"cover_types": ["alien_invasion"]}}
    assert client.post(API, json=insurance, headers=auth(bank)).status_code == 422


def test_another_institution_cannot_change_a_product(client, auth, bank, f):
    pid = create(client, auth, bank)["id"]
    client.post(f"{API}/{pid}/publish", headers=auth(bank))
    rival = f.institution_user(verified=True)
    assert client.get(f"{API}/{pid}", headers=auth(rival)).status_code == 200  # published: visible
    assert client.patch(f"{API}/{pid}", json={"version": 2, "name": "改名的产品"}, headers=auth(rival)).status_code == 404
    assert client.post(f"{API}/{pid}/withdraw", headers=auth(rival)).status_code == 404
    assert client.get(f"{API}/{pid}").get_json()["status"] == "published"


def test_only_institutions_create_products(client, auth, f):
    for user in (f.enterprise_user(), f.bureau_user(), f.admin_user()):
        assert client.post(API, json=CREDIT, headers=auth(user)).status_code == 403
    assert client.post(API, json=CREDIT).status_code == 401


def test_edit_with_version_and_stale_version(client, auth, bank):
    product = create(client, auth, bank)
    pid = product["id"]
    ok = client.patch(f"{API}/{pid}", json={"version": product["version"], "params": {"max_amount_cny": 9e8}},
                      headers=auth(bank))
    assert ok.status_code == 200 and ok.get_json()["params"]["max_amount_cny"] == 9e8
    stale = client.patch(f"{API}/{pid}", json={"version": product["version"], "name": "旧版本修改"},
                         headers=auth(bank))
    assert stale.status_code == 409
    bad = client.patch(f"{API}/{pid}", json={"version": ok.get_json()["version"], "params": {"regions": ["1"]}},
                       headers=auth(bank))
    assert bad.status_code == 422 and "params.regions" in bad.get_json()["error"]["fields"]
