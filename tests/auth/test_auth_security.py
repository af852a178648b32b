"""Refusals: each with the right status AND exactly one audit entry (and nothing let through)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from observatoire.auth.sessions import COOKIE

from conftest import PASSWORD, World, csrf_of_form

EVENTS = "/api/v1/events"
ANALYSIS = "/api/v1/hotspots?cell_m=2000"   # an analysts-only data route that answers 200 on the tiny store


def _new(world: World, before: int) -> list[dict[str, Any]]:
    return [e for e in world.audit.entries() if e["seq"] > before]


def _one(world: World, before: int, action: str, reason: str | None = None) -> dict[str, Any]:
    entries = _new(world, before)
    assert [e["action"] for e in entries] == [action], entries
    if reason is not None:
        assert entries[0]["detail"]["reason"] == reason
    assert entries[0]["outcome"] == "denied"
    return entries[0]


def _login_post(c: Any, login: str, password: str, **extra: str) -> Any:
    data = {"login": login, "password": password, "csrf_token": csrf_of_form(c.get("/login").text), **extra}
    return c.post("/login", data=data, follow_redirects=False)


def test_when_password_is_wrong_then_401_and_one_login_failed(world: World) -> None:
    with world.client() as c:
        before = world.last_seq()
        r = _login_post(c, "analyst", "not the password at all")
        assert r.status_code == 401 and COOKIE not in r.cookies
        entry = _one(world, before, "login_failed", "bad_password")
        assert entry["actor"] == "user:analyst" and "not the password" not in str(entry)


def test_when_login_is_unknown_then_401_and_one_login_failed(world: World) -> None:
    with world.client() as c:
        before = world.last_seq()
        assert _login_post(c, "nobody", PASSWORD).status_code == 401
        assert _one(world, before, "login_failed", "unknown_login")["actor"] == "anonymous"


def test_when_login_succeeds_then_session_cookie_flags_and_one_login_entry(world: World) -> None:
    with world.client() as c:
        before = world.last_seq()
        r = _login_post(c, "analyst", PASSWORD, next="/api/v1/me")
        assert r.status_code == 303 and r.headers["location"] == "/api/v1/me"
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(COOKIE))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
        assert [e["action"] for e in _new(world, before)] == ["login"]
        me = c.get("/api/v1/me").json()
        assert me["role"] == "analyst" and me["via"] == "session" and me["purposes"] == ["operational_analysis"]


def test_when_next_points_elsewhere_then_login_goes_home(world: World) -> None:
    with world.client() as c:
        assert _login_post(c, "analyst", PASSWORD, next="//evil.example/x").headers["location"] == "/"


def test_when_secure_cookies_then_the_session_cookie_is_secure(world: World, tmp_path: Any) -> None:
    from dataclasses import replace

    from observatoire.api.app import create_app

    app = create_app(replace(world.app.state.settings, secure_cookies=True))
    with __import__("fastapi.testclient", fromlist=["TestClient"]).TestClient(app, base_url="https://testserver") as c:
        r = _login_post(c, "analyst", PASSWORD)
        cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(COOKIE))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_when_failures_repeat_then_429_until_the_backoff_passes(world: World) -> None:
    with world.client() as c:
        for _ in range(5):
            assert _login_post(c, "operator", "wrong password, again").status_code == 401
        before = world.last_seq()
        r = _login_post(c, "operator", PASSWORD)                  # even the right password waits
        assert r.status_code == 429 and int(r.headers["retry-after"]) == 31  # 30 s, rounded up
        _one(world, before, "login_failed", "throttled")
        world.clock.advance(seconds=31)
        assert _login_post(c, "operator", "wrong password, again").status_code == 401
        assert _login_post(c, "operator", PASSWORD).status_code == 429   # the lockout doubled: 60 s
        world.clock.advance(seconds=61)
        assert _login_post(c, "operator", PASSWORD).status_code == 303   # success resets the login's count
        assert _login_post(c, "operator", "wrong password, again").status_code == 401


def test_when_login_form_has_no_or_a_wrong_csrf_token_then_403_audited(world: World) -> None:
    with world.client() as c:
        c.get("/login")
        for data, reason in (({}, "csrf_missing"), ({"csrf_token": "forged"}, "csrf_mismatch")):
            before = world.last_seq()
            r = c.post("/login", data={"login": "analyst", "password": PASSWORD, **data}, follow_redirects=False)
            assert r.status_code == 403 and COOKIE not in r.cookies
            _one(world, before, "authorisation_denied", reason)


@pytest.mark.parametrize("case", ["malformed", "unknown", "expired", "revoked", "not bearer"])
def test_when_token_is_bad_then_401_audited_once(world: World, case: str) -> None:
    auth = world.app.state.auth
    token, secret = auth.tokens.issue("probe", "analyst", issued_by="test", days=1)
    header = {"malformed": "Bearer obs_123", "unknown": f"Bearer {secret[:-4]}AAAA", "expired": f"Bearer {secret}",
              "revoked": f"Bearer {secret}", "not bearer": f"Basic {secret}"}[case]
    if case == "expired":
        world.clock.advance(days=1, seconds=1)
    if case == "revoked":
        auth.tokens.revoke(token.id)
    before = world.last_seq()
    with world.client() as c:
        r = c.get(ANALYSIS, headers={"Authorization": header})
        assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
        # a bad credential is refused even on a public route
        assert c.get("/api/v1/zones", headers={"Authorization": header}).status_code == 401
    reasons = [e["detail"]["reason"] for e in _new(world, before)]
    expected = {"malformed": "token_malformed", "unknown": "token_unknown", "expired": "token_expired",
                "revoked": "token_revoked", "not bearer": "token_malformed"}[case]
    assert reasons == [expected, expected]


def test_when_session_is_idle_or_old_then_401_audited_once(world: World) -> None:
    with world.client() as c:
        world.login(c, "analyst")
        assert c.get(ANALYSIS).status_code == 200
        world.clock.advance(minutes=29)
        assert c.get(ANALYSIS).status_code == 200                 # activity keeps it alive
        world.clock.advance(minutes=31)
        before = world.last_seq()
        assert c.get(ANALYSIS).status_code == 401
        _one(world, before, "authorisation_denied", "session_unknown_or_expired")
        assert c.get("/api/v1/me").json()["role"] == "public"     # public pages stay open
    with world.client() as c:
        start = world.clock.now
        world.login(c, "analyst")
        for _ in range(12 * 3):                                   # active every 20 minutes ...
            world.clock.advance(minutes=20)
            if c.get("/api/v1/me").json()["role"] == "public":
                break
        assert world.clock.now - start == timedelta(hours=12)   # ... but never past 12 hours


def test_when_cookie_is_tampered_with_then_401_audited_once(world: World) -> None:
    with world.client() as c:
        world.login(c, "analyst")
        value = c.cookies.get(COOKIE)
        c.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
        before = world.last_seq()
        assert c.get(ANALYSIS).status_code == 401
        _one(world, before, "authorisation_denied", "session_unknown_or_expired")


def test_when_a_session_post_has_no_or_a_wrong_csrf_token_then_403_audited(world: World) -> None:
    with world.client() as c:
        world.login(c, "analyst")
        for headers, reason in (({}, "csrf_missing"), ({"X-CSRF-Token": "forged"}, "csrf_mismatch")):
            before = world.last_seq()
            assert c.post("/logout", headers=headers, follow_redirects=False).status_code == 403
            _one(world, before, "authorisation_denied", reason)
        assert c.get("/api/v1/me").json()["role"] == "analyst"    # still logged in
        token = c.get("/api/v1/me").json()["csrf_token"]
        before = world.last_seq()
        r = c.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and [e["action"] for e in _new(world, before)] == ["logout"]
        assert c.get("/api/v1/me").json()["role"] == "public"


@pytest.mark.parametrize("purpose, status, reason", [
    (None, 422, "purpose_missing"), ("curiosity", 422, "purpose_unknown"),
    ("data_subject_request", 403, "purpose_not_open_to_role"),
])
def test_when_purpose_is_missing_unknown_or_not_the_roles_then_refused_and_audited(
        world: World, purpose: str | None, status: int, reason: str) -> None:
    headers = {"Authorization": f"Bearer {world.tokens['analyst']}"}
    if purpose:
        headers["X-Purpose"] = purpose
    before = world.last_seq()
    with world.client() as c:
        r = c.get(EVENTS, headers=headers)
    assert r.status_code == status
    entry = _one(world, before, "authorisation_denied", reason)
    assert entry["dataset"] == "events" and entry["role"] == "analyst"


def test_when_an_analyst_tries_admin_things_then_403_audited(world: World) -> None:
    with world.client() as c:
        world.login(c, "analyst")
        csrf = c.get("/api/v1/me").json()["csrf_token"]
        before = world.last_seq()
        r = c.post("/api/v1/tokens", json={"name": "mine", "role": "admin"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 403
        _one(world, before, "authorisation_denied", "role_not_allowed")
        before = world.last_seq()
        assert c.get("/api/v1/audit").status_code == 403
        _one(world, before, "authorisation_denied", "role_not_allowed")
    # a token keeps its role whatever the request claims
    before = world.last_seq()
    with world.client() as c:
        r = c.get("/api/v1/tokens", headers={"Authorization": f"Bearer {world.tokens['analyst']}", "X-Role": "admin"})
        assert r.status_code == 403
        assert c.get("/api/v1/tokens", headers={"Authorization": f"Bearer {world.tokens['operator']}"},
                     cookies={}).status_code == 403
    assert [e["detail"]["reason"] for e in _new(world, before)] == ["role_not_allowed"] * 2
    assert not [t for t in world.app.state.auth.tokens.list() if t.name == "mine"]


def test_when_account_disabled_then_login_refused(world: World) -> None:
    accounts = world.app.state.auth.accounts
    accounts.add("leaver", "analyst", PASSWORD)
    accounts.set_disabled("leaver")
    with world.client() as c:
        before = world.last_seq()
        assert _login_post(c, "leaver", PASSWORD).status_code == 401
        _one(world, before, "login_failed", "disabled")


def test_admin_issues_and_revokes_a_token_each_audited(world: World) -> None:
    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    with world.client() as c:
        before = world.last_seq()
        issued = c.post("/api/v1/tokens", json={"name": "nightly export", "role": "analyst", "days": 7}, headers=admin)
        assert issued.status_code == 201
        secret = issued.json()["secret"]
        assert c.get(ANALYSIS, headers={"Authorization": f"Bearer {secret}"}).status_code == 200
        listed = c.get("/api/v1/tokens", headers=admin).json()["tokens"]
        assert all("secret" not in t and "secret_sha256" not in t for t in listed)
        assert c.delete(f"/api/v1/tokens/{issued.json()['id']}", headers=admin).status_code == 200
        assert c.get(ANALYSIS, headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    actions = [e["action"] for e in _new(world, before)]
    assert actions == ["token_issued", "consult", "token_revoked", "authorisation_denied"]
