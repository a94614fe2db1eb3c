"""Every field of the financing-need form is validated with the contract's error shape."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.payloads import project

API = "/api/v1/projects"


@pytest.fixture
def owner_headers(f, auth):
    return auth(f.enterprise_user())


def assert_422(response, field):
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error["fields"]


@pytest.mark.parametrize("overrides,field", [
    ({"categories": ["9.9.9"]}, "categories.0"),
    ({"categories": ["4.2"]}, "categories.0"),  # level 2 is not a project category
    ({"categories": ["4.2.2", "4.2.2"]}, "categories"),
    ({"categories": [f"1.1.{i}" for i in range(1, 12)]}, "categories"),  # more than 10
    ({"industry_code": "9999"}, "industry_code"),
    ({"industry_code": "44a6"}, "industry_code"),
    ({"industry_code": "4"}, "industry_code"),
    ({"region_code": "139999"}, "region_code"),
    ({"region_code": "beijing"}, "region_code"),
    ({"total_investment_cny": -1}, "total_investment_cny"),
    ({"total_investment_cny": 0}, "total_investment_cny"),
    ({"financing_need_cny": -100}, "financing_need_cny"),
    ({"total_investment_cny": 5e13, "financing_need_cny": 1e6}, "total_investment_cny"),
    ({"financing_need_cny": 3e8}, "financing_need_cny"),  # above total investment 2.2e8
    ({"annual_revenue_cny": -5}, "annual_revenue_cny"),
    ({"asset_value_cny": 2e12}, "asset_value_cny"),
    ({"annual_net_cash_flow_cny": "lots"}, "annual_net_cash_flow_cny"),
    ({"expected_irr_pct": 400}, "expected_irr_pct"),
    ({"commissioning_year": 1800}, "commissioning_year"),
    ({"commissioning_year": 2300}, "commissioning_year"),
    ({"stage": "dreaming"}, "stage"),
    ({"certifications": ["iso_everything"]}, "certifications.0"),
    ({"collateral": ["goodwill"]}, "collateral.0"),
    ({"risk_exposures": ["meteor"]}, "risk_exposures.0"),
    ({"preferred_instruments": ["crypto"]}, "preferred_instruments"),
    ({"benefits": {"co2_reduction_t": -3}}, "benefits.co2_reduction_t"),
    ({"benefits": {"unicorns": 3}}, "benefits.unicorns"),
    ({"compliance": {"eia_approved": "maybe"}}, "compliance.eia_approved"),
    ({"compliance": {"env_penalties_3y": -1}}, "compliance.env_penalties_3y"),
    ({"contact": {"email": "nope"}}, "contact.email"),
    ({"contact": {"phone": "call me"}}, "contact.phone"),
    ({"name": "x" * 201}, "name"),
    ({"name": "x"}, "name"),
    ({"description": "长" * 5001}, "description"),
    ({"surprise_field": 1}, "surprise_field"),
])
def test_each_field_rule(client, owner_headers, overrides, field):
    assert_422(client.post(API, json=project(**overrides), headers=owner_headers), field)


@pytest.mark.parametrize("missing", ["name", "industry_code", "region_code", "stage", "total_investment_cny",
                                     "financing_need_cny"])
def test_required_fields(client, owner_headers, missing):
    assert_422(client.post(API, json=project(**{missing: None}), headers=owner_headers), missing)


def test_section_letter_is_dropped(client, owner_headers):
    response = client.post(API, json=project(industry_code="D4416"), headers=owner_headers)
    assert response.status_code == 201 and response.get_json()["industry_code"] == "4416"


def test_malformed_json_is_400(client, owner_headers):
    response = client.post(API, data="{not json", content_type="application/json", headers=owner_headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_patch_cannot_raise_need_above_investment(client, owner_headers):
    created = client.post(API, json=project(), headers=owner_headers).get_json()
    response = client.patch(f"{API}/{created['id']}", json={"version": 1, "financing_need_cny": 5e8},
                            headers=owner_headers)
    assert_422(response, "financing_need_cny")
    unchanged = client.get(f"{API}/{created['id']}", headers=owner_headers).get_json()
    assert unchanged["financing_need_cny"] == created["financing_need_cny"] and unchanged["version"] == 1


def test_refused_bodies_write_nothing(client, owner_headers):
    client.post(API, json=project(stage="dreaming"), headers=owner_headers)
    assert client.get(API, headers=owner_headers).get_json()["total"] == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**15, 10**15) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10)
field_names = st.sampled_from(list(project()) + ["version", "id", "status"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(field_names, json_values, max_size=6))
def test_random_bodies_never_give_5xx(client, owner_headers, changes):
    body = project()
    body.update(changes)
    response = client.post(API, json=body, headers=owner_headers)
    assert response.status_code in (201, 400, 422), (response.status_code, response.get_json())
    if response.status_code != 201:
        assert set(response.get_json()["error"]) == {"code", "message", "fields"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_any_json_document_never_gives_5xx(client, owner_headers, body):
    response = client.post(API, json=body, headers=owner_headers)
    assert response.status_code in (201, 400, 422)
