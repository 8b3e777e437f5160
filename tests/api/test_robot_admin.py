"""Robot administration with real processes on loopback and a real Redis: a second worker with a name or
agent id a live robot has is refused in one line (exit 2); a robot's status names its profile; robots
are decommissioned and removed (REST and CLI); an operator says where a lost robot's held object is."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from robocortex.agents.launcher import free_port
from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import NodePatch, RobotProfile, SceneDelta

from tests.support.processes import until


def cli(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robocortex.agents.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def one_line(proc: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert fragment in proc.stderr, proc.stderr


@pytest.fixture
def stores(redis_url, r, keys):
    return RobotRegistry(r, keys, heartbeat_ttl_s=60), SceneGraphStore(r, keys)


@pytest.fixture
def env(redis_url, keys) -> dict[str, str]:
    return {**os.environ, "ROBOCORTEX_REDIS_URL": redis_url, "ROBOCORTEX_KEY_PREFIX": keys.prefix,
            "ROBOCORTEX_WORLD_WAIT_S": "0"}


def _lost(registry: RobotRegistry, scene: SceneGraphStore, name: str, agent_id: int, holding: str | None) -> None:
    scene.apply(SceneDelta(patches=[
        NodePatch(id="Fridge|1", set={"kind": "object", "objectType": "Fridge", "receptacle": True,
                                      "position": {"x": 1.0, "y": 0.0, "z": 1.0}}),
        NodePatch(id="CounterTop|1", set={"kind": "object", "objectType": "CounterTop", "receptacle": True}),
        NodePatch(id="Vase|1", set={"kind": "object", "objectType": "Vase"}),
        NodePatch(id="Apple|1", set={"kind": "object", "objectType": "Apple", "pickupable": True}),
        NodePatch(id=name, set={"kind": "robot", "holding": holding, "position": {"x": 0.0, "y": 0.9, "z": 0.0},
                                "relations": [{"rel": "holding", "target": holding}] if holding else []}),
    ], source="test"))
    registry.register(RobotProfile(name=name, agent_id=agent_id, skills=["pick_up"], profile_name="fixed_arm"))
    registry.deregister(name)
    registry.mark_lost(name)


def test_a_second_worker_with_a_live_name_or_agent_id_is_refused_in_one_line(stores, env, tmp_path):
    registry, _ = stores
    registry.register(RobotProfile(name="robot1", agent_id=0, skills=["pick_up"]))  # alive for 60 s
    one_line(cli(env, "worker", "--name", "robot1", "--agent-id", "3"), "robot name 'robot1' is in use")
    one_line(cli(env, "worker", "--name", "robot9", "--agent-id", "0"), "agent id 0 is in use by live robot 'robot1'")
    one_line(cli(env, "worker", "--robots", "2", "--name", "robot", "--agent-id", "0"), "in use")
    registry.register(RobotProfile(name="old", agent_id=7, skills=[]))
    registry.decommission("old")
    one_line(cli(env, "worker", "--name", "old", "--agent-id", "4"), "robot 'old' is decommissioned")


def test_status_shows_the_profile_name_and_a_duplicate_of_a_running_worker_is_refused(stores, env, tmp_path):
    registry, _ = stores
    port = free_port()
    world_env = {**env, "ROBOCORTEX_WORLD_BACKEND": "emulator"}
    procs = [subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", "world-host", "--port", str(port),
                               "--agents", "2", "--no-seed-memory"], env=world_env, stdout=open(tmp_path / "w.log", "w"),
                              stderr=subprocess.STDOUT)]
    worker_env = {**env, "ROBOCORTEX_WORLD_URL": f"http://127.0.0.1:{port}", "ROBOCORTEX_WORLD_WAIT_S": "60"}
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", "worker", "--name", "lm1",
                                       "--profile", "light_manipulator", "--agent-id", "1"], env=worker_env,
                                      stdout=open(tmp_path / "lm1.log", "w"), stderr=subprocess.STDOUT))
        until(lambda: registry.is_alive("lm1"), 90, "lm1 registered")
        state = registry.get("lm1")
        assert state.profile.profile_name == "light_manipulator" and state.profile.embodiment == "mobile_manipulator"
        one_line(cli(worker_env, "worker", "--name", "lm1", "--agent-id", "0"), "robot name 'lm1' is in use")
        one_line(cli(worker_env, "worker", "--name", "lm2", "--agent-id", "1"), "agent id 1 is in use by live robot 'lm1'")
        listed = cli(env, "robots", "list")
        assert listed.returncode == 0 and "light_manipulator" in listed.stdout, listed.stderr
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_robots_cli_decommission_place_held_and_remove(stores, env):
    registry, scene = stores
    _lost(registry, scene, "r1", 0, "Apple|1")
    assert scene.node("Apple|1").unavailable  # nobody may use it while it is in a lost hand
    one_line(cli(env, "robots", "remove", "r1"), "held 'Apple|1' when it was lost")
    one_line(cli(env, "robots", "place-held", "r1", "Apple|1", "Vase|1"), "'Vase|1' is not a receptacle")
    one_line(cli(env, "robots", "place-held", "r1", "Bread|9", "floor"), "did not hold 'Bread|9'")
    placed = cli(env, "robots", "place-held", "r1", "Apple|1", "Fridge|1")
    assert placed.returncode == 0 and "Apple|1 is in Fridge|1" in placed.stdout, placed.stderr
    apple = scene.node("Apple|1")
    assert apple.relations[0].model_dump() == {"rel": "in", "target": "Fridge|1"} and apple.unavailable is None
    assert scene.node("r1").holding is None and scene.node("r1").lost_holding is None

    dec = cli(env, "robots", "decommission", "r1")
    assert dec.returncode == 0, dec.stderr
    assert "decommissioned" in cli(env, "robots", "list").stdout
    removed = cli(env, "robots", "remove", "r1")
    assert removed.returncode == 0, removed.stderr
    assert registry.get("r1") is None and scene.node("r1") is None
    one_line(cli(env, "robots", "remove", "r1"), "no robot 'r1'")
    one_line(cli(env, "robots", "decommission", "ghost"), "no robot 'ghost'")


def test_rest_admin_errors_say_what_is_wrong(service, redis_url):
    r, keys = connect(redis_url), Keys(service.prefix)
    registry, scene = RobotRegistry(r, keys, heartbeat_ttl_s=60), SceneGraphStore(r, keys)
    try:
        _lost(registry, scene, "lost1", 30, "Apple|1")
        registry.register(RobotProfile(name="live1", agent_id=31, skills=[]))
        url = service.url
        assert httpx.get(f"{url}/robots/ghost", timeout=10).status_code == 404
        assert httpx.get(f"{url}/robots/lost1", timeout=10).json()["profile"]["profile_name"] == "fixed_arm"
        assert httpx.post(f"{url}/robots/ghost/decommission", timeout=10).status_code == 404
        busy = httpx.delete(f"{url}/robots/live1", timeout=10)
        assert busy.status_code == 409 and "idle" in busy.json()["detail"]
        held = httpx.delete(f"{url}/robots/lost1", timeout=10)
        assert held.status_code == 409 and "/robots/lost1/held" in held.json()["detail"]
        bad = httpx.post(f"{url}/robots/lost1/held", json={"object": "Apple|1", "at": "Vase|1"}, timeout=10)
        assert bad.status_code == 422 and "not a receptacle" in bad.json()["detail"]
        online = httpx.post(f"{url}/robots/live1/held", json={"object": "Apple|1", "at": "floor"}, timeout=10)
        assert online.status_code == 409 and "online" in online.json()["detail"]
        extra = httpx.post(f"{url}/robots/lost1/held", json={"object": "Apple|1", "at": "floor", "why": 1}, timeout=10)
        assert extra.status_code == 422
        floor = httpx.post(f"{url}/robots/lost1/held", json={"object": "Apple|1", "at": "floor"}, timeout=10)
        assert floor.status_code == 200, floor.text
        assert scene.node("Apple|1").relations == [] and scene.node("Apple|1").unavailable is None
        assert floor.json()["scene_rev"] == scene.revision()
        assert httpx.delete(f"{url}/robots/lost1", timeout=10).status_code == 204
        assert httpx.get(f"{url}/robots/lost1", timeout=10).status_code == 404
    finally:
        for key in list(r.scan_iter(match=f"{keys.prefix}:robot*", count=1000)):
            r.delete(key)
        r.close()
