"""Registration, tokens, /me, verification, rate limiting and token expiry through the HTTP API."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenmatch.codes import make_uscc, uscc_check_char, uscc_problem
from greenmatch.db import utcnow
from greenmatch.text import Msg

VALID_USCC = make_uscc("91130700MA0000001")  # check character computed per GB 32100-2015


def body(**overrides):
    org = {"kind": "enterprise", "name": "张家口风光新能源有限公司", "uscc": VALID_USCC, "region_code": "130700"}
    org.update(overrides.pop("organization", {}))
    data = {"email": "cfo@zjk-energy.cn", "password": "a-long-password", "organization": org}
    data.update(overrides)
    return data


def token_for(client, email="cfo@zjk-energy.cn", password="a-long-password"):
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assert_error(response, status, *fields):
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    for name in fields:
        assert name in error["fields"], error
    return error


def test_known_uscc_examples():
    assert uscc_problem("91350100M000100Y43") is None  # published example code
    assert uscc_problem("91350100M000100Y44") is not None
    assert uscc_problem("91350100M000100Y4") == Msg("A unified social credit code has 18 characters.")
    assert uscc_problem("91350100M000100YI3") is not None  # I is not in the alphabet


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_uscc_check_character_round_trip(body17):
    code = body17 + uscc_check_char(body17)
    if code[:2].isalnum() and code[2:8].isdigit():
        assert uscc_problem(code) is None
    other = next(c for c in "0123456789" if c != code[17])
    assert uscc_problem(code[:17] + other) is not None


@pytest.mark.parametrize("kind,extra,verified", [
    ("enterprise", {}, True),
    ("institution", {"institution_type": "bank"}, False),
])
def test_register_token_me(client, kind, extra, verified):
    response = client.post("/api/v1/auth/register", json=body(organization={"kind": kind, **extra}))
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["organization"]["kind"] == kind
    assert data["organization"]["verified"] is verified
    assert data["user"]["role"] == kind
    assert "password" not in data["user"] and "password_hash" not in data["user"]

    token = token_for(client)
    assert dt.datetime.fromisoformat(token["expires_at"]) > utcnow()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert me.status_code == 200
    assert me.get_json()["email"] == "cfo@zjk-energy.cn"
    assert me.get_json()["organization"]["uscc"] == VALID_USCC
    assert me.get_json()["role"] == kind


def test_uscc_is_normalised_to_upper_case(client):
    response = client.post("/api/v1/auth/register", json=body(organization={"uscc": VALID_USCC.lower()}))
    assert response.status_code == 201
    assert response.get_json()["organization"]["uscc"] == VALID_USCC


@pytest.mark.parametrize("overrides,field", [
    ({"organization": {"uscc": VALID_USCC[:17] + ("0" if VALID_USCC[17] != "0" else "1")}}, "organization.uscc"),
    ({"organization": {"uscc": "123"}}, "organization.uscc"),
    ({"organization": {"region_code": "999999"}}, "organization.region_code"),
    ({"organization": {"region_code": "13070"}}, "organization.region_code"),
    ({"password": "short"}, "password"),
    ({"email": "not-an-email"}, "email"),
    ({"organization": {"kind": "bureau"}}, "organization.kind"),
    ({"organization": {"kind": "institution"}}, "organization.institution_type"),
    ({"organization": {"institution_type": "pawnshop", "kind": "institution"}}, "organization.institution_type"),
])
def test_register_validation_errors_name_the_field(client, overrides, field):
    error = assert_error(client.post("/api/v1/auth/register", json=body(**overrides)), 422, field)
    assert error["code"] == "validation_failed"


@pytest.mark.parametrize("missing", ["email", "password", "organization"])
def test_register_missing_fields(client, missing):
    data = body()
    del data[missing]
    assert_error(client.post("/api/v1/auth/register", json=data), 422, missing)


@pytest.mark.parametrize("missing", ["name", "uscc", "region_code", "kind"])
def test_register_missing_organization_fields(client, missing):
    data = body()
    del data["organization"][missing]
    assert_error(client.post("/api/v1/auth/register", json=data), 422, f"organization.{missing}")


def test_register_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/register", data='{"email": "x@y.cn", ',
                           content_type="application/json")
    assert_error(response, 400)


def test_register_duplicate_email_is_409_and_writes_nothing(client, app_ctx):
    from sqlalchemy import func, select

    from greenmatch.accounts.models import Organization
    from greenmatch.extensions import db

    assert client.post("/api/v1/auth/register", json=body()).status_code == 201
    other_org = {"uscc": make_uscc("91320500MA0000002")}
    error = assert_error(client.post("/api/v1/auth/register", json=body(organization=other_org)), 409, "email")
    assert error["code"] == "conflict"
    assert db.session.scalar(select(func.count()).select_from(Organization)) == 1


def test_register_duplicate_uscc_is_409(client):
    assert client.post("/api/v1/auth/register", json=body()).status_code == 201
    assert_error(client.post("/api/v1/auth/register", json=body(email="other@zjk-energy.cn")), 409,
                 "organization.uscc")


def test_wrong_password_is_401(client):
    client.post("/api/v1/auth/register", json=body())
    response = client.post("/api/v1/auth/token", json={"email": "cfo@zjk-energy.cn", "password": "wrong-password"})
    assert_error(response, 401)


def test_me_needs_authentication(client):
    assert_error(client.get("/api/v1/me"), 401)
    assert_error(client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}), 401)


def test_wrong_passwords_are_rate_limited(client):
    client.post("/api/v1/auth/register", json=body())
    bad = {"email": "cfo@zjk-energy.cn", "password": "wrong-password"}
    statuses = [client.post("/api/v1/auth/token", json=bad).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    error = assert_error(client.post("/api/v1/auth/token", json=bad), 429)
    assert error["code"] == "rate_limited"
    # the right password is refused too while the limit holds: guessing cannot continue
    good = {"email": "cfo@zjk-energy.cn", "password": "a-long-password"}
    assert client.post("/api/v1/auth/token", json=good).status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(client):
    client.post("/api/v1/auth/register", json=body())
    for _ in range(8):
        token_for(client)


def test_tokens_expire(client, app, app_ctx):
    from sqlalchemy import select

    from greenmatch.accounts.models import ApiToken
    from greenmatch.extensions import db

    client.post("/api/v1/auth/register", json=body())
    token = token_for(client)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    row = db.session.scalar(select(ApiToken))
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=headers), 401)


def test_token_lifetime_follows_the_setting(make_app):
    app = make_app(TOKEN_TTL_SECONDS=60)
    client = app.test_client()
    client.post("/api/v1/auth/register", json=body())
    expires = dt.datetime.fromisoformat(token_for(client)["expires_at"])
    assert dt.timedelta(seconds=55) < expires - utcnow() <= dt.timedelta(seconds=60)


def test_tokens_can_be_revoked(client):
    client.post("/api/v1/auth/register", json=body())
    headers = {"Authorization": f"Bearer {token_for(client)['token']}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/me", headers=headers), 401)


def test_admin_verifies_an_institution_and_nobody_else_can(client, f, auth):
    institution = f.institution_user(verified=False)
    enterprise = f.enterprise_user()
    bureau = f.bureau_user()
    admin = f.admin_user()
    org_id = institution.organization_id
    for user in (institution, enterprise, bureau):
        assert_error(client.post(f"/api/v1/organizations/{org_id}/verify", headers=auth(user)), 403)
    assert_error(client.post(f"/api/v1/organizations/{org_id}/verify"), 401)
    response = client.post(f"/api/v1/organizations/{org_id}/verify", headers=auth(admin))
    assert response.status_code == 200
    assert response.get_json()["verified"] is True
    me = client.get("/api/v1/me", headers=auth(institution)).get_json()
    assert me["organization"]["verified"] is True


def test_verify_unknown_or_non_institution(client, f, auth):
    admin = f.admin_user()
    assert_error(client.post("/api/v1/organizations/99999/verify", headers=auth(admin)), 404)
    enterprise = f.enterprise_user()
    assert_error(client.post(f"/api/v1/organizations/{enterprise.organization_id}/verify", headers=auth(admin)), 409)


def test_organization_list_is_scoped(client, f, auth):
    f.institution_user(verified=False)
    enterprise = f.enterprise_user()
    admin = f.admin_user()
    mine = client.get("/api/v1/organizations", headers=auth(enterprise)).get_json()
    assert [o["id"] for o in mine["items"]] == [enterprise.organization_id]
    pending = client.get("/api/v1/organizations?kind=institution&verified=false", headers=auth(admin)).get_json()
    assert pending["total"] == 1 and pending["items"][0]["verified"] is False
    assert_error(client.get("/api/v1/organizations?per_page=101", headers=auth(admin)), 422, "per_page")
