"""Numbers the database cannot hold: ids and pages past the columns' range are answered 404 (in a path)
or 422 naming the field (in a query or body), never 500."""

import pytest

from greenmatch.api import MAX_ID, MAX_PAGE
from support.flows import web_login

HUGE = 99999999999999999999999  # past 64 bits: SQLite cannot even bind it
INT4 = 2**31  # past PostgreSQL's INTEGER id columns
BIGINT = 2**63  # past SQLite's and PostgreSQL's 64-bit integers


@pytest.fixture
def users(f):
    return {"owner": f.enterprise_user(), "institution": f.institution_user(verified=True), "bureau": f.bureau_user(),
            "admin": f.admin_user()}


def assert_422(response, field):
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"], error["fields"]


@pytest.mark.parametrize("number", [HUGE, BIGINT, INT4, 0])
@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/products/{n}"),
    ("PATCH", "/api/v1/products/{n}"),
    ("GET", "/api/v1/projects/{n}"),
    ("GET", "/api/v1/projects/{n}/matches"),
    ("GET", "/api/v1/engagements/{n}"),
    ("GET", "/api/v1/engagements/{n}/history"),
    ("POST", "/api/v1/engagements/{n}/accept"),
    ("POST", "/api/v1/notifications/{n}/read"),
])
def test_ids_past_the_id_columns_in_api_paths_are_not_found(client, auth, users, method, path, number):
    response = client.open(path.format(n=number), method=method, headers=auth(users["institution"]))
    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("number", [HUGE, BIGINT, INT4, "1e20"])
@pytest.mark.parametrize("path,user", [
    ("/api/v1/projects", "owner"),
    ("/api/v1/products", "institution"),
    ("/api/v1/engagements", "institution"),
    ("/api/v1/notifications", "institution"),
    ("/api/v1/leads", "institution"),
    ("/api/v1/review-queue", "bureau"),
    ("/api/v1/taxonomy/regions", "owner"),
])
def test_pages_past_the_last_possible_one_are_invalid(client, auth, users, path, user, number):
    assert_422(client.get(f"{path}?page={number}", headers=auth(users[user])), "page")


@pytest.mark.parametrize("path,user", [
    ("/api/v1/projects", "owner"),
    ("/api/v1/engagements", "institution"),
    ("/api/v1/notifications", "institution"),
    ("/api/v1/leads", "institution"),
])
def test_the_last_possible_page_is_an_empty_page(client, auth, users, path, user):
    response = client.get(f"{path}?page={MAX_PAGE}&per_page=100", headers=auth(users[user]))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"] == []


@pytest.mark.parametrize("number", [HUGE, BIGINT, INT4, 0, -1])
@pytest.mark.parametrize("query,field", [
    ("/api/v1/engagements?project_id={n}", "project_id"),
    ("/api/v1/leads?product_id={n}", "product_id"),
])
def test_ids_past_the_id_columns_in_queries_are_invalid(client, auth, users, query, field, number):
    assert_422(client.get(query.format(n=number), headers=auth(users["institution"])), field)


@pytest.mark.parametrize("query", ["/api/v1/engagements?project_id={n}", "/api/v1/leads?product_id={n}"])
def test_the_largest_id_is_a_valid_filter(client, auth, users, query):
    response = client.get(query.format(n=MAX_ID), headers=auth(users["institution"]))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["items"] == []


@pytest.mark.parametrize("match_id", [1e20, HUGE, BIGINT, INT4, 0])
def test_engagement_requests_for_match_ids_past_the_id_columns_are_invalid(client, auth, users, match_id):
    response = client.post("/api/v1/engagements", json={"match_id": match_id}, headers=auth(users["institution"]))
    assert_422(response, "match_id")


def test_a_missing_match_with_the_largest_id_is_not_found(client, auth, users):
    response = client.post("/api/v1/engagements", json={"match_id": MAX_ID}, headers=auth(users["institution"]))
    assert response.status_code == 404, response.get_json()


@pytest.mark.parametrize("number", [HUGE, BIGINT, INT4, 0])
def test_pages_of_the_site_with_huge_ids_are_not_found(client, users, number):
    assert client.get(f"/catalogue/{number}").status_code == 404
    web_login(client, users["institution"].email)
    assert client.get(f"/engagements/{number}").status_code == 404
    assert client.get(f"/products/{number}/edit").status_code == 404
    assert client.post(f"/inbox/{number}/read").status_code == 404
    assert client.post(f"/leads/{number}/engage").status_code == 404


@pytest.mark.parametrize("page", [HUGE, BIGINT, INT4, "1e20", "-5", "x"])
def test_pages_of_the_site_with_huge_page_numbers_are_shown(client, users, page):
    assert client.get(f"/catalogue?page={page}").status_code == 200
    web_login(client, users["institution"].email)
    for path in ("/inbox", "/leads", "/products", "/engagements"):
        response = client.get(f"{path}?page={page}")
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
