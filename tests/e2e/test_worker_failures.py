"""Robot workers failing for real: separate processes, a real Redis, signals.

To catch a worker provably mid-subtask, the world host is frozen (SIGSTOP) before work arrives:
the worker takes the subtask, reserves, announces it and blocks on its first world action; that
is when the test strikes. Leases and heartbeats are short so the reaper acts within seconds.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Callable, Iterator

import httpx
import pytest

from robocortex.memory.stores import Memory
from robocortex.agents.follow import events, submit, world_check
from robocortex.agents.launcher import RobotSpec, Stack
from robocortex.agents.settings import Settings
from robocortex.memory.schemas import SkillCall, SubtaskMessage, TaskEvent

from tests.support.processes import frozen, until

pytestmark = pytest.mark.e2e

USER_PROFILES = """
[profiles.careful_manipulator]
embodiment = "mobile_manipulator"
skills = ["navigate_to", "pick_up", "put", "drop", "open", "close", "toggle_on", "toggle_off", "explore"]
payload_kg = 2.0
description = "a slower arm for light things, declared in the config file"
"""
LEASE_MS = 8000  # long enough for a worker to restart before its entry could be reaped


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("e2e-failures")
    config = logs / "robocortex.toml"
    config.write_text(USER_PROFILES)
    s = Stack(scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
              key_prefix=f"e2e-{uuid.uuid4().hex[:8]}", log_dir=logs,
              robots=[RobotSpec("robot1", "mobile_manipulator"), RobotSpec("robot2", "careful_manipulator")],
              extra_env={"ROBOCORTEX_CONFIG": str(config), "ROBOCORTEX_LEASE_MS": str(LEASE_MS),
                         "ROBOCORTEX_HEARTBEAT_TTL_S": "1.5", "ROBOCORTEX_WAIT_FOR_ROBOTS_S": "5"})
    with s:
        yield s


@pytest.fixture(scope="module")
def memory(stack: Stack) -> Memory:
    return Memory.from_settings(Settings(redis_url=stack.redis_url, key_prefix=stack.key_prefix))


def frozen_world(stack: Stack):
    return frozen(stack.procs["world"])


def frozen_brain(stack: Stack):
    """The brain fails a robot's work over as soon as its heartbeat expires; frozen, it cannot, so a
    worker restarted under the same name meets its own unfinished entry (as it would after a restart
    quicker than the heartbeat, or a brain that has not looked yet)."""
    return frozen(stack.procs["brain"])


def wait_for_event(memory: Memory, task_id: str, match: Callable[[TaskEvent], bool], timeout_s: float = 60) -> TaskEvent:
    cursor, deadline = "0", time.time() + timeout_s
    while time.time() < deadline:
        for cursor, event in memory.tasks.events(task_id, after=cursor, block_ms=500):
            if match(event):
                return event
    raise AssertionError(f"no matching event for task {task_id} within {timeout_s} s")


def task_events(memory: Memory, task_id: str) -> list[TaskEvent]:
    return [e for _, e in memory.tasks.events(task_id, count=100_000)]


def starts(memory: Memory, task_id: str) -> list[TaskEvent]:
    return [e for e in task_events(memory, task_id) if e.kind == "thought" and e.message.startswith("starting")]


def restart(stack: Stack, memory: Memory, name: str) -> None:
    agent_id, spec = next((i, r) for i, r in enumerate(stack.robots) if r.name == name)
    stack.spawn(name, "worker", "--name", name, "--profile", spec.profile, "--agent-id", str(agent_id))
    until(lambda: memory.robots.is_alive(name), what=f"{name} back online")


def direct(robot: str, *steps: SkillCall, description: str) -> SubtaskMessage:
    """A subtask sent straight to a robot's inbox, as the brain would send it."""
    return SubtaskMessage(task_id=f"direct-{uuid.uuid4().hex[:8]}", subtask_id="s1", robot=robot,
                          description=description, steps=list(steps))


def test_a_robot_with_a_profile_from_the_config_file_serves(stack: Stack):
    robots = {r["profile"]["name"]: r for r in httpx.get(f"{stack.api_url}/robots").json()}
    careful = robots["robot2"]["profile"]
    assert careful["payload_kg"] == 2.0 and "slice" not in careful["skills"]
    assert robots["robot2"]["status"] != "offline"


def test_sigkill_mid_subtask_is_reclaimed_and_replanned_to_the_other_robot(stack: Stack, memory: Memory):
    with frozen_world(stack):
        task_id = submit(stack.api_url, "put the apple in the fridge")
        started = wait_for_event(memory, task_id, lambda e: e.kind == "thought" and e.message.startswith("starting"))
        victim = started.robot
        stack.procs[victim].send_signal(signal.SIGKILL)
        stack.procs[victim].wait(10)
    survivor = next(r.name for r in stack.robots if r.name != victim)
    seen = list(events(stack.api_url, task_id, timeout_s=120))
    record = httpx.get(f"{stack.api_url}/tasks/{task_id}").json()
    assert record["status"] == "succeeded", (record["reason"], stack.tail("brain"), stack.tail(survivor))
    results = [(d["robot"], d["data"]) for k, d in seen if k == "result"]
    assert any(robot == victim and data["failure_kind"] == "robot_lost" for robot, data in results), results
    assert any(robot == survivor and data["success"] for robot, data in results), results
    assert world_check(stack.world_url, record["plan"]) == []
    restart(stack, memory, victim)


def test_restarted_worker_drains_its_pending_entry_and_never_does_a_subtask_twice(stack: Stack, memory: Memory):
    msg = direct("robot1", SkillCall(skill="navigate_to", args={"object": "Fridge|+02.33|+00.90|+02.33"}),
                 description="go to the fridge")
    with frozen_brain(stack):
        with frozen_world(stack):
            memory.dispatcher.send(msg)
            wait_for_event(memory, msg.task_id, lambda e: e.robot == "robot1" and e.message.startswith("starting"))
            stack.procs["robot1"].send_signal(signal.SIGKILL)
            stack.procs["robot1"].wait(10)
            assert memory.dispatcher.pending("robot1") == 1, "the killed worker's entry is still pending"
            restart(stack, memory, "robot1")
        until(lambda: memory.dispatcher.result_for(msg) is not None, what="the drained subtask's result")
    done = memory.dispatcher.result_for(msg)
    assert done.success, done.error
    assert len(starts(memory, msg.task_id)) == 2, "killed once, resumed once"
    assert "(delivery 2)" in stack.tail("robot1", 200)

    memory.dispatcher.send(msg)  # the same subtask again: same task, subtask and attempt
    until(lambda: memory.r.xlen(memory.keys.inbox("robot1")) == 0, what="the duplicate acked")
    assert memory.dispatcher.pending("robot1") == 0
    assert len(starts(memory, msg.task_id)) == 2, "recognised by its idempotency key, not done again"
    assert memory.dispatcher.result_for(msg) == done
    assert f"{msg.key} already done (idempotency key)" in stack.tail("robot1", 200)


def test_sigterm_mid_subtask_stops_within_seconds_and_the_next_worker_resumes_it(stack: Stack, memory: Memory):
    """SIGTERM stops the worker at its next world action (exit 143); the subtask stays unacked and
    the restarted worker continues after its last finished step instead of starting over."""
    msg = direct("robot2", SkillCall(skill="navigate_to", args={"object": "Fridge|+02.33|+00.90|+02.33"}),
                 SkillCall(skill="explore"), description="look around by the fridge")
    proc = stack.procs["robot2"]
    with frozen_brain(stack):
        with frozen_world(stack):
            memory.dispatcher.send(msg)
            wait_for_event(memory, msg.task_id, lambda e: e.robot == "robot2" and e.message.startswith("starting"))
            proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert proc.wait(30) == 143
        assert time.monotonic() - stopped < 10
        assert memory.dispatcher.result_for(msg) is None, "an interrupted subtask is not reported as failed"
        assert memory.dispatcher.pending("robot2") == 1, "it stays unacked for the next worker"
        assert not memory.robots.is_alive("robot2"), "it signed off"
        assert "Traceback" not in stack.tail("robot2", 200)
        restart(stack, memory, "robot2")
    until(lambda: memory.dispatcher.result_for(msg) is not None, what="the resumed subtask's result")
    done = memory.dispatcher.result_for(msg)
    assert done.success, done.error
    assert memory.dispatcher.starts(msg) == 2 and memory.dispatcher.steps_done(msg) == 2
    assert memory.dispatcher.pending("robot2") == 0


def test_a_robot_killed_holding_an_object_keeps_it_and_the_brain_says_who_holds_it(stack: Stack, memory: Memory):
    """Nothing drops the object on a dead robot's behalf (a real gripper keeps its grip when its
    controller dies): the world and the scene graph keep it in that robot's hand, a task that needs
    it fails with the reason, and once the robot is back it finishes the job itself."""
    for robot in stack.robots:
        if not memory.robots.is_alive(robot.name):
            restart(stack, memory, robot.name)
    tomato = next(o["objectId"] for o in httpx.get(f"{stack.world_url}/metadata/0", timeout=30).json()["objects"]
                  if o["objectType"] == "Tomato")
    msg = direct("robot1", SkillCall(skill="navigate_to", args={"object": tomato}),
                 SkillCall(skill="pick_up", args={"object": tomato}), description="pick up the tomato")
    memory.dispatcher.send(msg)
    until(lambda: memory.dispatcher.result_for(msg) is not None, what="the pick-up's result")
    assert memory.dispatcher.result_for(msg).success, memory.dispatcher.result_for(msg).error
    stack.procs["robot1"].send_signal(signal.SIGKILL)
    stack.procs["robot1"].wait(10)
    until(lambda: not memory.robots.is_alive("robot1"), what="robot1 declared offline")

    in_hand = httpx.get(f"{stack.world_url}/metadata/0", timeout=30).json()["inventoryObjects"]
    assert [o["objectId"] for o in in_hand] == [tomato], "the world keeps it in the dead robot's hand"
    assert memory.scene.node("robot1").holding == tomato
    task_id = submit(stack.api_url, "put the tomato in the fridge")
    list(events(stack.api_url, task_id, timeout_s=120))
    record = httpx.get(f"{stack.api_url}/tasks/{task_id}").json()
    assert record["status"] == "failed", record
    assert "robot1 holds what is needed" in record["reason"] and "offline" in record["reason"], record["reason"]
    waited = [e for e in task_events(memory, task_id) if e.kind == "thought" and "robot1 (offline)" in e.message]
    assert waited, "the brain waited for robot1 to come back before giving up"

    restart(stack, memory, "robot1")
    task_id = submit(stack.api_url, "put the tomato in the fridge")
    list(events(stack.api_url, task_id, timeout_s=120))
    record = httpx.get(f"{stack.api_url}/tasks/{task_id}").json()
    assert record["status"] == "succeeded", (record["reason"], stack.tail("brain"), stack.tail("robot1"))
    assert world_check(stack.world_url, record["plan"]) == []
