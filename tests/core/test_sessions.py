"""Sessions end on the server: logout kills a saved cookie and the tokens requested from it; a password
change (API and page) needs the current password, applies the password policy, and revokes every other
session and token while the caller's goes on."""

from __future__ import annotations

import re

import pytest

from greenmatch.accounts.models import Login, User
from greenmatch.extensions import db
from greenmatch.security.passwords import problem
from support.factories import PASSWORD
from support.flows import web_login

NEW_PASSWORD = "Qinhuangdao#港口-光伏2026"


def csrf_token(client, path: str = "/account/password") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def api_token(client, email: str, password: str = PASSWORD, **kwargs) -> str:
    response = client.post("/api/v1/auth/token", json={"email": email, "password": password}, **kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(client, headers=None) -> int:
    return client.get("/api/v1/me", headers=headers or {}).status_code


@pytest.fixture
def server(make_app):
    """An app of its own: the session-wide test app keeps one pushed app context (pytest-flask), so its
    requests would share ``g`` (and Flask-Login's cached user) with each other."""
    return make_app()


@pytest.fixture
def client(server):
    return server.test_client()


@pytest.fixture
def user(f):
    org = f.organization("enterprise", name="张家口风光新能源有限公司")
    return f.user("enterprise", org, email="wang.fang@zjk-fengguang.cn")


def saved_cookie(client) -> str:
    return client.get_cookie("session").value


def with_cookie(server, value: str):
    other = server.test_client()
    other.set_cookie("session", value)
    return other


# -- logout ------------------------------------------------------------------------------------------------
def test_logout_ends_the_session_and_the_tokens_requested_from_it(server, client, user):
    web_login(client, user.email)
    cookie = saved_cookie(client)
    assert me(client) == 200
    from_page = api_token(client, user.email, headers={"X-CSRFToken": csrf_token(client, "/inbox")})
    separate = api_token(server.test_client(), user.email)  # a login of its own (a script)
    assert me(server.test_client(), bearer(from_page)) == 200

    client.post("/logout", data={"csrf_token": csrf_token(client, "/inbox")})

    assert me(with_cookie(server, cookie)) == 401  # the saved cookie no longer works
    assert with_cookie(server, cookie).get("/inbox").status_code in (302, 401)
    assert me(server.test_client(), bearer(from_page)) == 401  # the token requested from the page is gone
    assert me(server.test_client(), bearer(separate)) == 200  # other logins go on
    assert db.session.scalars(db.select(Login).where(Login.ended_at.is_not(None))).one().kind == "web"


def test_the_api_logout_revokes_the_token_and_ends_its_login(client, user):
    token = api_token(client, user.email)
    assert client.delete("/api/v1/auth/token", headers=bearer(token)).status_code == 204
    assert me(client, bearer(token)) == 401
    assert db.session.scalars(db.select(Login)).one().ended_at is not None


def test_a_session_cookie_from_before_logins_existed_is_anonymous(server, client, user):
    with client.session_transaction() as session:  # Flask-Login's keys, no login id
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert me(client) == 401


# -- password change (API) -----------------------------------------------------------------------------------
def test_changing_the_password_revokes_every_other_session_and_token(server, client, user):
    web_login(client, user.email)
    page_cookie = saved_cookie(client)
    other_token = api_token(server.test_client(), user.email)
    mine = api_token(server.test_client(), user.email)

    response = client.post("/api/v1/auth/password", headers=bearer(mine),
                           json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})

    assert response.status_code == 204, response.get_json()
    assert me(client, bearer(mine)) == 200  # the caller's token goes on
    assert me(server.test_client(), bearer(other_token)) == 401
    assert me(with_cookie(server, page_cookie)) == 401
    fresh = server.test_client()
    assert fresh.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD}).status_code == 401
    api_token(fresh, user.email, NEW_PASSWORD)


def test_the_current_password_is_required(client, user):
    token = api_token(client, user.email)
    before = db.session.get(User, user.id).password_hash
    response = client.post("/api/v1/auth/password", headers=bearer(token),
                           json={"current_password": "not-my-password", "new_password": NEW_PASSWORD})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"current_password": ["这不是您的当前密码。"]}
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == before
    assert me(client, bearer(token)) == 200


def test_wrong_current_passwords_count_as_failed_logins(client, user):
    token = api_token(client, user.email)
    statuses = [client.post("/api/v1/auth/password", headers=bearer(token),
                            json={"current_password": f"guess-{n}", "new_password": NEW_PASSWORD}).status_code
                for n in range(6)]
    assert statuses == [422] * 5 + [429]


@pytest.mark.parametrize("new, reason", [
    ("aaaaaaaaaa", "Too easy to guess: it repeats the same characters."),
    ("1234567890", "Too easy to guess: it is one of the most common passwords."),
    ("password12", "Too easy to guess: it is one of the most common passwords."),
    ("wang.fang2026", "Must not contain your e-mail address."),
    ("张家口风光新能源有限公司2026", "Must not contain your organisation's name."),
    ("abcdefghij", "Too easy to guess: it is a sequence like abcd or 1234."),
    ("short#1", "Use at least 10 characters."),
    (PASSWORD, "Must differ from your current password."),
])
def test_a_weak_new_password_is_refused_with_the_reason(client, user, new, reason):
    token = api_token(client, user.email)
    response = client.post("/api/v1/auth/password?lang=en", headers=bearer(token),
                           json={"current_password": PASSWORD, "new_password": new})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"new_password": [reason]}
    assert me(client, bearer(token)) == 200  # nothing was revoked


def test_anonymous_password_changes_are_401_before_validation(client):
    assert client.post("/api/v1/auth/password", json={}).status_code == 401
    assert client.post("/api/v1/auth/password", json={"current_password": "x", "new_password": "y"}).status_code == 401


# -- password change (page) ------------------------------------------------------------------------------------
def test_the_password_page_keeps_this_session_and_ends_the_others(server, client, user):
    web_login(client, user.email)
    laptop = server.test_client()
    web_login(laptop, user.email)
    token = api_token(server.test_client(), user.email)

    response = client.post("/account/password", data={
        "csrf_token": csrf_token(client), "current_password": PASSWORD, "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})

    assert response.status_code == 302
    assert "密码已修改" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert me(client) == 200
    assert me(laptop) == 401
    assert me(server.test_client(), bearer(token)) == 401


def test_the_password_page_says_why_a_password_is_refused(client, user):
    web_login(client, user.email)
    response = client.post("/account/password", data={
        "csrf_token": csrf_token(client), "current_password": PASSWORD, "new_password": "password12",
        "new_password_confirm": "password12"})
    assert response.status_code == 422
    assert "太容易被猜到：属于最常见的密码之一。" in response.get_data(as_text=True)
    response = client.post("/account/password?lang=en", data={
        "csrf_token": csrf_token(client), "current_password": "wrong-password-x", "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD})
    assert response.status_code == 422
    assert "This is not your current password." in response.get_data(as_text=True)


def test_the_password_page_needs_a_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- the password policy at registration ----------------------------------------------------------------------------
def registration(password: str, email: str = "li.qiang@tangshan-gangtie.cn") -> dict:
    return {"email": email, "password": password,
            "organization": {"kind": "enterprise", "name": "唐山钢铁集团节能科技有限公司",
                             "uscc": "91130200MA0CXK1X4D", "region_code": "130200"}}


@pytest.mark.parametrize("password, reason", [
    ("aaaaaaaaaa", "Too easy to guess: it repeats the same characters."),
    ("1234567890", "Too easy to guess: it is one of the most common passwords."),
    ("password12", "Too easy to guess: it is one of the most common passwords."),
    ("li.qiang@2026", "Must not contain your e-mail address."),
    ("qwertyuiop", "Too easy to guess: it is one of the most common passwords."),
])
def test_registration_refuses_weak_passwords_with_the_reason(client, app_ctx, password, reason):
    response = client.post("/api/v1/auth/register", json=registration(password), headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["password"] == [reason]
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_the_registration_page_says_why_in_chinese(client):
    html = client.get("/register").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/register", data={
        "csrf_token": token, "kind": "enterprise", "email": "li.qiang@tangshan-gangtie.cn",
        "password": "1234567890", "password_confirm": "1234567890", "name": "唐山钢铁集团节能科技有限公司",
        "uscc": "91130200MA0CXK1X4D", "region_code": "130200"})
    assert response.status_code == 422
    assert "太容易被猜到：属于最常见的密码之一。" in response.get_data(as_text=True)


@pytest.mark.parametrize("password", [NEW_PASSWORD, "correct horse battery", "冀北风电-Zhangbei-58MW"])
def test_strong_passwords_pass(password):
    assert problem(password, "wang.fang@zjk-fengguang.cn", "张家口风光新能源有限公司") is None


def test_the_command_line_refuses_weak_staff_passwords_with_the_reason(app, app_ctx):
    runner = app.test_cli_runner()
    weak = runner.invoke(args=["users", "create", "--email", "admin@greenmatch.cn", "--password", "password12",
                               "--role", "admin", "--org-name", "平台运营方"])
    assert weak.exit_code == 2
    assert "太容易被猜到：属于最常见的密码之一。" in weak.output  # the command line speaks the default, Chinese
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0
    strong = runner.invoke(args=["users", "create", "--email", "admin@greenmatch.cn", "--password", NEW_PASSWORD,
                                 "--role", "admin", "--org-name", "平台运营方"])
    assert strong.exit_code == 0, strong.output
