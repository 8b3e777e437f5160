"""Plan approval over REST (agents/api/approvals.py) against a real `robocortex serve` on loopback: the
task waits in awaiting_approval with its plan; GET/approve/reject/edit with their 404/409/422 answers;
an edit is re-checked by the validator and by the constitution (a rule file given in the settings).
Robots are registered in Redis without workers: the brain plans for them; nothing needs to run."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import SceneNode

from tests.brain.conftest import profile
from tests.support.service import Service

RULES = """
rules:
  - name: robot2-keeps-out-of-the-fridge
    kind: robots
    robots: [robot2]
    objects: {types: [Fridge]}
"""


def _obj(oid, otype, x, z, parent=None, rel="on", **flags):
    rels = [{"rel": rel, "target": parent}] if parent else []
    return SceneNode(id=oid, kind="object", objectType=otype, position={"x": x, "y": 0.9, "z": z}, relations=rels, **flags)


@pytest.fixture(scope="module")
def api(redis_url, tmp_path_factory):
    prefix = f"approval-{uuid.uuid4().hex[:8]}"
    r, keys = connect(redis_url), Keys(prefix)
    SceneGraphStore(r, keys).reset([
        _obj("CounterTop|1", "CounterTop", 0, 0, receptacle=True),
        _obj("Fridge|1", "Fridge", 3, 0, receptacle=True, openable=True, isOpen=False),
        _obj("Apple|1", "Apple", 0.2, 0, parent="CounterTop|1", pickupable=True, mass=0.2),
        SceneNode(id="robot1", kind="robot", position={"x": 0, "y": 0.9, "z": 0}),
        SceneNode(id="robot2", kind="robot", position={"x": 1, "y": 0.9, "z": 0}),
    ])
    registry = RobotRegistry(r, keys, heartbeat_ttl_s=3600)
    for i, name in enumerate(("robot1", "robot2")):
        registry.register(profile(name, agent_id=i))
    tmp = tmp_path_factory.mktemp("approval-api")
    (tmp / "rules.yaml").write_text(RULES)
    svc = Service(redis_url, prefix, tmp / "serve.log", env={
        "ROBOCORTEX_WAIT_FOR_ROBOTS_S": "0", "ROBOCORTEX_CONSTITUTION": str(tmp / "rules.yaml"),
        "ROBOCORTEX_HEARTBEAT_TTL_S": "3600"}).start()
    yield svc.url
    svc.stop()
    r.close()


def until_status(url, task_id, *statuses, timeout_s=60.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        body = httpx.get(f"{url}/tasks/{task_id}", timeout=10).json()
        if body["status"] in statuses:
            return body
        time.sleep(0.2)
    raise AssertionError(f"task {task_id} is still {body['status']}: {body.get('reason')}")


def waiting_task(url, text="put the apple in the fridge"):
    resp = httpx.post(f"{url}/tasks", json={"instruction": text, "require_approval": True}, timeout=10)
    assert resp.status_code == 202, resp.text
    task_id = resp.json()["id"]
    until_status(url, task_id, "awaiting_approval")
    return task_id


def test_a_waiting_plan_is_shown_and_approved_once(api):
    task_id = waiting_task(api)
    pending = httpx.get(f"{api}/tasks/{task_id}/plan", timeout=10)
    assert pending.status_code == 200, pending.text
    body = pending.json()
    assert body["round"] == 1 and body["reasons"] == ["task"] and body["plan"]["subtasks"]
    task = httpx.get(f"{api}/tasks/{task_id}", timeout=10).json()
    assert task["require_approval"] is True and task["pending_approval"]["round"] == 1

    ok = httpx.post(f"{api}/tasks/{task_id}/approve", json={"by": "alice", "reason": "looks right"}, timeout=10)
    assert ok.status_code == 202, ok.text
    assert ok.json() == {"task_id": task_id, "round": 1, "decision": "approve", "by": "alice", "url": f"/tasks/{task_id}"}
    again = httpx.post(f"{api}/tasks/{task_id}/reject", json={"by": "bob", "reason": "no"}, timeout=10)
    assert again.status_code == 409, again.text
    task = until_status(api, task_id, "running", "succeeded", "failed")
    assert task["status"] == "running", task["reason"]  # dispatched to robots that are not there
    assert [(a["decision"], a["by"], a["reason"]) for a in task["approvals"]] == [("approve", "alice", "looks right")]
    assert task["pending_approval"] is None
    assert httpx.get(f"{api}/tasks/{task_id}/plan", timeout=10).status_code == 409
    httpx.post(f"{api}/tasks/{task_id}/cancel", timeout=10)


def test_reject_fails_the_task_with_who_and_why(api):
    task_id = waiting_task(api)
    resp = httpx.post(f"{api}/tasks/{task_id}/reject", json={"by": "bob", "reason": "the fridge is being cleaned"},
                      timeout=10)
    assert resp.status_code == 202, resp.text
    task = until_status(api, task_id, "failed", "running", "succeeded")
    assert task["status"] == "failed" and task["reason"] == "rejected by bob: the fridge is being cleaned"
    assert [a["decision"] for a in task["approvals"]] == ["reject"]
    audit = httpx.get(f"{api}/tasks/{task_id}/export", timeout=10)  # the decision is in the audit record too
    assert audit.status_code == 200, audit.text
    assert [(a["decision"], a["by"], a["reason"]) for a in audit.json()["approvals"]] == [
        ("reject", "bob", "the fridge is being cleaned")]
    kinds = []
    with httpx.stream("GET", f"{api}/tasks/{task_id}/events", timeout=30) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                kinds.append(line.removeprefix("event: "))
    assert "approval_requested" in kinds and "approval" in kinds and "dispatch" not in kinds


def test_edits_are_checked_by_the_validator_and_the_constitution(api):
    task_id = waiting_task(api)
    plan = httpx.get(f"{api}/tasks/{task_id}/plan", timeout=10).json()["plan"]

    unknown = {**plan, "subtasks": [{**s, "robot": "robot9"} for s in plan["subtasks"]]}
    resp = httpx.post(f"{api}/tasks/{task_id}/plan", json={"plan": unknown, "by": "carol"}, timeout=10)
    assert resp.status_code == 422 and "unknown robot 'robot9'" in resp.json()["detail"], resp.text

    dropped = {**plan, "subtasks": plan["subtasks"][:-1]}  # without the last subtask the goal would not hold
    resp = httpx.post(f"{api}/tasks/{task_id}/plan", json={"plan": dropped, "by": "carol"}, timeout=10)
    assert resp.status_code == 422 and "would still not hold" in resp.json()["detail"], resp.text

    to_robot2 = {**plan, "subtasks": [{**s, "robot": "robot2"} for s in plan["subtasks"]]}
    resp = httpx.post(f"{api}/tasks/{task_id}/plan", json={"plan": to_robot2, "by": "carol"}, timeout=10)
    assert resp.status_code == 422 and "robot2-keeps-out-of-the-fridge" in resp.json()["detail"], resp.text
    assert httpx.get(f"{api}/tasks/{task_id}", timeout=10).json()["status"] == "awaiting_approval"

    robots = {s["robot"] for s in plan["subtasks"]}
    assert robots == {"robot1"}, "the planner's choice passed the constitution (else the task had failed)"
    resp = httpx.post(f"{api}/tasks/{task_id}/plan", json={"plan": plan, "by": "carol", "reason": "as is"}, timeout=10)
    assert resp.status_code == 202 and resp.json()["decision"] == "edit", resp.text
    task = until_status(api, task_id, "running", "failed", "succeeded")
    assert task["status"] == "running" and task["approvals"][0]["edited_plan"]["subtasks"] == plan["subtasks"]
    httpx.post(f"{api}/tasks/{task_id}/cancel", timeout=10)


def test_errors_are_typed(api):
    assert httpx.get(f"{api}/tasks/nope/plan", timeout=10).status_code == 404
    loose = httpx.post(f"{api}/tasks", json={"instruction": "open the fridge", "require_approval": 0}, timeout=10)
    assert loose.status_code == 422 and "require_approval" in loose.text, "a flag is true or false, not 0"
    assert httpx.post(f"{api}/tasks/nope/approve", json={}, timeout=10).status_code == 404
    task_id = waiting_task(api)
    # a cross-site form post is not JSON: refused, and nothing is decided
    form = httpx.post(f"{api}/tasks/{task_id}/approve", data={"by": "mallory"}, timeout=10)
    assert form.status_code == 415, form.text  # the security middleware: JSON only
    extra = httpx.post(f"{api}/tasks/{task_id}/approve", json={"by": "alice", "sudo": True}, timeout=10)
    assert extra.status_code == 422 and "sudo" in extra.text
    blank = httpx.post(f"{api}/tasks/{task_id}/reject", json={"by": "alice", "reason": " "}, timeout=10)
    assert blank.status_code == 422
    assert httpx.get(f"{api}/tasks/{task_id}", timeout=10).json()["status"] == "awaiting_approval"
    httpx.post(f"{api}/tasks/{task_id}/cancel", timeout=10)
    task = until_status(api, task_id, "cancelled")
    assert task["status"] == "cancelled"
    assert httpx.post(f"{api}/tasks/{task_id}/approve", json={}, timeout=10).status_code == 409
    doc = httpx.get(f"{api}/openapi.json", timeout=10).json()
    for path, method in (("/tasks/{task_id}/plan", "get"), ("/tasks/{task_id}/approve", "post"),
                         ("/tasks/{task_id}/reject", "post"), ("/tasks/{task_id}/plan", "post")):
        responses = doc["paths"][path][method]["responses"]
        assert {"404", "409", "422"} <= set(responses), (path, method)
