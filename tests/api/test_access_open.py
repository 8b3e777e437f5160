"""The service with no API key (the single-machine default), on loopback with a real Redis: it says it is
open at start, yet no web page can change anything through it — a cross-site form post to cancel a task
is refused and the task goes on — CORS is off unless configured, and the page carries security headers."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from robocortex.memory.apikeys import ApiKeyStore, Role
from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys

from tests.support.service import Service


@pytest.fixture(scope="module")
def waiting(redis_url, tmp_path_factory):
    """A service whose tasks wait for a robot (none comes), so a task stays pending while we try to cancel it."""
    log = tmp_path_factory.mktemp("open") / "serve.log"
    svc = Service(redis_url, f"open-{uuid.uuid4().hex[:8]}", log, env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "120"}).start()
    yield svc
    svc.stop()


def _pending_task(url: str) -> str:
    resp = httpx.post(f"{url}/tasks", json={"instruction": "put the apple in the fridge"}, timeout=10)
    assert resp.status_code == 202, resp.text
    return resp.json()["id"]


def test_the_open_service_says_so_at_start(waiting):
    text = waiting.log.read_text()
    assert "access control OFF" in text and "robocortex keys create" in text


def test_a_cross_site_form_post_cannot_cancel_a_task(waiting, redis_url):
    r, keys = connect(redis_url), Keys(waiting.prefix)
    task_id = _pending_task(waiting.url)
    cancel = f"{waiting.url}/tasks/{task_id}/cancel"
    # what <form method=post action=.../cancel> on any page sends: urlencoded, multipart, text/plain
    form = httpx.post(cancel, data={"x": "1"}, headers={"Origin": "https://evil.example"}, timeout=10)
    assert form.status_code == 415, form.text
    assert "application/json" in form.json()["detail"]
    assert httpx.post(cancel, files={"f": ("a", b"1")}, timeout=10).status_code == 415
    assert httpx.post(cancel, content=b"x", headers={"Content-Type": "text/plain"}, timeout=10).status_code == 415
    # a body-less no-cors fetch from another site: no content type, but the browser says where it came from
    assert httpx.post(cancel, headers={"Origin": "https://evil.example"}, timeout=10).status_code == 403
    assert httpx.post(cancel, headers={"Sec-Fetch-Site": "cross-site"}, timeout=10).status_code == 403
    assert httpx.post(cancel, headers={"Origin": "null"}, timeout=10).status_code == 403
    assert httpx.get(f"{waiting.url}/tasks/{task_id}", timeout=10).json()["status"] == "pending"
    assert not r.exists(keys.task_cancel(task_id))  # and no cancel was even asked for

    # the console's own request (same origin) and a JSON client both may
    port = waiting.url.rsplit(":", 1)[1]
    same = httpx.post(cancel, headers={"Origin": f"http://127.0.0.1:{port}", "Content-Type": "application/json"},
                      timeout=10)
    assert same.status_code == 202, same.text
    assert same.json()["status"] == "cancelled"  # a task nobody works on yet ends at once
    r.close()


def test_cors_is_off_by_default(waiting):
    pre = httpx.options(f"{waiting.url}/tasks", headers={"Origin": "https://ops.example",
                                                          "Access-Control-Request-Method": "POST"}, timeout=10)
    assert not any(h.startswith("access-control-") for h in pre.headers), dict(pre.headers)
    get = httpx.get(f"{waiting.url}/tasks", headers={"Origin": "https://ops.example"}, timeout=10)
    assert get.status_code == 200 and "access-control-allow-origin" not in get.headers


def test_security_headers_on_the_page_and_the_api(waiting):
    page = httpx.get(f"{waiting.url}/", timeout=10)
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    api = httpx.get(f"{waiting.url}/tasks", timeout=10)
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    assert api.headers["x-content-type-options"] == "nosniff"


def test_cors_when_configured_allows_only_those_origins(redis_url, tmp_path):
    svc = Service(redis_url, f"cors-{uuid.uuid4().hex[:8]}", tmp_path / "serve.log",
                  env={"ROBOCORTEX_CORS_ORIGINS": json.dumps(["https://ops.example"]),
                       "ROBOCORTEX_WAIT_FOR_ROBOTS_S": "0"}).start()
    try:
        ok = httpx.options(f"{svc.url}/tasks", headers={"Origin": "https://ops.example",
                                                         "Access-Control-Request-Method": "POST"}, timeout=10)
        assert ok.headers.get("access-control-allow-origin") == "https://ops.example"
        other = httpx.get(f"{svc.url}/tasks", headers={"Origin": "https://evil.example"}, timeout=10)
        assert "access-control-allow-origin" not in other.headers
        # the listed origin may change things (with JSON); another may not
        post = httpx.post(f"{svc.url}/tasks", json={"instruction": "turn off the light"},
                          headers={"Origin": "https://ops.example"}, timeout=10)
        assert post.status_code == 202, post.text
        assert httpx.post(f"{svc.url}/tasks", json={"instruction": "turn off the light"},
                          headers={"Origin": "https://evil.example"}, timeout=10).status_code == 403
        # with keys, a preflight (which never carries one) is still answered; the request itself needs the key
        r = connect(redis_url)
        token = ApiKeyStore(r, Keys(svc.prefix)).create("ops-page", Role.operator).token
        pre = httpx.options(f"{svc.url}/tasks", headers={"Origin": "https://ops.example",
                                                          "Access-Control-Request-Method": "POST",
                                                          "Access-Control-Request-Headers": "authorization"}, timeout=10)
        assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "https://ops.example"
        assert httpx.get(f"{svc.url}/tasks", headers={"Origin": "https://ops.example"}, timeout=10).status_code == 401
        assert httpx.get(f"{svc.url}/tasks", headers={"Origin": "https://ops.example", "Authorization": f"Bearer {token}"},
                         timeout=10).status_code == 200
        for key in list(r.scan_iter(match=f"{svc.prefix}:*", count=1000)):
            r.delete(key)
        r.close()
    finally:
        svc.stop()
