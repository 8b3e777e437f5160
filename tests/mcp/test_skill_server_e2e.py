"""A robot that takes a skill from an MCP server, end to end: world host, two robot workers and the brain
as separate processes meeting through Redis, and the reference MCP skill server (agents/skill_server.py)
as a real process — started by robot1's worker over stdio, or by the test over streamable HTTP. Neither
robot has the built-in `clean`: "clean the pot" needs the server's `wipe`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from robocortex.agents.launcher import RobotSpec, Stack, free_port
from robocortex.cerebellum.profiles import ALL_SKILLS
from robocortex.client import Client

from tests.support.processes import until
from tests.web.conftest import browser  # noqa: F401 - the console check's fixture

pytestmark = pytest.mark.e2e

SERVER = [sys.executable, "-m", "robocortex.agents.skill_server"]
NO_CLEAN = [s for s in ALL_SKILLS if s != "clean"]


def config(path: Path, wiper_server: dict) -> Path:
    import yaml

    profiles = {
        "wiper": {"embodiment": "mobile_manipulator", "skills": NO_CLEAN, "payload_kg": 5.0,
                  "mcp_servers": [wiper_server]},
        "no_clean": {"embodiment": "mobile_manipulator", "skills": NO_CLEAN, "payload_kg": 5.0},
    }
    path.write_text(yaml.safe_dump({"profiles": profiles}))
    return path


def stack(prefix: str, log_dir: Path, cfg: Path) -> Stack:
    return Stack(scene="Kitchen-0", robots=[RobotSpec("robot1", "wiper"), RobotSpec("robot2", "no_clean")],
                 redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
                 key_prefix=f"{prefix}-{uuid.uuid4().hex[:8]}", log_dir=log_dir,
                 extra_env={"ROBOCORTEX_CONFIG": str(cfg), "ROBOCORTEX_MAX_REPLANS": "1"})


def robots(api: str) -> dict[str, dict]:
    return {r["profile"]["name"]: r for r in httpx.get(api + "/robots", timeout=10).json()}


def pot_of(api: str) -> dict:
    nodes = httpx.get(api + "/scene", timeout=10).json()["nodes"]
    return next(n for n in nodes.values() if n.get("objectType") == "Pot")


@pytest.fixture(scope="module")
def stdio_team(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mcp-stdio")
    cfg = config(tmp / "robocortex.yaml", {"name": "reference", "command": SERVER})
    with stack("mcp-stdio", tmp / "logs", cfg) as s:
        yield s


def test_a_task_that_needs_an_mcp_skill_succeeds_over_stdio(stdio_team):
    s = stdio_team
    listed = robots(s.api_url)
    r1 = listed["robot1"]["profile"]
    assert {"wipe", "scan_barcode", "wave"} <= set(r1["skills"]) and "clean" not in r1["skills"]
    assert r1["skill_sources"]["wipe"] == {"kind": "mcp", "name": "reference"}
    assert r1["skill_sources"]["pick_up"] == {"kind": "builtin", "name": None}
    specs = {spec["name"]: spec for spec in r1["skill_specs"]}
    assert specs["wipe"]["unplannable"] is None and "read-only" in specs["scan_barcode"]["unplannable"]
    assert specs["wipe"]["effects"] == [{"arg": "object", "flag": "isDirty", "value": False}]
    assert "mcp_servers" not in r1
    assert listed["robot2"]["profile"]["skill_specs"] == []
    assert pot_of(s.api_url)["isDirty"] is True

    client = Client(s.api_url)
    task = client.wait(client.submit("clean the pot").id, timeout=180)
    assert task.status == "succeeded", (task.status, task.reason, s.tail("robot1", 40))
    steps = [(st.robot, call.skill) for st in task.plan.subtasks for call in st.steps]
    assert ("robot1", "wipe") in steps, steps
    assert pot_of(s.api_url)["isDirty"] is False
    assert s.exited() == {}


def test_the_console_lists_skills_by_where_they_come_from(stdio_team, browser):  # noqa: F811
    page = browser.new_page()
    try:
        page.goto(stdio_team.api_url)
        mcp = page.locator('.robot[data-robot="robot1"] .skills [data-source="mcp reference"]')
        mcp.wait_for(timeout=15_000)
        text = mcp.inner_text()
        assert text.startswith("mcp reference: ") and {"wipe", "scan_barcode*", "wave*"} <= set(text[15:].split(", "))
        assert "not planned by search" in mcp.locator("span", has_text="wave").get_attribute("title")
        assert "pick_up" in page.locator('.robot[data-robot="robot1"] .skills [data-source="built-in"]').inner_text()
        assert page.locator('.robot[data-robot="robot2"] .skills [data-source="mcp reference"]').count() == 0
    finally:
        page.close()


def test_a_skill_server_killed_mid_call_fails_the_step_not_the_robot(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    cfg = config(tmp_path / "robocortex.yaml", {"name": "reference", "url": url, "timeout_s": 60,
                                                "list_timeout_s": 5, "headers": {"Authorization": "Bearer t0ken"}})
    with stack("mcp-http", tmp_path / "logs", cfg) as s:
        # the server is not up yet: robot1 started without its skills (and is online all the same)
        assert "wipe" not in robots(s.api_url)["robot1"]["profile"]["skills"]

        log = open(tmp_path / "skill-server.log", "w")
        server = subprocess.Popen([*SERVER, "--world-url", s.world_url, "--transport", "http", "--port", str(port),
                                   "--delay-s", "20", "--token", "t0ken"], stdout=log, stderr=subprocess.STDOUT)
        try:
            until(lambda: _answers(url), 30, "the skill server")
            # robot1 re-registers (a restart): the brain plans with its new skill at the next plan
            s.procs["robot1"].send_signal(signal.SIGTERM)
            s.procs["robot1"].wait(20)
            s.spawn("robot1", "worker", "--name", "robot1", "--profile", "wiper", "--agent-id", "0")
            until(lambda: "wipe" in robots(s.api_url)["robot1"]["profile"]["skills"]
                  and robots(s.api_url)["robot1"]["status"] != "offline", 60, "robot1 back with wipe")

            client = Client(s.api_url)
            task_id = client.submit("clean the pot").id
            _until_mcp_call(s.api_url, task_id)
            time.sleep(3)  # the tool call is in flight (the server waits 20 s before acting): it goes away
            server.kill()
            server.wait(10)
            task = client.wait(task_id, timeout=180)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait(10)
            log.close()

        assert task.status == "failed", (task.status, task.reason)
        failures = [st.failure for st in task.subtasks if st.failure is not None]
        wipe = next(f for f in failures if f.skill == "wipe")
        assert wipe.code == "other" and wipe.details["problem"] == "skill_server_unavailable"
        assert wipe.details["mcp_server"] == "reference"
        assert task.reason  # the task says why it ended
        # a failed step, not a failed robot: robot1 is still running and online
        assert s.procs["robot1"].poll() is None
        assert robots(s.api_url)["robot1"]["status"] != "offline"
        assert pot_of(s.api_url)["isDirty"] is True


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=1)
        return True
    except httpx.HTTPError:
        return False


def _until_mcp_call(api: str, task_id: str) -> None:
    """Follow the task's events (SSE) until robot1 calls the MCP server."""
    with httpx.stream("GET", f"{api}/tasks/{task_id}/events", timeout=120) as resp:
        for line in resp.iter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                if event.get("kind") == "action" and (event.get("data") or {}).get("mcp_server") == "reference":
                    return
    raise AssertionError("the task ended before robot1 called the MCP server")
