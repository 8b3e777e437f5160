"""The console's push streams against a real service and a real Redis: GET /scene/events (snapshot, then
changes, resume by revision), GET /events (tasks and robots, resume after the last task) and
GET /scene/floor. The test writes memory itself through the memory room's own stores."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import FloorPlan, Footprint, SceneGraphStore
from robocortex.memory.schemas import NodePatch, RobotProfile, SceneDelta, SceneNode, TaskStatus, Vec3
from robocortex.memory.tasks import TaskStore

from tests.support.service import Service
from tests.web.support import SSE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(redis_url, tmp_path_factory):
    prefix = f"web-{uuid.uuid4().hex[:8]}"
    r, keys = connect(redis_url), Keys(prefix)
    service = Service(redis_url, prefix, tmp_path_factory.mktemp("web") / "serve.log").start()
    scene = SceneGraphStore(r, keys, max_changes=20)
    scene.reset([SceneNode(id="Fridge|1", objectType="Fridge", position=Vec3(x=1, z=2), receptacle=True),
                 SceneNode(id="Apple|1", objectType="Apple", position=Vec3(x=0, z=0), pickupable=True)])
    yield service, scene, TaskStore(r, keys), RobotRegistry(r, keys, heartbeat_ttl_s=30)
    service.stop()
    for key in r.scan_iter(match=f"{prefix}:*"):
        r.delete(key)


def _move_apple(scene: SceneGraphStore, x: float) -> int:
    return scene.apply(SceneDelta(patches=[NodePatch(id="Apple|1", set={"position": {"x": x, "y": 0, "z": 0}})],
                                  source="test"))


def test_scene_stream_sends_a_snapshot_then_each_change_with_its_revision(world):
    service, scene, _, _ = world
    with httpx.stream("GET", f"{service.url}/scene/events", timeout=10) as resp:
        sse = SSE(resp)
        assert resp.headers["content-type"].startswith("text/event-stream")
        (kind, eid, data), = sse.take(1)
        snapshot = json.loads(data)
        assert kind == "snapshot" and eid == str(snapshot["rev"]) and "Apple|1" in snapshot["nodes"]
        rev = _move_apple(scene, 0.5)
        (kind, eid, data), = sse.take(1)
    change = json.loads(data)
    assert (kind, eid, change["rev"]) == ("change", str(rev), rev)
    assert change["patches"][0]["set"]["position"]["x"] == 0.5


def test_scene_stream_resumes_after_a_revision_without_gap_or_repeat(world):
    service, scene, _, _ = world
    start = scene.revision()
    revs = [_move_apple(scene, 1.0 + i) for i in range(3)]
    for how in ({"params": {"since": start}}, {"headers": {"Last-Event-ID": str(start)}}):
        with httpx.stream("GET", f"{service.url}/scene/events", timeout=10, **how) as resp:
            sse = SSE(resp)
            got = sse.take(3)
        assert [(k, int(i)) for k, i, _ in got] == [("change", r) for r in revs], how


def test_scene_stream_falls_back_to_a_snapshot_for_a_trimmed_or_unknown_revision(world):
    service, scene, _, _ = world
    for i in range(25):  # the log keeps 20 changes here: revision 1 is gone
        _move_apple(scene, 10.0 + i)
    for since in (1, scene.revision() + 100):
        with httpx.stream("GET", f"{service.url}/scene/events", params={"since": since}, timeout=10) as resp:
            sse = SSE(resp)
            (kind, eid, data), = sse.take(1)
        assert kind == "snapshot" and int(eid) == scene.revision() == json.loads(data)["rev"], since


def test_bad_resume_revision_is_a_422_naming_the_field(world):
    service, _, _, _ = world
    resp = httpx.get(f"{service.url}/scene/events", params={"since": "-3"}, timeout=10)
    assert resp.status_code == 422 and "since" in resp.json()["detail"]


def test_live_stream_sends_tasks_and_robots_and_resumes_after_the_last_task(world):
    service, _, tasks, robots = world
    robots.register(RobotProfile(name="robot9", agent_id=0, skills=["navigate"]))
    first = tasks.create("put the apple in the fridge")
    with httpx.stream("GET", f"{service.url}/events", timeout=10) as resp:
        sse = SSE(resp)
        got = sse.take(2)
        kinds = {k for k, _, _ in got}
        assert kinds == {"task", "robots"}, got
        task_event = next(e for e in got if e[0] == "task")
        assert json.loads(task_event[2])["id"] == first.id
        update = json.loads(next(e for e in got if e[0] == "robots")[2])
        robot = next(r for r in update["robots"] if r["profile"]["name"] == "robot9")
        assert robot["status"] == "idle" and update["at"] >= robot["last_seen"]
        tasks.transition(first.id, TaskStatus.planning)
        kind, eid, data = sse.until("task")
    assert json.loads(data)["status"] == "planning" and float(eid) == tasks.get(first.id).updated_at
    second = tasks.create("turn on the light")
    with httpx.stream("GET", f"{service.url}/events", headers={"Last-Event-ID": eid}, timeout=10) as resp:
        sse = SSE(resp)
        resumed = []  # the first round: the tasks updated after the resume point, then the robots
        while (event := sse.take(1)[0])[0] != "robots":
            resumed.append(event)
    assert [json.loads(d)["id"] for _, _, d in resumed] == [second.id]  # only what changed since


def test_live_stream_shows_a_robot_going_offline(world):
    service, _, _, robots = world
    robots.register(RobotProfile(name="robot8", agent_id=1, skills=["navigate"]))
    with httpx.stream("GET", f"{service.url}/events", timeout=10) as resp:
        sse = SSE(resp)
        statuses: list[str] = []
        while "offline" not in statuses:
            (kind, _, data), = sse.take(1)
            if kind != "robots":
                continue
            status = next(r["status"] for r in json.loads(data)["robots"] if r["profile"]["name"] == "robot8")
            statuses.append(status)
            if status == "idle":
                robots.deregister("robot8")
    assert statuses[0] == "idle" and statuses[-1] == "offline"


def test_floor_plan_is_404_until_a_world_writes_it(world):
    service, scene, _, _ = world
    scene.r.delete(scene.keys.scene_floor)
    missing = httpx.get(f"{service.url}/scene/floor")
    assert missing.status_code == 404 and "world host" in missing.json()["detail"]
    scene.set_floor_plan(FloorPlan(scene="Test-1", reachable=[(0.0, 0.0), (0.25, 0.0)],
                                   furniture=[Footprint(id="Fridge|1", type="Fridge", x=1, z=2, size_x=0.7, size_z=0.7)]))
    plan = httpx.get(f"{service.url}/scene/floor").json()
    assert plan["scene"] == "Test-1" and plan["reachable"] == [[0.0, 0.0], [0.25, 0.0]]
    assert plan["furniture"][0]["type"] == "Fridge"
