"""States a demo run rarely shows, written into memory directly and read by the console from a real
service: a plan with dependencies (drawn as a graph with arrows), a failed subtask (its reason shown as
text, a ✕ on the map where the robot stood)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import (Failure, RobotProfile, SceneNode, SubtaskState, SubtaskStatus, TaskStatus,
                                       Vec3)
from robocortex.memory.tasks import TaskStore

from tests.web.conftest import save_shot
from tests.support.service import Service

pytestmark = pytest.mark.e2e
REASON = 'subtask s2 failed: <script>alert("x")</script> the fridge is blocked'


def test_a_plan_with_dependencies_and_a_failure(browser, redis_url, tmp_path, shots):
    prefix = f"web-{uuid.uuid4().hex[:8]}"
    r, keys = connect(redis_url), Keys(prefix)
    scene, tasks = SceneGraphStore(r, keys), TaskStore(r, keys)
    robots = RobotRegistry(r, keys, heartbeat_ttl_s=60)
    for i, name in enumerate(("robot1", "robot2")):
        robots.register(RobotProfile(name=name, agent_id=i, skills=["navigate_to"]))
    scene.reset([SceneNode(id="Fridge|1", objectType="Fridge", position=Vec3(x=1, z=1), receptacle=True),
                 SceneNode(id="robot1", kind="robot", position=Vec3(x=0, z=0)),
                 SceneNode(id="robot2", kind="robot", position=Vec3(x=0.75, z=0.5))])
    record = tasks.create("put the apple in the fridge, then the bread")
    tasks.transition(record.id, TaskStatus.planning)
    record = tasks.get(record.id)
    record.status = TaskStatus.running
    record.subtasks = [
        SubtaskState(id="s1", robot="robot1", description="open the fridge", status=SubtaskStatus.succeeded),
        SubtaskState(id="s2", robot="robot2", description="put the apple in the fridge", depends_on=["s1"],
                     status=SubtaskStatus.failed, attempt=1, error="blocked",
                     failure=Failure(code="blocked", skill="put")),
        SubtaskState(id="s3", robot="robot1", description="put the bread in the fridge", depends_on=["s1", "s2"],
                     status=SubtaskStatus.cancelled),
    ]
    tasks.save(record)
    tasks.transition(record.id, TaskStatus.failed, reason=REASON)

    service = Service(redis_url, prefix, tmp_path / "serve.log").start()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(service.url)
        page.locator(f'.task[data-id="{record.id}"]').click()
        expect(page.locator("#detail-status")).to_have_text("failed")
        expect(page.locator("#detail-reason")).to_have_text("Why: " + REASON)
        page.locator("#dag").wait_for()
        # read in one go: the detail is redrawn as events arrive
        x = dict(page.evaluate("[...document.querySelectorAll('#dag g[data-subtask]')]"
                               ".map(g => [g.dataset.subtask, +g.querySelector('rect').getAttribute('x')])"))
        assert x["s1"] < x["s2"] < x["s3"]  # one column per dependency level
        assert page.locator("#dag path[marker-end]").count() == 3  # s1→s2, s1→s3, s2→s3
        assert page.locator('#dag g[data-subtask="s2"]').get_attribute("data-status") == "failed"
        save_shot(page, shots, "failed-plan")
        page.click("#tab-map")
        page.wait_for_function("state.markers.some(m => m.kind === 'fail')")
        fails = page.evaluate("state.markers.filter(m => m.kind === 'fail').map(m => [m.robot, m.x, m.z, m.what])")
        assert fails == [["robot2", 0.75, 0.5, "blocked"]]  # where robot2 stood, with the failure's code
    finally:
        page.close()
        service.stop()
        for key in r.scan_iter(match=f"{prefix}:*"):
            r.delete(key)
