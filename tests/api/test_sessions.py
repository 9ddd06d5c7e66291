"""The browser login of the workbench: an API key exchanged for a signed, HTTP-only session
cookie that authorizes reads only, ends with logout, expiry, a revoked key or a forged cookie."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import sessions
from api.app import create_app
from api.keys import add_key, load_keys, revoke_key
from graph.store import Store
from tests.api.conftest import make_settings


@pytest.fixture
def browser(scenario_store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str], str]]:
    # the test client speaks plain http://testserver, where a Secure cookie would not be sent back
    settings, keys = make_settings(tmp_path, scenario_store.url, cookie_secure=False)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        yield client, keys, settings.api_keys_file


def test_login_gives_a_session_for_reads_only(browser: tuple[TestClient, dict[str, str], str]) -> None:
    client, keys, _ = browser
    assert client.get("/").headers["location"] == "/login"  # no session: the login form
    assert "API key" in client.get("/login").text
    bad = client.post("/login", data={"key": "rtc_wrong"})
    assert bad.status_code == 401 and "unknown API key" in bad.text and sessions.COOKIE not in bad.cookies
    done = client.post("/login", data={"key": keys["loader"]})
    assert done.status_code == 303 and done.headers["location"] == "/"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and keys["loader"] not in cookie
    home = client.get("/")
    assert home.status_code == 200 and "loader-user (loader)" in home.text and "中央委员会" in home.text
    assert client.get("/organizations?q=甲镇").json()["total"] == 2
    assert client.get("/cases?q=k1").json()["data"][0]["id"] == "K1"
    assert client.get("/views/cases/K1").status_code == 200
    # a cookie is sent by the browser whatever page asks: it never authorizes a write
    assert client.post("/imports", files={"file": ("a.csv", b"x")}).status_code == 401
    out = client.post("/logout")
    assert out.headers["location"] == "/login" and 'rtc_session=""' in out.headers["set-cookie"]
    assert client.get("/organizations").status_code == 401


def test_a_revoked_key_ends_its_sessions(browser: tuple[TestClient, dict[str, str], str]) -> None:
    client, keys, keys_file = browser
    client.post("/login", data={"key": keys["reader"]})
    assert client.get("/organizations").status_code == 200
    revoke_key(keys_file, "reader-user")
    assert client.get("/organizations").status_code == 401
    add_key(keys_file, "reader-user", "reader")  # the same name, a new key: the old session stays dead
    assert client.get("/organizations").status_code == 401


def test_forged_and_expired_sessions_are_refused(browser: tuple[TestClient, dict[str, str], str]) -> None:
    client, _, keys_file = browser
    secret = client.app.state.session_secret  # type: ignore[attr-defined]
    entries = load_keys(keys_file)
    admin = next(e for e in entries if e["name"] == "admin-user")
    token = sessions.issue(admin, secret, 1.0, now=1_000_000.0)
    assert sessions.verify(token, secret, entries, now=1_000_000.0 + 3599).name == "admin-user"  # type: ignore[union-attr]
    assert sessions.verify(token, secret, entries, now=1_000_000.0 + 3601) is None  # expired
    assert sessions.verify(token, b"another secret", entries, now=1_000_000.0) is None
    encoded, mac = token.rsplit(".", 1)
    assert sessions.verify(encoded[:-2] + "xx." + mac, secret, entries, now=1_000_000.0) is None
    assert sessions.verify("garbage", secret, entries) is None
    client.cookies.set(sessions.COOKIE, token)  # expired long ago
    assert client.get("/organizations").status_code == 401


def test_the_cookie_is_secure_by_default(scenario_store: Store, tmp_path: Path) -> None:
    settings, keys = make_settings(tmp_path, scenario_store.url)
    with TestClient(create_app(settings), follow_redirects=False) as client:
        assert "Secure" in client.post("/login", data={"key": keys["reader"]}).headers["set-cookie"]
