"""Many robots per process, and robots that die: real processes (world host, brain, robot pools) on a
real Redis (benchmarks/bench_fleet.py's Fleet harness).

- a pool of 4 robots in one process serves a real brain's tasks, each robot with its own identity,
  and SIGTERM stops the whole pool (exit 143, every robot signed off, no traceback);
- a pool that dies mid-subtask is replanned around as soon as its robots' heartbeats expire, long
  before the lease; what a dead robot held is marked unavailable in the scene graph, and the marks
  go when it is back.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from benchmarks.bench_fleet import TERMINAL, Fleet, families
from robocortex.agents.follow import events, submit
from robocortex.memory.schemas import SkillCall, SubtaskMessage

from tests.support.processes import frozen, until

pytestmark = pytest.mark.e2e

LEASE_MS = 300_000  # five minutes: anything replanned within the test's time was not waiting for it


def test_a_pool_of_4_robots_in_one_process_serves_a_real_brains_tasks(tmp_path):
    with Fleet(robots=4, pools=[4], brain_workers=4, log_dir=tmp_path) as fleet:
        fleet.start_pools()
        fleet.wait_online(timeout_s=120)
        robots = {r.profile.name: r for r in fleet.memory.robots.list()}
        assert sorted(robots) == ["robot1", "robot2", "robot3", "robot4"]
        assert sorted(r.profile.agent_id for r in robots.values()) == [0, 1, 2, 3]
        assert [n for n in fleet.procs if n.startswith("pool")] == ["pool0"], "one process for the 4 robots"

        work = families(fleet.world_url)[:4]
        task_ids = [submit(fleet.api_url, first) for first, _ in work]
        for task_id in task_ids:
            list(events(fleet.api_url, task_id, timeout_s=180))
        records = [fleet.memory.tasks.get(t) for t in task_ids]
        assert all(r.status.value == "succeeded" for r in records), [(r.instruction, r.reason) for r in records]
        assert {st.robot for r in records for st in r.subtasks} <= set(robots)

        # each robot has its own inbox and body: four subtasks at once, one per robot, each done by it
        targets = [first.rsplit(" ", 1)[1] for first, _ in families(fleet.world_url)[4:8]]
        msgs = [SubtaskMessage(task_id=f"direct-{uuid.uuid4().hex[:8]}", subtask_id="s1", robot=name,
                               description=f"go to {target}",
                               steps=[SkillCall(skill="navigate_to", args={"object": target})])
                for name, target in zip(sorted(robots), targets)]
        before = {m.robot: httpx.get(f"{fleet.world_url}/metadata/{robots[m.robot].profile.agent_id}").json()["agent"]
                  for m in msgs}
        for m in msgs:
            fleet.memory.dispatcher.send(m)
        until(lambda: all(fleet.memory.dispatcher.result_for(m) is not None for m in msgs), what="four results")
        for m in msgs:
            result = fleet.memory.dispatcher.result_for(m)
            assert result.success and result.robot == m.robot, result
            after = httpx.get(f"{fleet.world_url}/metadata/{robots[m.robot].profile.agent_id}").json()["agent"]
            assert after != before[m.robot], f"{m.robot} moved its own agent"

        # a pool asking for more agents than the world has is refused before any robot registers
        refused = subprocess.run([sys.executable, "-m", "robocortex.agents.pool", "--robots", "2",
                                  "--first-agent-id", "3"], env=fleet._env(), capture_output=True, text=True,
                                 timeout=120)
        assert refused.returncode == 2, refused.stderr
        assert "has 4 agent(s)" in refused.stderr and "--agents 5" in refused.stderr
        assert "Traceback" not in refused.stderr and not fleet.memory.robots.get("robot5")

        pool = fleet.procs["pool0"]
        pool.send_signal(signal.SIGTERM)
        assert pool.wait(30) == 143
        assert not any(fleet.memory.robots.is_alive(name) for name in robots), "every robot signed off"
        assert "Traceback" not in fleet.tail("pool0", 500)


def test_a_pool_that_dies_is_replanned_around_at_once_and_what_it_held_is_unavailable(tmp_path):
    env = {"ROBOCORTEX_LEASE_MS": str(LEASE_MS), "ROBOCORTEX_HEARTBEAT_TTL_S": "1.5"}
    with Fleet(robots=4, pools=[2, 2], brain_workers=4, env=env, log_dir=tmp_path) as fleet:
        fleet.start_pools()
        fleet.wait_online(timeout_s=120)
        memory = fleet.memory
        pool_of = {"robot1": "pool0", "robot2": "pool0", "robot3": "pool1", "robot4": "pool1"}
        first, _ = next(f for f in families(fleet.world_url) if "Fridge" in f[0])

        # a robot dies mid-subtask (its whole process): the task goes on with a robot of the other pool
        with frozen(fleet.procs["world"]):
            task_id = submit(fleet.api_url, first)
            started = None

            def robot_started() -> bool:
                nonlocal started
                started = next((e for _, e in memory.tasks.events(task_id, count=10_000)
                                if e.kind == "thought" and e.message.startswith("starting")), None)
                return started is not None

            until(robot_started, what="a robot starting the subtask")
            victim_pool = pool_of[started.robot]
            fleet.procs[victim_pool].send_signal(signal.SIGKILL)
            fleet.procs[victim_pool].wait(10)
            killed_at = time.time()
        list(events(fleet.api_url, task_id, timeout_s=120))
        record = memory.tasks.get(task_id)
        assert record.status.value == "succeeded", (record.reason, fleet.tail("brain"))
        assert time.time() - killed_at < LEASE_MS / 1000 / 5, "replanned on the heartbeat, not the lease"
        results = [(e.robot, e.data) for _, e in memory.tasks.events(task_id, count=10_000) if e.kind == "result"]
        assert any(robot == started.robot and data.get("failure_kind") == "robot_lost" for robot, data in results), results
        survivors = {r for r, p in pool_of.items() if p != victim_pool}
        assert any(robot in survivors and data.get("success") for robot, data in results), results
        assert memory.scene.node(started.robot).offline is True

        # a robot of the surviving pool picks something up, then its pool dies holding it
        holder = sorted(survivors)[0]
        apple = next(o.id for o in fleet.memory.scene.snapshot().objects() if o.objectType == "Apple")
        msg = SubtaskMessage(task_id=f"direct-{uuid.uuid4().hex[:8]}", subtask_id="s1", robot=holder,
                             description="pick up the apple",
                             steps=[SkillCall(skill="navigate_to", args={"object": apple}),
                                    SkillCall(skill="pick_up", args={"object": apple})])
        memory.dispatcher.send(msg)
        until(lambda: memory.dispatcher.result_for(msg) is not None, what="the pick-up's result")
        assert memory.dispatcher.result_for(msg).success, memory.dispatcher.result_for(msg).error
        other_pool = pool_of[holder]
        fleet.procs[other_pool].send_signal(signal.SIGKILL)
        fleet.procs[other_pool].wait(10)
        until(lambda: getattr(memory.scene.node(holder), "offline", False), what=f"{holder} marked offline")
        assert memory.scene.node(holder).holding == apple and memory.scene.node(holder).lost_holding == apple
        assert memory.scene.node(apple).unavailable == f"held by {holder}, which is offline"

        # back again: the marks go, and it says itself what it holds
        first_agent = 0 if other_pool == "pool0" else 2
        fleet.spawn(other_pool, "-m", "robocortex.agents.pool", "--robots", "2", "--first-agent-id", str(first_agent))
        until(lambda: memory.robots.is_alive(holder), what=f"{holder} back online")
        until(lambda: memory.scene.node(apple).unavailable is None, what="the apple available again")
        node = memory.scene.node(holder)
        assert node.offline is False and node.lost_holding is None and node.holding == apple
        assert all(record.status.value in TERMINAL for record in [memory.tasks.get(task_id)])
