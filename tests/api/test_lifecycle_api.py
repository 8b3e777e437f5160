"""The task lifecycle over REST, against a real `robocortex serve` on loopback and a real Redis: task
options (team, priority, earliest start, deadline, idempotency key; unknown fields refused), cancel in
every state (at once while the task waits for robots), interrupt, resume and kill with who asked, the
typed 404/409 answers, and the audit export. No robot is online: a task waits for one (30 s)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from robocortex.client import Client, ServiceError
from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.schemas import RobotProfile, TaskStatus
from robocortex.memory.tasks import TaskStore

from tests.support.service import Service

S = TaskStatus


@pytest.fixture(scope="module")
def svc(redis_url, tmp_path_factory):
    service = Service(redis_url, f"life-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("life") / "serve.log",
                      env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "30", "ROBOCORTEX_MAX_PRIORITY": "5"}).start()
    r = connect(redis_url)
    keys = Keys(service.prefix)
    robots = RobotRegistry(r, keys)
    robots.register(RobotProfile(name="robot1", agent_id=0, skills=["navigate_to", "pick_up", "put"]))
    r.delete(keys.robot_alive("robot1"))  # registered, known, but offline: tasks wait for a robot
    yield service, TaskStore(r, keys)
    service.stop()
    r.close()


@pytest.fixture
def api(svc):
    with httpx.Client(base_url=svc[0].url, timeout=10) as client:
        yield client


def _status_events(api, task_id):
    return [e for e in api.get(f"/tasks/{task_id}/export").json()["events"] if e["kind"] == "status"]


def until(condition, timeout_s=10.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_options_are_stored_with_who_submitted(api):
    resp = api.post("/tasks", json={"instruction": "put the apple in the fridge", "robots": ["robot1"],
                                    "priority": 3, "not_before": time.time() + 3600, "deadline": time.time() + 7200})
    assert resp.status_code == 202, resp.text
    task = api.get(resp.json()["url"]).json()
    assert task["options"]["robots"] == ["robot1"] and task["options"]["priority"] == 3
    assert task["submitted_by"] == "anonymous" and task["status"] == "pending"
    time.sleep(2.5)  # a brain took it and put it aside until its earliest start
    assert api.get(resp.json()["url"]).json()["status"] == "pending"
    assert api.post(f"/tasks/{task['id']}/cancel").json()["status"] == "cancelled"


@pytest.mark.parametrize("body, field, words", [
    ({"instruction": "go", "colour": "red"}, ["body", "colour"], "colour"),
    ({"instruction": "go", "robots": ["robot1", "robot9"]}, ["body", "robots", 1], "robot9"),
    ({"instruction": "go", "priority": 6}, ["body", "priority"], "maximum, 5"),
    ({"instruction": "go", "priority": -1}, ["body", "priority"], "priority"),
    ({"instruction": "go", "robots": []}, ["body", "robots"], "robots"),
])
def test_bad_options_are_refused_with_the_field_named(api, body, field, words):
    resp = api.post("/tasks", json=body)
    assert resp.status_code == 422, resp.text
    err = resp.json()
    assert err["errors"][0]["loc"] == field and words in err["detail"], err


def test_the_openapi_states_the_highest_priority(api):
    schema = api.get("/openapi.json").json()["components"]["schemas"]["TaskSubmission"]
    assert schema["properties"]["priority"]["maximum"] == 5 and schema["additionalProperties"] is False


def test_an_idempotency_key_returns_the_same_task(api):
    key = uuid.uuid4().hex
    body = {"instruction": "put the apple in the fridge", "idempotency_key": key, "not_before": time.time() + 600}
    first = api.post("/tasks", json=body)
    again = api.post("/tasks", json=body)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    other = api.post("/tasks", json={**body, "instruction": "turn off the light"})
    assert other.status_code == 409 and key in other.json()["detail"] and first.json()["id"] in other.json()["detail"]
    assert sum(t["options"]["idempotency_key"] == key for t in api.get("/tasks").json()) == 1
    api.post(f"/tasks/{first.json()['id']}/cancel")


def test_cancel_while_waiting_for_robots_acts_at_once(api):
    task_id = api.post("/tasks", json={"instruction": "put the apple in the fridge"}).json()["id"]
    time.sleep(1.0)  # the brain has taken it and waits for a robot (up to 30 s)
    started = time.time()
    resp = api.post(f"/tasks/{task_id}/cancel")
    assert resp.status_code == 202 and resp.json()["status"] == "cancelled"
    with api.stream("GET", f"/tasks/{task_id}/events") as stream:
        text = "".join(stream.iter_text())  # ends when the task has ended
    assert "event: end" in text and time.time() - started < 3
    last = _status_events(api, task_id)[-1]
    assert (last["data"], last["actor"]) == ({"status": "cancelled", "from": "pending"}, "anonymous")


def test_interrupt_resume_and_kill_over_rest(api, svc):
    tasks = svc[1]
    rec = tasks.create("put the apple in the fridge")  # not queued: no brain runs it; the test plays the runner
    tasks.transition(rec.id, S.planning)
    tasks.transition(rec.id, S.running)
    resume = api.post(f"/tasks/{rec.id}/resume")
    assert resume.status_code == 409 and "only an interrupted task can be resumed" in resume.json()["detail"]
    resp = api.post(f"/tasks/{rec.id}/interrupt")
    assert resp.status_code == 202 and resp.json()["status"] == "running"
    control = api.get(f"/tasks/{rec.id}/export").json()["events"][-1]
    assert (control["kind"], control["actor"], control["data"]["action"]) == ("control", "anonymous", "interrupt")
    tasks.transition(rec.id, S.interrupted, "robots hold")  # what the runner does once the robots have stopped
    assert _status_events(api, rec.id)[-1]["actor"] == "anonymous"
    again = api.post(f"/tasks/{rec.id}/interrupt")
    assert again.status_code == 409 and "interrupted" in again.json()["detail"]
    resumed = api.post(f"/tasks/{rec.id}/resume")
    assert resumed.status_code == 202 and resumed.json()["status"] == "planning"
    killed = api.post(f"/tasks/{rec.id}/kill")
    assert killed.status_code == 202 and killed.json()["status"] == "killed"
    for action in ("cancel", "kill", "interrupt", "resume"):
        late = api.post(f"/tasks/{rec.id}/{action}")
        assert late.status_code == 409 and "already killed" in late.json()["detail"], late.text
    trail = [(e["data"]["from"], e["data"]["status"], e["actor"]) for e in _status_events(api, rec.id)]
    assert trail[-3:] == [("running", "interrupted", "anonymous"), ("interrupted", "planning", "anonymous"),
                          ("planning", "killed", "anonymous")]


def test_unknown_tasks_are_404(api):
    for action in ("cancel", "kill", "interrupt", "resume"):
        resp = api.post(f"/tasks/nope-{action}/{action}")
        assert resp.status_code == 404 and "GET /tasks" in resp.json()["detail"]
    assert api.get("/tasks/nope/export").status_code == 404


def test_a_task_that_cannot_start_by_its_deadline_fails_with_that_reason(api):
    past = api.post("/tasks", json={"instruction": "put the apple in the fridge", "deadline": time.time() - 1})
    backwards = api.post("/tasks", json={"instruction": "put the apple in the fridge",
                                         "not_before": time.time() + 60, "deadline": time.time() + 30})
    for resp in (past, backwards):
        task = until(lambda: (t := api.get(resp.json()["url"]).json())["status"] == "failed" and t)
        assert "deadline" in task["reason"], task


def test_a_task_waits_for_its_earliest_start(api, svc):
    tasks = svc[1]
    start = time.time() + 3
    resp = api.post("/tasks", json={"instruction": "put the apple in the fridge", "not_before": start})
    task_id, url = resp.json()["id"], resp.json()["url"]
    waiting = until(lambda: tasks.r.zscore(tasks.keys.task_delayed, task_id))  # set aside, no brain held
    assert waiting == pytest.approx(start) and api.get(url).json()["status"] == "pending"
    until(lambda: tasks.r.zscore(tasks.keys.task_delayed, task_id) is None, timeout_s=8)
    assert time.time() >= start, "queued again only once its time has come"
    assert api.post(url + "/kill").json()["status"] == "killed"


def test_the_export_is_the_whole_audit_record(api, svc):
    tasks = svc[1]
    resp = api.post("/tasks", json={"instruction": "put the apple in the fridge", "priority": 2,
                                    "robots": ["robot1"]})
    task_id = resp.json()["id"]
    api.post(f"/tasks/{task_id}/kill")
    # A runner that had taken the task may still be ending its run ("finished") while the export is
    # read: the export holds every event stored before it, and nothing that was not stored.
    before = [e.kind for _, e in tasks.events(task_id)]
    audit = api.get(f"/tasks/{task_id}/export")
    after = [e.kind for _, e in tasks.events(task_id)]
    assert audit.status_code == 200
    doc = audit.json()
    assert doc["instruction"] == "put the apple in the fridge" and doc["submitted_by"] == "anonymous"
    assert doc["options"]["priority"] == 2 and doc["options"]["robots"] == ["robot1"]
    assert doc["approvals"] == [] and doc["plans"] == [] and doc["status"] == "killed"
    assert doc["task"]["id"] == task_id and doc["events"][0]["id"]
    exported = [e["kind"] for e in doc["events"]]
    assert exported[:len(before)] == before and after[:len(exported)] == exported and "status" in before


def test_the_client_drives_the_lifecycle(svc):
    service, tasks = svc
    with Client(service.url) as rc:
        accepted = rc.submit("put the apple in the fridge", robots=["robot1"], priority=1,
                             idempotency_key=uuid.uuid4().hex, not_before=time.time() + 600)
        assert rc.task(accepted.id).options.priority == 1
        with pytest.raises(ServiceError) as err:
            rc.interrupt(accepted.id)
        assert err.value.status == 409
        assert rc.kill(accepted.id).status == S.killed
        audit = rc.export(accepted.id)
        assert audit.options.robots == ["robot1"] and audit.events[-1].actor == "anonymous"
        rec = tasks.create("x")
        tasks.transition(rec.id, S.planning)
        rc.interrupt(rec.id)
        tasks.transition(rec.id, S.interrupted)
        assert rc.resume(rec.id).status == S.planning
        assert rc.cancel(rec.id).status in (S.planning, S.cancelled)
