"""The brain's closed loop on a real Redis. Robots are scripted stand-ins at the Redis boundary:
they take subtasks from their inbox stream, apply the skills' declared effects to the scene graph,
store a result and ack — exactly the contract a robot worker keeps, without a world."""

from __future__ import annotations

import threading
import time

import pytest

from brain.graph import BrainConfig, BrainDeps, build_graph, initial_state
from brain.offline import OfflinePlanner
from cerebellum.skills import SKILLS, SymbolicWorld
from memory.checkpoint import RedisCheckpointSaver
from memory.dispatch import Dispatcher
from memory.robots import RobotRegistry
from memory.scene_graph import SceneGraphStore
from memory.schemas import NodePatch, SceneDelta, SubtaskResult, TaskStatus
from memory.tasks import TaskStore


class ScriptedRobot(threading.Thread):
    def __init__(self, r, keys, profile, fail_once=(), delay_s=0.0):
        super().__init__(daemon=True)
        self.profile, self.fail_once, self.delay_s = profile, set(fail_once), delay_s
        self.scene = SceneGraphStore(r, keys)
        self.dispatcher = Dispatcher(r, keys)
        self.robots = RobotRegistry(r, keys, heartbeat_ttl_s=30)
        self.received: list[str] = []
        self.stop = threading.Event()
        self.robots.register(profile)
        self.robots.heartbeat(profile.name)

    def run(self):
        while not self.stop.is_set():
            d = self.dispatcher.receive(self.profile.name, self.profile.name, block_ms=100)
            if d is None:
                continue
            msg = d.message
            self.received.append(msg.subtask_id)
            time.sleep(self.delay_s)
            ok = msg.subtask_id not in self.fail_once
            self.fail_once.discard(msg.subtask_id)
            if ok:
                self._apply(msg.steps)
            self.dispatcher.complete(d, SubtaskResult(
                task_id=msg.task_id, subtask_id=msg.subtask_id, attempt=msg.attempt, robot=self.profile.name,
                success=ok, error=None if ok else "PickupObject failed: object not visible",
                failure_kind=None if ok else "action_failed", actions=len(msg.steps)))

    def _apply(self, steps):
        world = SymbolicWorld.from_snapshot(self.scene.snapshot())
        before = {k: dict(v) for k, v in world.nodes.items()}
        robot = world.nodes.setdefault(self.profile.name, {"id": self.profile.name, "kind": "robot"})
        robot.update(self.profile.model_dump(include={"skills", "payload_kg", "mobility"}))
        for step in steps:
            skill = SKILLS[step.skill]
            args = skill.parse_args(step.args)
            assert skill.check(world, robot, args) == [], step
            skill.apply(world, robot, args)
        patches = [NodePatch(id=k, set=v) for k, v in world.nodes.items() if before.get(k) != v]
        self.scene.apply(SceneDelta(patches=patches, source=f"scripted:{self.profile.name}"))


@pytest.fixture
def brain(r, keys, kitchen, make_profile):
    scene = SceneGraphStore(r, keys)
    scene.reset(list(kitchen.nodes.values()))
    tasks = TaskStore(r, keys)
    deps = BrainDeps(scene=scene, tasks=tasks, robots=RobotRegistry(r, keys, heartbeat_ttl_s=30),
                     dispatcher=Dispatcher(r, keys), planner=OfflinePlanner(),
                     config=BrainConfig(monitor_block_ms=300, wait_for_robots_s=2))
    robots = []

    def start_robots(**kw):
        for i, name in enumerate(("robot1", "robot2")):
            robot = ScriptedRobot(r, keys, make_profile(name, agent_id=i), **kw.get(name, {}))
            robot.start()
            robots.append(robot)
        return robots

    yield deps, start_robots, RedisCheckpointSaver(r, keys)
    for robot in robots:
        robot.stop.set()
    for robot in robots:
        robot.join(5)


def run(deps, saver, text, **compile_kw):
    record = deps.tasks.create(text)
    graph = build_graph(deps, checkpointer=saver)
    config = {"configurable": {"thread_id": record.id}, "recursion_limit": 10_000}
    graph.invoke(initial_state(record.id, text), config)
    return deps.tasks.get(record.id)


def test_two_goals_two_robots_succeed(brain):
    deps, start_robots, saver = brain
    r1, r2 = start_robots()
    record = run(deps, saver, "put the apple in the fridge and turn off the light")
    assert record.status == TaskStatus.succeeded, record.reason
    assert r1.received and r2.received
    kinds = [e.kind for _, e in deps.tasks.events(record.id, count=1000)]
    assert kinds.index("plan") < kinds.index("dispatch") < kinds.index("result") < kinds.index("goals_met")


def test_failure_is_replanned_without_redoing_finished_work(brain):
    deps, start_robots, saver = brain
    r1, r2 = start_robots(robot1={"fail_once": {"s1"}})
    record = run(deps, saver, "put the apple in the fridge and turn off the light")
    assert record.status == TaskStatus.succeeded, record.reason
    assert record.replans == 1
    done = [s for s in record.subtasks if s.status.value == "succeeded"]
    assert sorted(s.id for s in done) == ["r1.1", "s2"], "the light was not switched twice"
    assert r2.received.count("s2") == 1


def test_never_succeeding_robot_ends_failed_with_reason(brain):
    deps, start_robots, saver = brain
    start_robots(robot1={"fail_once": {"s1", "r1.1", "r2.1", "r3.1"}},
                 robot2={"fail_once": {"s1", "r1.1", "r2.1", "r3.1"}})
    record = run(deps, saver, "put the apple in the fridge")
    assert record.status == TaskStatus.failed
    assert "gave up after 3 replans" in record.reason and "object not visible" in record.reason


def test_cancel_stops_the_task(brain):
    deps, start_robots, saver = brain
    start_robots(robot1={"delay_s": 2.0}, robot2={"delay_s": 2.0})
    record = deps.tasks.create("put the apple in the fridge")
    threading.Timer(0.5, deps.tasks.request_cancel, args=(record.id,)).start()
    graph = build_graph(deps, checkpointer=saver)
    graph.invoke(initial_state(record.id, record.instruction),
                 {"configurable": {"thread_id": record.id}, "recursion_limit": 10_000})
    final = deps.tasks.get(record.id)
    assert final.status == TaskStatus.cancelled
    assert all(s.status.value == "cancelled" for s in final.subtasks)


def test_resume_from_checkpoint_does_not_redispatch(brain):
    deps, start_robots, saver = brain
    r1, r2 = start_robots()
    record = deps.tasks.create("put the apple in the fridge and turn off the light")
    config = {"configurable": {"thread_id": record.id}, "recursion_limit": 10_000}
    first = build_graph(deps, checkpointer=saver)
    first.invoke(initial_state(record.id, record.instruction), config, interrupt_after=["dispatch"])
    assert deps.tasks.get(record.id).status == TaskStatus.running
    # a new brain (new graph object, same Redis) picks the thread up where the checkpoint left it
    second = build_graph(deps, checkpointer=saver)
    assert second.get_state(config).next == ("reflect",)
    second.invoke(None, config)
    assert deps.tasks.get(record.id).status == TaskStatus.succeeded
    assert sorted(r1.received + r2.received) == ["s1", "s2"], "each subtask dispatched exactly once"


def test_plan_that_cannot_be_made_fails_with_the_words(brain):
    deps, start_robots, saver = brain
    start_robots()
    record = run(deps, saver, "levitate the apple")
    assert record.status == TaskStatus.failed
    assert "could not understand: 'levitate apple'" in record.reason
