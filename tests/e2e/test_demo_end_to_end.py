"""End to end: real processes (world host, two robot workers, brain service) that meet only
through a real Redis, driven over real HTTP. Runs on the embedded Redis, or on the server named
by ROBOCORTEX_REDIS_URL."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest

from robocortex.agents.follow import events, submit, world_check
from robocortex.agents.launcher import Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("e2e-logs")
    s = Stack(scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
              key_prefix=f"e2e-{uuid.uuid4().hex[:8]}", log_dir=logs)
    with s:
        yield s


def test_processes_are_separate(stack):
    pids = {p.pid for p in stack.procs.values()}
    assert len(pids) == 4 and os.getpid() not in pids
    assert all(p.poll() is None for p in stack.procs.values())


def test_demo_task_succeeds_and_holds_in_the_world(stack):
    task_id = submit(stack.api_url, "put the apple in the fridge and turn off the light")
    seen = list(events(stack.api_url, task_id, timeout_s=240))
    kinds = [k for k, _ in seen]
    assert kinds[-1] == "end", kinds[-5:]
    record = httpx.get(f"{stack.api_url}/tasks/{task_id}").json()
    assert record["status"] == "succeeded", (record["reason"], stack.tail("brain"), stack.tail("robot1"))
    # both robots worked, in parallel: two subtasks with no dependency between them
    assert {s["robot"] for s in record["subtasks"]} == {"robot1", "robot2"}
    assert all(not s["depends_on"] for s in record["subtasks"])
    # every goal holds in the world itself, not only in the team's memory
    assert world_check(stack.world_url, record["plan"]) == []
    # the robots reported actions as they went
    robots_acting = {d.get("robot") for k, d in seen if k == "action"}
    assert robots_acting == {"robot1", "robot2"}
    # and the robots are idle again
    robots = httpx.get(f"{stack.api_url}/robots").json()
    assert {r["status"] for r in robots} == {"idle"}


def test_scene_graph_is_served_with_revision_and_history(stack):
    scene = httpx.get(f"{stack.api_url}/scene").json()
    assert scene["rev"] > 0
    fridge = next(n for n in scene["nodes"].values() if n.get("objectType") == "Fridge")
    node = httpx.get(f"{stack.api_url}/scene/nodes/{fridge['id']}").json()
    assert node["id"] == fridge["id"]
    changes = httpx.get(f"{stack.api_url}/scene/changes", params={"since": max(scene["rev"] - 3, 0)}).json()
    assert [c["rev"] for c in changes] == list(range(max(scene["rev"] - 3, 0) + 1, scene["rev"] + 1))


@pytest.mark.parametrize("body, fragment", [
    ({}, "instruction is required"),
    ({"instruction": "   "}, "instruction is empty"),
    ({"instruction": 42}, "instruction"),
])
def test_bad_submission_is_422_with_a_message(stack, body, fragment):
    resp = httpx.post(f"{stack.api_url}/tasks", json=body)
    assert resp.status_code == 422
    assert fragment in resp.json()["detail"]


@pytest.mark.parametrize("content, fragment", [
    (b"{not json", "body is not valid JSON"),
    (b"", "body is required"),
    (b"[]", "body is not a JSON object"),
])
def test_malformed_body_is_422_with_what_to_send(stack, content, fragment):
    resp = httpx.post(f"{stack.api_url}/tasks", content=content, headers={"content-type": "application/json"})
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert fragment in detail and '{"instruction": ' in detail and "application/json" in detail


def test_events_resume_after_the_last_event_id(stack):
    task_id = submit(stack.api_url, "turn on the light")
    seen = list(events(stack.api_url, task_id, timeout_s=120))
    assert seen[-1][0] == "end"
    with httpx.stream("GET", f"{stack.api_url}/tasks/{task_id}/events", timeout=30) as resp:
        ids = [line[4:] for line in resp.iter_lines() if line.startswith("id: ")]
    assert len(ids) == len(seen) - 1  # every event but `end` carries its id
    # a reconnecting EventSource sends Last-Event-ID: it gets only what came after
    resumed = httpx.get(f"{stack.api_url}/tasks/{task_id}/events", headers={"Last-Event-ID": ids[-2]}, timeout=30)
    assert [line for line in resumed.text.splitlines() if line.startswith("event:")] == [
        f"event: {seen[-2][0]}", "event: end"]
    bad = httpx.get(f"{stack.api_url}/tasks/{task_id}/events", params={"after": "garbage"})
    assert bad.status_code == 422 and "not an event id" in bad.json()["detail"]


def test_unknown_ids_are_404(stack):
    for url in ("/tasks/nope", "/tasks/nope/events", "/scene/nodes/Nope|1"):
        resp = httpx.get(stack.api_url + url)
        assert resp.status_code == 404, url
        assert "nope" in resp.json()["detail"].lower()


def test_unparseable_instruction_fails_with_the_words(stack):
    task_id = submit(stack.api_url, "juggle the apple")
    list(events(stack.api_url, task_id, timeout_s=60))
    record = httpx.get(f"{stack.api_url}/tasks/{task_id}").json()
    assert record["status"] == "failed"
    assert "juggle" in record["reason"]  # the offline parser names the word it does not know


def test_task_list_has_the_tasks(stack):
    tasks = httpx.get(f"{stack.api_url}/tasks").json()
    assert len(tasks) >= 2
    assert {"id", "status", "instruction", "subtasks"} <= set(tasks[0])


def test_web_page_and_metrics_are_served(stack):
    page = httpx.get(stack.api_url + "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for element in ('id="tasks"', 'id="robots"', 'id="map"', 'id="tree"', "/console/console.js"):
        assert element in page.text, element
    script = httpx.get(stack.api_url + "/console/console.js")  # served from the package: no CDN
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "/tasks/${encodeURIComponent(id)}/events" in script.text and "/scene/events" in script.text
    metrics = httpx.get(stack.api_url + "/metrics")
    assert metrics.status_code == 200 and "http_requests_total" in metrics.text
