"""The task lifecycle with real processes (world host, two robot workers, the brain on Kitchen-0, a real
Redis): interrupt then resume, kill, priority preemption on a shared robot, a missed deadline, an
idempotent submission; and cancel while a task waits for robots (a brain with none), within 3 s."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from robocortex.agents.follow import world_check
from robocortex.client import Client

from tests.support.processes import frozen, team, until
from tests.support.service import Service

pytestmark = pytest.mark.e2e
TWO_STEPS = "put the potato in the fridge then turn off the light"  # each test asks for what is not yet so


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with team("life", tmp_path_factory.mktemp("lifecycle-logs")) as s:
        yield s


@pytest.fixture
def rc(stack):
    with Client(stack.api_url, timeout=30) as client:
        yield client


def status_trail(rc: Client, task_id: str) -> list[tuple[str, str, str | None]]:
    return [(e.data["from"], e.data["status"], e.actor) for e in rc.export(task_id).events if e.kind == "status"]


def first_dispatch(rc: Client, task_id: str) -> None:
    until(lambda: any(e.kind == "dispatch" for e in rc.export(task_id).events), 120, "a first dispatch")


@contextmanager
def paused_robots(stack) -> Iterator[None]:
    """Both robot workers paused for a moment (well within their heartbeat TTL), so what the test does
    right after a first dispatch lands while that subtask is still in flight, however fast the emulator."""
    with ExitStack() as paused:
        for name in ("robot1", "robot2"):
            paused.enter_context(frozen(stack.procs[name]))
        yield


def test_interrupt_holds_the_robots_and_resume_replans_to_success(stack, rc):
    task_id = rc.submit(TWO_STEPS).id
    first_dispatch(rc, task_id)
    with paused_robots(stack):
        assert rc.interrupt(task_id).status.value in ("running", "planning")
    until(lambda: rc.task(task_id).status.value == "interrupted", 60, "interrupted")
    held = rc.task(task_id)
    assert not [s for s in held.subtasks if s.status.value in ("dispatched", "waiting")], held.subtasks
    time.sleep(1.0)  # held: nothing new is dispatched while interrupted
    assert rc.task(task_id).status.value == "interrupted"
    assert [r for r in rc.robots() if r.current_subtask and r.current_subtask.startswith(task_id)] == []
    assert rc.resume(task_id).status.value == "planning"
    final = rc.wait(task_id, timeout=240)
    assert final.status.value == "succeeded", final.reason
    assert world_check(stack.world_url, final.plan.model_dump(mode="json")) == []
    trail = status_trail(rc, task_id)
    assert ("running", "interrupted", "anonymous") in trail or ("planning", "interrupted", "anonymous") in trail
    assert ("interrupted", "planning", "anonymous") in trail
    assert len(rc.export(task_id).plans) >= 2, "planned again on resume"


def test_kill_stops_at_once(stack, rc):
    task_id = rc.submit("put the potato on the dining table then turn on the light").id
    first_dispatch(rc, task_id)
    with paused_robots(stack):
        killed = rc.kill(task_id)
    assert killed.status.value == "killed"
    assert all(s.status.value not in ("waiting", "dispatched") for s in killed.subtasks)
    until(lambda: not [r for r in rc.robots() if r.current_subtask and r.current_subtask.startswith(task_id)],
          30, "the robots off the killed task")
    assert rc.task(task_id).status.value == "killed" and status_trail(rc, task_id)[-1][1:] == ("killed", "anonymous")
    assert rc.wait(task_id, timeout=30).status.value == "killed"


def test_a_higher_priority_task_preempts_a_lower_one_on_its_robot_which_then_resumes(stack, rc):
    low = rc.submit("put the bread in the fridge then turn on the light", robots=["robot1"], priority=0).id
    first_dispatch(rc, low)
    with paused_robots(stack):
        high = rc.submit("put the apple in the fridge", robots=["robot1"], priority=5).id
        time.sleep(0.5)  # the brain takes the high one and interrupts the low one while robot1 is mid-subtask
    until(lambda: rc.task(low).status.value == "interrupted", 60, "the low-priority task interrupted")
    assert (status_trail(rc, low)[-1][1:]) == ("interrupted", f"task:{high}")
    done = rc.wait(high, timeout=240)
    assert done.status.value == "succeeded", done.reason
    assert {s.robot for s in done.subtasks} == {"robot1"}
    until(lambda: ("interrupted", "planning", "brain") in status_trail(rc, low), 30, "the low one resumed")
    final = rc.wait(low, timeout=240)
    assert final.status.value == "succeeded", final.reason
    assert {s.robot for s in final.subtasks} == {"robot1"}, "the team held across the resume"
    assert any(e.kind == "preempt" and e.data["task"] == low for e in rc.export(high).events)


def test_a_task_that_cannot_start_by_its_deadline_fails_with_that_reason(rc):
    task_id = rc.submit("turn off the light", deadline=time.time() - 5).id
    final = rc.wait(task_id, timeout=60)
    assert final.status.value == "failed" and "deadline" in final.reason


def test_the_same_idempotency_key_returns_the_same_task(stack, rc):
    key = uuid.uuid4().hex
    body = {"instruction": "turn off the light", "idempotency_key": key}
    first = httpx.post(f"{stack.api_url}/tasks", json=body, timeout=10)
    again = httpx.post(f"{stack.api_url}/tasks", json=body, timeout=10)
    assert (first.status_code, again.status_code) == (202, 200) and first.json()["id"] == again.json()["id"]
    assert rc.wait(first.json()["id"], timeout=120).status.value == "succeeded"
    assert httpx.post(f"{stack.api_url}/tasks", json=body, timeout=10).json()["id"] == first.json()["id"]


def test_cancel_while_waiting_for_robots_ends_the_task_within_3_s(redis_url, tmp_path):
    svc = Service(redis_url, f"wait-{uuid.uuid4().hex[:8]}", tmp_path / "serve.log",
                  env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "30"}).start()
    try:
        with Client(svc.url) as rc:
            task_id = rc.submit("put the apple in the fridge").id
            time.sleep(1.0)  # taken by the brain, which waits (up to 30 s) for a robot
            started = time.monotonic()
            assert rc.cancel(task_id).status.value == "cancelled"
            # the brain stops waiting for robots and ends its run of the task ("finished")
            until(lambda: any(e.kind == "finished" for e in rc.export(task_id).events), 10, "the run's end")
            elapsed = time.monotonic() - started
            events = list(rc.events(task_id))
        assert elapsed < 3, elapsed
        assert events[-1].kind == "end" and events[-1].status.value == "cancelled"
    finally:
        svc.stop()
