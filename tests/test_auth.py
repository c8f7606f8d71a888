"""Signing in and out of the review server: sign-ins kept on the server, throttling, user
administration from the CLI, and where a sign-in may send the browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from ingest.cli import main
from review.app import create_app
from review.auth import add_user, set_disabled
from review.settings import WebSettings
from review.throttle import SignInThrottle, ThrottleSettings
from review.views import safe_next

PASSWORD = "correct horse battery"


@pytest.fixture
def users(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        add_user(session, "ann", PASSWORD, "reviewer")
        add_user(session, "ada", PASSWORD, "admin")
    return sessions


def _client(users: sessionmaker[Session], tmp_path: Path, **settings: object) -> TestClient:
    url = users.kw["bind"].url.render_as_string(hide_password=False)
    web = WebSettings(url, "s" * 40, tmp_path / "uploads", **settings)  # type: ignore[arg-type]
    return TestClient(create_app(web), follow_redirects=False)


@pytest.fixture
def client(users: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    with _client(users, tmp_path) as client:
        yield client


def _token(client: TestClient, path: str = "/login") -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', client.get(path).text)
    assert found, f"{path} has no form token"
    return found.group(1)


def _sign_in(client: TestClient, name: str, password: str = PASSWORD) -> int:
    form = {"csrftoken": _token(client), "name": name, "password": password}
    return client.post("/login", data=form).status_code


def test_a_cookie_replayed_after_signing_out_is_refused(client: TestClient) -> None:
    assert _sign_in(client, "ann") == 303
    cookie = client.cookies.get("councilreg_session")
    assert client.get("/queue.json").status_code == 200
    assert client.post("/logout", data={"csrftoken": _token(client, "/items")}).status_code == 303

    client.cookies.set("councilreg_session", cookie)
    assert client.get("/queue.json").status_code == 401


def test_disabling_a_user_ends_their_sign_ins_at_once(
    client: TestClient, users: sessionmaker[Session]
) -> None:
    assert _sign_in(client, "ann") == 303
    assert client.get("/queue.json").status_code == 200
    with users.begin() as session:
        set_disabled(session, "ann", True)
    assert client.get("/queue.json").status_code == 401
    assert _sign_in(client, "ann") == 400
    with users.begin() as session:
        set_disabled(session, "ann", False)
    assert _sign_in(client, "ann") == 303


def test_wrong_passwords_are_throttled_per_name_then_answered_429(client: TestClient) -> None:
    for _ in range(5):
        assert _sign_in(client, "ann", "wrong password!") == 400
    response = client.post(
        "/login", data={"csrftoken": _token(client), "name": "ann", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60 + 1
    assert "Too many wrong passwords" in response.text
    assert _sign_in(client, "ada") == 303  # another name from the same address still may


def test_password_hashing_runs_a_few_at_a_time_and_the_rest_are_told_to_wait(
    users: sessionmaker[Session], tmp_path: Path
) -> None:
    throttle = ThrottleSettings(concurrent_hashes=1, wait_for_hash=0.05)
    with _client(users, tmp_path, throttle=throttle) as client:
        held: SignInThrottle = client.app.app.state.throttle  # type: ignore[attr-defined]
        with held.hashing() as turn:
            assert turn
            response = client.post(
                "/login", data={"csrftoken": _token(client), "name": "ann", "password": PASSWORD}
            )
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "5"
        assert _sign_in(client, "ann") == 303


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/items/3", "/items/3"),
        ("/queue", "/queue"),
        ("/", "/"),
        ("//evil.example", "/queue"),
        ("/\\evil.example", "/queue"),
        ("/%5Cevil.example", "/queue"),
        ("https://evil.example/", "/queue"),
        ("/items//evil", "/queue"),
        ("", "/queue"),
    ],
)
def test_a_sign_in_only_sends_the_browser_to_a_path_on_this_server(target: str, safe: str) -> None:
    assert safe_next(target) == safe


def test_users_are_listed_disabled_enabled_and_given_new_passwords_from_the_cli(
    users: sessionmaker[Session], client: TestClient
) -> None:
    url = users.kw["bind"].url.render_as_string(hide_password=False)

    def cli(*args: str, input: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--database-url", url, *args], input=input)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    assert cli("users", "list") == (0, "ada\tadmin\nann\treviewer\n")
    assert _sign_in(client, "ann") == 303
    assert cli("users", "disable", "ann") == (0, "disabled ann; their sign-ins have ended\n")
    assert client.get("/queue.json").status_code == 401
    assert cli("users", "list") == (0, "ada\tadmin\nann\treviewer\tdisabled\n")
    assert cli("users", "enable", "ann") == (0, "enabled ann\n")
    new = "a much longer passphrase"
    assert cli("users", "reset-password", "ann", "--password", new) == (
        0,
        "set the password of ann; their sign-ins have ended\n",
    )
    assert _sign_in(client, "ann") == 400
    assert _sign_in(client, "ann", new) == 303
    assert cli("users", "disable", "nobody") == (1, "Error: there is no user called 'nobody'\n")
    assert cli("users", "reset-password", "ann", "--password", "short") == (
        1,
        "Error: a password has at least 10 characters\n",
    )
    assert cli("users", "set-role", "ann", "admin") == (
        0,
        "ann is now an admin; their sign-ins have ended\n",
    )
    assert client.get("/queue.json").status_code == 401
    assert cli("users", "list", "--json")[1].count('"role": "admin"') == 2


def test_a_sign_in_unused_for_an_hour_or_older_than_twelve_ends(
    client: TestClient, users: sessionmaker[Session]
) -> None:
    import datetime as dt

    from sqlalchemy import update

    from models import SignIn

    assert _sign_in(client, "ann") == 303
    assert client.get("/queue.json").status_code == 200
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1, minutes=1)
    with users.begin() as session:
        session.execute(update(SignIn).values(last_seen_at=an_hour_ago))
    assert client.get("/queue.json").status_code == 401

    assert _sign_in(client, "ann") == 303
    with users.begin() as session:
        session.execute(update(SignIn).values(expires_at=dt.datetime.now(dt.UTC)))
    assert client.get("/queue.json").status_code == 401


def test_admins_manage_users_on_the_users_page_and_reviewers_may_not(
    client: TestClient,
) -> None:
    assert _sign_in(client, "ann") == 303
    assert client.get("/users").status_code == 403
    client.post("/logout", data={"csrftoken": _token(client, "/items")})

    assert _sign_in(client, "ada") == 303
    token = _token(client, "/users")
    listed = client.get("/users.json").json()["users"]
    assert [(u["name"], u["role"], u["signed_in"]) for u in listed] == [
        ("ada", "admin", 1),
        ("ann", "reviewer", 0),
    ]

    def post(**form: str) -> tuple[int, str]:
        response = client.post(
            "/users", data={"csrftoken": token, **form}, headers={"accept": "application/json"}
        )
        body = response.json()
        return response.status_code, body["notice"] or body["error"]

    assert post(action="disable", name="ann") == (200, "disabled ann")
    assert post(action="enable", name="ann") == (200, "enabled ann")
    assert post(action="set-role", name="ann", role="admin") == (
        200,
        "ann is now admin; their sign-ins have ended",
    )
    assert post(action="reset-password", name="ann", password="short") == (
        400,
        "a password has at least 10 characters",
    )
    assert post(action="add", name="bea", role="reviewer", password=PASSWORD) == (
        200,
        "added reviewer bea",
    )
    assert post(action="disable", name="ada") == (
        400,
        "you cannot disable or demote yourself; ask another admin",
    )
    assert client.get("/users").status_code == 200  # still signed in
