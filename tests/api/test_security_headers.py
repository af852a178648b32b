"""Hostile requests: security headers on every answer, no caching of restricted data, forwarded headers believed
only from configured proxies (checked against a real uvicorn server)."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from observatoire.cli import server_config


@pytest.mark.parametrize("url, status", [
    ("/api/v1/zones", 200), ("/api/v1/meta", 200), ("/api/v1/public/releases", 200), ("/public", 200),
    ("/static/common.js", 200), ("/login", 200), ("/api/v1/nowhere", 404),
])
def test_every_answer_carries_the_security_headers(client: TestClient, url: str, status: int) -> None:
    response = client.get(url)
    assert response.status_code == status
    csp = response.headers["content-security-policy"]
    script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script.split() == ["script-src", "'self'"]                   # no inline, no foreign script
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


def test_restricted_answers_are_never_cached_and_public_ones_may_be(client: TestClient, anonymous: TestClient) -> None:
    events = client.get("/api/v1/events", headers={"X-Purpose": "operational_analysis"})
    assert events.status_code == 200 and events.headers["cache-control"] == "no-store"
    for url in ("/api/v1/zones", "/", "/api/v1/audit?last=1"):
        assert client.get(url).headers["cache-control"] == "no-store", url
    assert anonymous.get("/api/v1/events").headers["cache-control"] == "no-store"      # a refusal too
    assert anonymous.get("/api/v1/public/releases").headers["cache-control"] == "public, max-age=300"


async def _echo_client(scope, receive, send) -> None:  # noqa: ANN001 - a minimal ASGI app: the address uvicorn saw
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": str(scope["client"][0]).encode()})


def _serve(trusted: tuple[str, ...]) -> tuple[object, int]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(server_config(_echo_client, "127.0.0.1", port, trusted))
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    return server, port


@pytest.mark.parametrize("trusted, seen", [((), "127.0.0.1"), (("127.0.0.1",), "203.0.113.9"),
                                           (("10.0.0.0/8",), "127.0.0.1")])
def test_a_forwarded_address_is_believed_only_from_a_configured_proxy(trusted: tuple[str, ...], seen: str) -> None:
    server, port = _serve(trusted)
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
        assert answer.text == seen
    finally:
        server.should_exit = True
