"""Access control on a real service (`robocortex serve` on loopback, real Redis): keys made with the real
`robocortex keys` command, then each role's allowed and refused calls (401 without a key, 403 with a
weaker one), the four ways to send a key, and a revoked key refused."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import httpx
import pytest

from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import NodePatch, RobotProfile, SceneDelta

from tests.support.service import Service

ROLES = ("viewer", "operator", "admin")


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"acc-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def env(redis_url, prefix) -> dict[str, str]:
    return {**os.environ, "ROBOCORTEX_REDIS_URL": redis_url, "ROBOCORTEX_KEY_PREFIX": prefix}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robocortex.agents.cli", *args], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def tokens(env) -> dict[str, str]:
    out = {}
    for role in ROLES:
        made = cli(env, "keys", "create", "--role", role, "--name", f"{role}-test")
        assert made.returncode == 0, made.stderr
        out[role] = made.stdout.strip()
        assert out[role].startswith("rck_") and "shown this once" in made.stderr
    return out


@pytest.fixture(scope="module")
def service(redis_url, prefix, tokens, tmp_path_factory):
    log = tmp_path_factory.mktemp("access") / "serve.log"
    # tasks wait for a robot (none comes): a cancel finds them still pending
    svc = Service(redis_url, prefix, log, env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "120"}).start()
    yield svc
    svc.stop()


@pytest.fixture(scope="module")
def memory(redis_url, prefix):
    r = connect(redis_url)
    yield r, Keys(prefix)
    for key in list(r.scan_iter(match=f"{prefix}:*", count=1000)):
        r.delete(key)
    r.close()


def _robot(memory, name: str, agent_id: int, holding: str | None = None) -> None:
    """A robot that registered and went offline (its alive key gone), holding something when lost."""
    r, keys = memory
    registry = RobotRegistry(r, keys)
    scene = SceneGraphStore(r, keys)
    scene.apply(SceneDelta(patches=[
        NodePatch(id="Fridge|1", set={"kind": "object", "objectType": "Fridge", "receptacle": True,
                                      "position": {"x": 1.0, "y": 0.0, "z": 1.0}}),
        NodePatch(id="Apple|1", set={"kind": "object", "objectType": "Apple", "pickupable": True}),
        NodePatch(id=name, set={"kind": "robot", "holding": holding, "position": {"x": 0.0, "y": 0.9, "z": 0.0},
                                "relations": [{"rel": "holding", "target": holding}] if holding else []}),
    ], source="test"))
    registry.register(RobotProfile(name=name, agent_id=agent_id, skills=["pick_up"]))
    registry.deregister(name)
    registry.mark_lost(name)


def _call(url: str, method: str, path: str, token: str | None, **kw) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, url + path, headers=headers, timeout=10, **kw)


def test_every_role_does_what_it_may_and_is_refused_the_rest(service, tokens, memory):
    for i, name in enumerate(("r-dec-op", "r-dec-admin", "r-del-op", "r-del-admin")):
        _robot(memory, name, 10 + i)
    _robot(memory, "r-held", 20, holding="Apple|1")
    task = _call(service.url, "POST", "/tasks", tokens["operator"], json={"instruction": "put the apple in the fridge"})
    assert task.status_code == 202, task.text
    task_id = task.json()["id"]

    # (method, path, body, the weakest role allowed); each is tried with no key and every role
    calls = [
        ("GET", "/tasks", None, "viewer"),
        ("GET", f"/tasks/{task_id}", None, "viewer"),
        ("GET", "/robots", None, "viewer"),
        ("GET", "/robots/r-held", None, "viewer"),
        ("GET", "/scene", None, "viewer"),
        ("GET", "/auth/me", None, "viewer"),
        ("GET", "/openapi.json", None, "viewer"),
        ("GET", "/metrics", None, "viewer"),
        ("POST", "/tasks", {"instruction": "turn off the light"}, "operator"),
        ("POST", f"/tasks/{task_id}/cancel", None, "operator"),
        ("POST", "/robots/r-held/held", {"object": "Apple|1", "at": "Fridge|1"}, "operator"),
        ("POST", "/robots/{}/decommission", None, "admin"),
        ("DELETE", "/robots/{}", None, "admin"),
    ]
    rank = {None: 0, "viewer": 1, "operator": 2, "admin": 3}
    seen: dict[tuple[str, str], dict[str, int]] = {}
    for method, path, body, weakest in calls:
        for who in (None, *ROLES):
            target = path
            if "{}" in path:  # a robot of its own per caller that is allowed, so each success is real
                kind = "dec" if "decommission" in path else "del"
                target = path.format(f"r-{kind}-{'admin' if who == 'admin' else 'op'}")
            resp = _call(service.url, method, target, tokens.get(who), json=body)
            seen.setdefault((method, path), {})[who or "none"] = resp.status_code
            if who is None:
                assert resp.status_code == 401, (method, target, resp.text)
                assert resp.headers["www-authenticate"] == "Bearer"
            elif rank[who] < rank[weakest]:
                assert resp.status_code == 403, (who, method, target, resp.text)
                assert weakest in resp.json()["detail"]
            else:
                assert resp.status_code in (200, 202, 204, 409), (who, method, target, resp.text)
    # what the allowed calls did
    assert seen[("POST", "/robots/r-held/held")] == {"none": 401, "viewer": 403, "operator": 200, "admin": 409}
    assert seen[("POST", "/robots/{}/decommission")]["admin"] == 200
    assert seen[("DELETE", "/robots/{}")]["admin"] == 204
    robots = {r["profile"]["name"]: r for r in _call(service.url, "GET", "/robots", tokens["viewer"]).json()}
    assert "r-del-admin" not in robots and "r-del-op" in robots
    assert robots["r-dec-admin"]["decommissioned_at"] and not robots["r-dec-op"]["decommissioned_at"]
    apple = _call(service.url, "GET", "/scene/nodes/Apple|1", tokens["viewer"]).json()
    assert apple["relations"] == [{"rel": "in", "target": "Fridge|1"}] and apple.get("unavailable") is None
    print("\nrole matrix (status per caller):")
    for (method, path), row in seen.items():
        print(f"  {method:6} {path:32} " + "  ".join(f"{k}={v}" for k, v in row.items()))


def test_the_audit_names_the_key_that_submitted_and_the_key_that_cancelled(service, tokens):
    task = _call(service.url, "POST", "/tasks", tokens["operator"], json={"instruction": "put the apple in the fridge"})
    assert task.status_code == 202, task.text
    task_id = task.json()["id"]
    assert _call(service.url, "POST", f"/tasks/{task_id}/cancel", tokens["admin"], json={}).status_code == 202
    audit = _call(service.url, "GET", f"/tasks/{task_id}/export", tokens["viewer"])
    assert audit.status_code == 200, audit.text
    assert audit.json()["submitted_by"] == "operator-test"
    cancelled = [e for e in audit.json()["events"] if e["kind"] == "status" and e["data"].get("status") == "cancelled"]
    assert [e["actor"] for e in cancelled] == ["admin-test"], audit.json()["events"]


def test_health_and_the_console_shell_need_no_key_and_the_rest_does(service, tokens):
    assert httpx.get(f"{service.url}/health", timeout=10).status_code == 200
    assert httpx.get(f"{service.url}/", timeout=10).status_code == 200
    assert httpx.get(f"{service.url}/console/console.js", timeout=10).status_code == 200
    for path in ("/scene", "/docs", "/scene/floor", "/tasks/nope", "/no/such/route"):
        assert httpx.get(f"{service.url}{path}", timeout=10).status_code == 401, path
    bad = httpx.get(f"{service.url}/scene", headers={"X-API-Key": "rck_000000000000_" + "x" * 43}, timeout=10)
    assert bad.status_code == 401 and "unknown or revoked" in bad.json()["detail"]


def test_a_key_goes_as_header_cookie_or_query_token_and_the_event_stream_takes_the_cookie(service, tokens):
    viewer = tokens["viewer"]
    assert httpx.get(f"{service.url}/scene", headers={"X-API-Key": viewer}, timeout=10).status_code == 200
    assert httpx.get(f"{service.url}/scene", params={"token": viewer}, timeout=10).status_code == 200
    with httpx.Client(base_url=service.url, timeout=10) as browser:
        assert browser.post("/auth/login", json={"key": "rck_nope"}).status_code == 401
        login = browser.post("/auth/login", json={"key": viewer})
        assert login.status_code == 200 and login.json()["role"] == "viewer"
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert browser.get("/auth/me").json()["name"] == "viewer-test"
        with browser.stream("GET", "/events") as live:  # what the console's EventSource does
            assert live.status_code == 200 and live.headers["content-type"].startswith("text/event-stream")
        assert browser.post("/auth/logout", json={}).status_code == 204
        assert browser.get("/scene").status_code == 401


def test_keys_are_listed_without_secrets_and_a_revoked_key_is_refused(service, env, tokens, memory):
    r, keys = memory
    stored = r.hgetall(keys.api_keys)
    assert len(stored) >= 3 and not any(t in doc for doc in stored.values() for t in tokens.values())
    listed = cli(env, "keys", "list")
    assert listed.returncode == 0 and "operator-test" in listed.stdout
    assert not any(t in listed.stdout for t in tokens.values())

    made = cli(env, "keys", "create", "--role", "viewer", "--name", "short-lived")
    token = made.stdout.strip()
    key_id = token.split("_")[1]
    assert _call(service.url, "GET", "/scene", token).status_code == 200
    revoked = cli(env, "keys", "revoke", key_id)
    assert revoked.returncode == 0 and key_id in revoked.stdout
    refused = _call(service.url, "GET", "/scene", token)
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert key_id not in cli(env, "keys", "list").stdout and key_id in cli(env, "keys", "list", "--revoked").stdout


@pytest.mark.parametrize("args, fragment", [
    (("keys", "create", "--role", "root", "--name", "x"), "--role 'root': use viewer, operator or admin"),
    (("keys", "create", "--role", "viewer", "--name", "../bad name;"), "--name"),
    (("keys", "revoke", "000000000000"), "no active key '000000000000'"),
    (("keys", "create", "--name", "x"), "Missing option '--role'"),
])
def test_bad_keys_input_is_one_line_and_exit_2(env, args, fragment):
    proc = cli(env, *args)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.count("\n") == 1 and fragment in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_keys_refuse_a_shared_embedded_redis_nobody_runs_on(tmp_path):
    """With no URL and no process on the machine's shared embedded Redis, a key made would vanish at exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORTEX_")}
    env["ROBOCORTEX_REDIS_SOCKET"] = str(tmp_path / "meet" / "redis.socket")
    proc = cli(env, "keys", "create", "--role", "admin", "--name", "lost")
    assert proc.returncode == 3 and proc.stderr.count("\n") == 1, proc.stderr
    assert "start `robocortex serve` first, or set ROBOCORTEX_REDIS_URL" in proc.stderr and not proc.stdout
