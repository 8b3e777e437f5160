"""The world host (`robocortex world-host`, a real process on loopback) with a shared secret: every call but
/health needs it, a wrong or missing one is refused, the world client sends it, and no client can hand
the host a folder to read (scenes go by name)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from robocortex.agents.launcher import free_port
from robocortex.sim.client import WorldClient

SECRET = "s3cret-for-this-test"


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("world") / "world.log"
    env = {**os.environ, "ROBOCORTEX_WORLD_SECRET": SECRET, "ROBOCORTEX_WORLD_BACKEND": "emulator"}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", "world-host", "--port", str(port),
                                 "--agents", "1", "--no-seed-memory"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(log.read_text()[-2000:])
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_the_world_host_needs_its_secret(host):
    assert httpx.get(f"{host}/health", timeout=10).status_code == 200  # workers wait on it without the secret
    step = {"agent_id": 0, "action": "Pass", "params": {}}
    for headers in ({}, {"X-World-Secret": "wrong"}, {"X-World-Secret": SECRET + "x"}):
        resp = httpx.post(f"{host}/step", json=step, headers=headers, timeout=10)
        assert resp.status_code == 401, (headers, resp.text)
        assert "X-World-Secret" in resp.json()["detail"]
        assert httpx.post(f"{host}/reset", json={"scene": "Kitchen-1"}, headers=headers, timeout=10).status_code == 401
        assert httpx.get(f"{host}/metadata/0", headers=headers, timeout=10).status_code == 401
    with pytest.raises(PermissionError):
        WorldClient(host, secret="wrong").step(0, "Pass")
    good = WorldClient(host, secret=SECRET)
    try:
        assert good.step(0, "Pass")["lastActionSuccess"]
        assert good.reset("Kitchen-1", 1)[0]["sceneName"] == "Kitchen-1"
    finally:
        good.stop()


@pytest.mark.parametrize("body", [
    {"scene": "FloorPlan1", "init": {"layouts_dir": "/etc"}},
    {"scene": "../../etc/passwd"},
    {"scene": "/tmp/layouts/FloorPlan1"},
    {"scene": "Kitchen-0", "agent_count": 1, "layouts_dir": "/etc"},
])
def test_a_client_never_hands_the_host_a_path(host, body):
    resp = httpx.post(f"{host}/reset", json=body, headers={"X-World-Secret": SECRET}, timeout=10)
    assert resp.status_code == 422, resp.text


@pytest.mark.parametrize("step", [
    {"agent_id": 0, "action": "Initialize", "params": {"layouts_dir": "/etc"}},
    {"agent_id": 0, "action": "Reset", "params": {"scene": "FloorPlan1"}},
    {"agent_id": 0, "action": "Pass", "params": {"layouts_dir": "/etc"}},
])
def test_a_step_cannot_reinitialise_the_world_or_name_a_folder(host, step):
    resp = httpx.post(f"{host}/step", json=step, headers={"X-World-Secret": SECRET}, timeout=10)
    assert resp.status_code == 422, resp.text
