"""One world, many robots: the emulator, its ai2thor-style Controller and the world host serve up to
MAX_AGENTS (64) agents, each on its own cell, and refuse more with a message that names the limit."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn

from robocortex.agents.launcher import free_port
from robocortex.sim.client import WorldClient
from robocortex.sim.emulator import Controller, EmulatorWorld
from robocortex.sim.host import create_world_app
from robocortex.sim.world import MAX_AGENTS


def _cells(mds: list[dict]) -> set[tuple[float, float]]:
    return {(m["agent"]["position"]["x"], m["agent"]["position"]["z"]) for m in mds}


@pytest.mark.parametrize("scene", ["Kitchen-0", "Bathroom-0"])
def test_emulator_places_64_agents_on_distinct_cells(scene: str) -> None:
    world = EmulatorWorld()
    mds = world.reset(scene, agent_count=MAX_AGENTS)
    assert MAX_AGENTS == 64
    assert len(mds) == 64 and len(_cells(mds)) == 64
    assert [m["agent"]["position"] for m in mds] == [world.metadata(i)["agent"]["position"] for i in range(64)]
    md = world.step(63, "Pass")
    assert md["lastActionSuccess"] and md["agentId"] == 63


def test_more_than_64_agents_is_refused_with_the_limit() -> None:
    with pytest.raises(ValueError, match="from 1 to 64, got 65"):
        EmulatorWorld().reset("Kitchen-0", agent_count=65)
    with pytest.raises(ValueError, match="from 1 to 64"):
        Controller(scene="Kitchen-0", agentCount=0)


def test_controller_multi_agent_event_has_64_events() -> None:
    c = Controller(scene="Kitchen-0", agentCount=64)
    before = [e.metadata["agent"]["rotation"]["y"] for e in c.last_event.events]
    event = c.step(action="RotateRight", agentId=40)
    assert len(event.events) == 64
    assert event.metadata["agentId"] == 40 and event.metadata["lastActionSuccess"]
    after = [e.metadata["agent"]["rotation"]["y"] for e in event.events]
    assert [i for i in range(64) if after[i] != before[i]] == [40]


@pytest.fixture
def host():
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_world_app(EmulatorWorld()), host="127.0.0.1", port=port,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


def test_world_host_serves_64_agents_over_http(host: str) -> None:
    client = WorldClient(host)
    try:
        mds = client.reset("Kitchen-0", agent_count=64)
        assert len(mds) == 64 and len(_cells(mds)) == 64
        assert client.health()["agent_count"] == 64
        # every agent acts in the one shared world, and sees the others' moves
        for agent_id in range(64):
            assert client.step(agent_id, "Pass")["agentId"] == agent_id
        assert client.metadata(63)["agentId"] == 63
        with pytest.raises(ValueError, match="no agent 64"):
            client.step(64, "Pass")
        resp = httpx.post(f"{host}/reset", json={"scene": "Kitchen-0", "agent_count": 65})
        assert resp.status_code == 422 and "64" in resp.text
    finally:
        client.stop()
