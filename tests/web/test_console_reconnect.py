"""The console rides out a restart of the service: its streams reconnect by themselves and resume where
they stopped (Last-Event-ID), so what changed while it was away arrives once, with no gap."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import NodePatch, RobotProfile, SceneDelta, SceneNode, Vec3
from robocortex.memory.tasks import TaskStore

from tests.web.conftest import save_shot
from tests.support.service import Service

pytestmark = pytest.mark.e2e


def test_console_reconnects_and_resumes_after_a_restart(browser, redis_url, tmp_path, shots):
    prefix = f"web-{uuid.uuid4().hex[:8]}"
    r, keys = connect(redis_url), Keys(prefix)
    scene, tasks = SceneGraphStore(r, keys), TaskStore(r, keys)
    RobotRegistry(r, keys, heartbeat_ttl_s=60).register(RobotProfile(name="robot1", agent_id=0, skills=["navigate"]))
    scene.reset([SceneNode(id="Apple|1", objectType="Apple", position=Vec3(x=0, z=0), pickupable=True),
                 SceneNode(id="robot1", kind="robot", position=Vec3(x=1, z=0))])
    service = Service(redis_url, prefix, tmp_path / "serve.log").start()
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(service.url)
        expect(page.locator("#conn")).to_have_class("conn live", timeout=15_000)
        expect(page.locator("#rev")).to_have_text("1")

        service.stop()
        expect(page.locator("#conn")).to_have_text("reconnecting…", timeout=15_000)
        for x in (1.25, 1.5):  # the robot moves while the console is cut off
            scene.apply(SceneDelta(patches=[NodePatch(id="robot1", set={"position": {"x": x, "y": 0, "z": 0}})],
                                   source="test"))
        task = tasks.create("<i>turn</i> on the light")
        service = Service(redis_url, prefix, tmp_path / "serve.log", port=service.port).start()

        expect(page.locator("#conn")).to_have_class("conn live", timeout=20_000)
        expect(page.locator("#rev")).to_have_text("3", timeout=20_000)
        expect(page.locator(f'.task[data-id="{task.id}"] .text')).to_have_text("<i>turn</i> on the light")
        assert page.evaluate("state.history.map(c => c.rev)") == [1, 2, 3]  # each change once, none missed
        assert page.evaluate("state.trails.robot1") == [[1, 0], [1.25, 0], [1.5, 0]]  # from where it stood
        save_shot(page, shots, "reconnected")
    finally:
        page.close()
        service.stop()
        for key in r.scan_iter(match=f"{prefix}:*"):
            r.delete(key)
