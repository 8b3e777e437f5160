"""Every process rides out Redis restarts (the short version of `make chaos`).

The real stack (world host, two workers, the brain) on an embedded redis-server with an append-only
file; Redis is stopped and started again on the same folder twice while a task runs — once while a
subtask is in flight. Nothing exits, the task succeeds, its goals hold in the world, and each
process logs one line per outage and one per recovery.
"""

from __future__ import annotations

import time
import uuid
from typing import Iterator

import httpx
import pytest

from robocortex.agents.follow import submit, world_check
from robocortex.agents.launcher import RobotSpec, Stack
from robocortex.memory.connection import EmbeddedRedis, connect
from robocortex.memory.keys import Keys
from robocortex.memory.schemas import TaskEvent
from robocortex.memory.tasks import TaskStore

pytestmark = pytest.mark.e2e

DOWN_S = 2.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("e2e-redis-restart")
    s = Stack(scene="Kitchen-0", redis_url=None, key_prefix=f"rr-{uuid.uuid4().hex[:8]}", log_dir=logs,
              robots=[RobotSpec("robot1", "mobile_manipulator"), RobotSpec("robot2", "mobile_manipulator")],
              extra_env={"ROBOCORTEX_LEASE_MS": "20000", "ROBOCORTEX_HEARTBEAT_TTL_S": "3"})
    with s:
        yield s


def restart_redis(stack: Stack) -> None:
    assert stack._redis is not None and stack.log_dir is not None
    stack._redis.close()  # SIGTERM: redis-server flushes its AOF and exits
    time.sleep(DOWN_S)
    stack._redis = EmbeddedRedis(stack.log_dir / "redis")  # same folder, same socket, data back


def wait_for(tasks: TaskStore, task_id: str, match, timeout_s: float = 90) -> TaskEvent:
    cursor, deadline = "0", time.time() + timeout_s
    while time.time() < deadline:
        for cursor, event in tasks.events(task_id, after=cursor, block_ms=500):
            if match(event):
                return event
    raise AssertionError(f"no matching event for {task_id} within {timeout_s} s")


def test_every_process_rides_out_two_redis_restarts_and_the_task_succeeds(stack: Stack):
    tasks = TaskStore(connect(stack.redis_url), Keys(stack.key_prefix))
    task_id = submit(stack.api_url, "put the apple in the fridge and turn off the light")
    wait_for(tasks, task_id, lambda e: e.kind == "thought" and e.message.startswith("starting"))
    restart_redis(stack)  # a subtask is in flight
    time.sleep(3)
    restart_redis(stack)
    deadline = time.time() + 180
    record = None
    while time.time() < deadline:
        record = httpx.get(f"{stack.api_url}/tasks/{task_id}", timeout=30).json()
        if record["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.5)
    def logs_now() -> dict[str, str]:
        return {name: stack.tail(name, 100_000) for name in stack.procs}

    settle = time.time() + 15  # an idle process notices the second outage at its next heartbeat
    while time.time() < settle and any(t.count("Redis unreachable") != t.count("Redis is back after")
                                       for t in logs_now().values()):
        time.sleep(0.5)
    logs = logs_now()
    assert stack.exited() == {}, (stack.exited(), logs)
    assert record is not None and record["status"] == "succeeded", (record, logs["brain"])
    assert world_check(stack.world_url, record["plan"]) == []
    for name, text in logs.items():
        assert "Traceback" not in text, (name, text)
        down = text.count("Redis unreachable")
        back = text.count("Redis is back after")
        assert down == back and down <= 2, (name, text)  # one line per outage and per recovery
    assert all(logs[r.name].count("Redis unreachable") == 2 for r in stack.robots), logs
