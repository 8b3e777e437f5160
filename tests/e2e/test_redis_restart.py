"""Every process rides out Redis restarts (the short version of `make chaos`).

The real stack (world host, two workers, the brain) on an embedded redis-server with an append-only
file; Redis is stopped and started again on the same folder twice while a task runs — once while a
subtask is in flight. Nothing exits, the task succeeds, its goals hold in the world, and each
process logs one line per outage and one per recovery.
"""

from __future__ import annotations

import signal
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


@pytest.mark.parametrize("command", ["serve", "world-host"])
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_stops_the_command_and_its_embedded_redis_within_seconds(command, signum, code):
    import os
    import subprocess
    import sys

    from robocortex.agents.launcher import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "ROBOCORTEX_REDIS_URL"}
    proc = subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", command, "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        children = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "redis-server"], capture_output=True,
                                  text=True).stdout.split()
        assert len(children) == 1, "the command started its own embedded Redis"
        socket = next(a for a in open(f"/proc/{children[0]}/cmdline").read().split("\0") if a.endswith("redis.socket"))
        started = time.monotonic()
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == code, out.decode()[-2000:]
        assert time.monotonic() - started < 10
        assert "Traceback" not in out.decode(), out.decode()[-2000:]
        assert not os.path.exists(f"/proc/{children[0]}"), "its redis-server stopped with it"
        assert not os.path.exists(os.path.dirname(socket)), "and its folder is gone"
    finally:
        if proc.poll() is None:
            proc.kill()
