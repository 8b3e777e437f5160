"""The brain service as a real process among real processes: killed mid-task and started again it
resumes from its Redis checkpoint without redoing finished subtasks; several tasks run at once; a
task is cancelled over REST. Runs on the embedded Redis, or on ROBOCORTEX_REDIS_URL."""

from __future__ import annotations

import os
import uuid

import httpx
import pytest

from robocortex.agents.follow import events, submit, world_check
from robocortex.agents.launcher import Stack

pytestmark = pytest.mark.e2e
BRAIN_ID = "brain-e2e"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
              key_prefix=f"e2e-{uuid.uuid4().hex[:8]}", log_dir=tmp_path_factory.mktemp("brain-restart-logs"),
              extra_env={"ROBOCORTEX_BRAIN_ID": BRAIN_ID})
    with s:
        yield s


def record(stack: Stack, task_id: str) -> dict:
    return httpx.get(f"{stack.api_url}/tasks/{task_id}", timeout=10).json()


def all_events(stack: Stack, task_id: str) -> list[tuple[str, dict]]:
    return list(events(stack.api_url, task_id, timeout_s=240))


def test_killed_brain_resumes_without_redoing_finished_subtasks(stack):
    task_id = submit(stack.api_url, "put the potato in the fridge then turn off the light")
    for kind, data in events(stack.api_url, task_id, timeout_s=240):
        if kind == "result" and data.get("subtask_id") == "s1":
            assert data["data"]["success"], data
            break
    stack.procs["brain"].kill()  # no goodbye: whatever was not checkpointed is lost
    stack.procs["brain"].wait(10)
    port = stack.api_url.rsplit(":", 1)[1]
    stack.spawn("brain", "serve", "--port", port)  # same ROBOCORTEX_BRAIN_ID: it takes its own queue entry
    stack._wait_http("brain", stack.api_url + "/health")

    seen = all_events(stack, task_id)
    final = record(stack, task_id)
    assert final["status"] == "succeeded", (final["reason"], stack.tail("brain"))
    assert world_check(stack.world_url, final["plan"]) == []
    dispatched = [d.get("subtask_id") for k, d in seen if k == "dispatch"]
    assert dispatched.count("s1") == 1, f"s1 was done once, before the restart: {dispatched}"
    s1_done = next(d["at"] for k, d in seen if k == "result" and d.get("subtask_id") == "s1")
    s1_actions = [d["at"] for k, d in seen if k == "action" and d.get("subtask_id") == "s1"]
    assert s1_actions and max(s1_actions) <= s1_done, "no robot acted on s1 after it had finished"
    assert "resuming from checkpoint" in stack.tail("brain", lines=200)


def test_several_tasks_run_at_once(stack):
    ids = [submit(stack.api_url, text) for text in ("slice the bread", "fill the mug with water")]
    windows = []
    for task_id in ids:
        seen = all_events(stack, task_id)
        final = record(stack, task_id)
        assert final["status"] == "succeeded", (final["reason"], stack.tail("brain"))
        assert world_check(stack.world_url, final["plan"]) == []
        stamps = [d["at"] for k, d in seen if "at" in d]
        windows.append((min(stamps), max(stamps)))
    # Both were taken up at once (perceive → … → finished overlap); dispatch windows alone may not overlap
    # when one task's plan is ready while the other's search runs (one search at a time per process).
    (a_start, a_end), (b_start, b_end) = windows
    assert a_start < b_end and b_start < a_end, "both tasks were under way at the same time"


def test_task_is_cancelled_over_rest(stack):
    task_id = submit(stack.api_url, "throw away the tomato then wash the pot")
    for kind, data in events(stack.api_url, task_id, timeout_s=240):
        if kind == "dispatch":
            break
    resp = httpx.post(f"{stack.api_url}/tasks/{task_id}/cancel", timeout=10)
    assert resp.status_code == 202, resp.text
    kinds = [k for k, _ in all_events(stack, task_id)]
    assert kinds[-1] == "end"
    final = record(stack, task_id)
    assert final["status"] == "cancelled", final
    assert not any(s["status"] in ("waiting", "dispatched") for s in final["subtasks"])
    assert httpx.post(f"{stack.api_url}/tasks/{task_id}/cancel", timeout=10).status_code == 409
    # the service carries on: the next task works
    nxt = submit(stack.api_url, "open the fridge")
    all_events(stack, nxt)
    assert record(stack, nxt)["status"] == "succeeded"
