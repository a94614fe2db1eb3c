"""The installed third-party plugin (tests/plugins/thirdparty) works end to end through the HTTP API:
listed in /instruments, params validated, part of assessments, usable for products and matching."""

from support.payloads import project


def test_thirdparty_plugin_in_api_assessment_products(make_app, f):
    app = make_app(INSTRUMENTS=None)  # every installed plugin, as a deployment would have it
    client = app.test_client()
    with app.app_context():
        owner, bank = f.enterprise_user(region_code="130200"), f.institution_user(verified=True)
        bureau = f.bureau_user(region_code="130000")
        oh, bh, buh = f.auth_headers(owner), f.auth_headers(bank), f.auth_headers(bureau)

    items = client.get("/api/v1/instruments").get_json()["items"]
    keys = [i["key"] for i in items]
    assert keys[:5] == ["green_credit", "green_bond", "reits", "green_insurance", "green_fund"]
    assert "transition_finance" in keys
    schema = next(i for i in items if i["key"] == "transition_finance")["params_schema"]
    assert "sectors" in schema["properties"]

    bad = client.post("/api/v1/products", json={"instrument": "transition_finance", "name": "转型贷",
                                                "params": {"sectors": ["unicorns"]}}, headers=bh)
    assert bad.status_code == 422 and any(k.startswith("params.sectors") for k in bad.get_json()["error"]["fields"])
    product = client.post("/api/v1/products", json={"instrument": "transition_finance", "name": "钢铁转型贷",
                                                    "params": {}}, headers=bh)
    assert product.status_code == 201, product.get_json()
    assert client.post(f"/api/v1/products/{product.get_json()['id']}/publish", headers=bh).status_code == 200

    steel = project(name="唐山钢铁超低排放改造", industry_code="3120", region_code="130200", categories=["2.2.2"],
                    description="烧结、球团工序超低排放改造。", benefits={"co2_reduction_t": 5000}, risk_exposures=[],
                    collateral=[], certifications=[])
    pid = client.post("/api/v1/projects", json=steel, headers=oh).get_json()["id"]
    assessment = client.get(f"/api/v1/projects/{pid}/assessment", headers=oh).get_json()
    fit = next(i for i in assessment["instruments"] if i["instrument"] == "transition_finance")
    assert fit["eligible"] is True and fit["reasons"]
    client.post(f"/api/v1/projects/{pid}/submit", headers=oh)
    client.post(f"/api/v1/projects/{pid}/review", json={"decision": "approve"}, headers=buh)
    leads = client.get("/api/v1/leads?instrument=transition_finance", headers=bh).get_json()
    assert [lead["project"]["id"] for lead in leads["items"]] == [pid]
