"""A small hand-made kitchen scene graph for planner and validator tests (no world needed), and a
brain on real Redis with scripted robots: stand-ins at the Redis boundary that take subtasks from
their inbox stream, apply the skills' declared effects to the scene graph, store a result and ack —
exactly the contract a robot worker keeps, without a world."""

import threading
import time

import pytest

from robocortex.brain.graph import BrainConfig, BrainDeps, compile_graph, initial_state
from robocortex.brain.offline import OfflinePlanner
from robocortex.cerebellum.skills import SKILLS, SymbolicWorld
from robocortex.memory.checkpoint import RedisCheckpointSaver
from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import Failure, NodePatch, SceneDelta, SubtaskResult
from robocortex.memory.tasks import TaskStore

from robocortex.memory.schemas import RobotProfile, SceneNode, SceneSnapshot
from robocortex.cerebellum.profiles import BUILTIN_PROFILES


def _obj(oid, otype, x, z, parent=None, rel="on", **flags):
    rels = [{"rel": rel, "target": parent}] if parent else []
    return SceneNode(id=oid, kind="object", objectType=otype, position={"x": x, "y": 0.9, "z": z},
                     relations=rels, **flags)


@pytest.fixture
def kitchen() -> SceneSnapshot:
    nodes = [
        _obj("CounterTop|1", "CounterTop", 0, 0, receptacle=True),
        _obj("Fridge|1", "Fridge", 3, 0, receptacle=True, openable=True, isOpen=False),
        _obj("Apple|1", "Apple", 0.2, 0, parent="CounterTop|1", pickupable=True, mass=0.2, sliceable=True),
        _obj("Knife|1", "Knife", 0.6, 0, parent="CounterTop|1", pickupable=True, mass=0.1),
        _obj("Potato|1", "Potato", 0.8, 0, parent="CounterTop|1", pickupable=True, mass=0.2, cookable=True),
        _obj("Mug|1", "Mug", 1.2, 0.5, parent="CounterTop|1", pickupable=True, mass=0.3, dirtyable=True,
             isDirty=True, canFillWithLiquid=True),
        _obj("Pumpkin|1", "Pumpkin", 0.4, 0, parent="CounterTop|1", pickupable=True, mass=3.0),
        _obj("Egg|1", "Egg", 3.1, 0, parent="Fridge|1", rel="in", pickupable=True, mass=0.05),
        _obj("LightSwitch|1", "LightSwitch", -2, 1, toggleable=True, isToggled=True),
        _obj("Microwave|1", "Microwave", 1, 1, receptacle=True, openable=True, toggleable=True),
        _obj("GarbageCan|1", "GarbageCan", -1, -2, receptacle=True),
        SceneNode(id="robot1", kind="robot", position={"x": 0, "y": 0.9, "z": 0}),
        SceneNode(id="robot2", kind="robot", position={"x": -2, "y": 0.9, "z": 1}),
    ]
    return SceneSnapshot(rev=1, nodes={n.id: n for n in nodes})


def profile(name, kind="mobile_manipulator", agent_id=0):
    spec = BUILTIN_PROFILES[kind]
    return RobotProfile(name=name, agent_id=agent_id, embodiment=spec.embodiment, skills=spec.skills,
                        payload_kg=spec.payload_kg, mobility=spec.mobility)


@pytest.fixture
def make_profile():
    return profile


@pytest.fixture
def two_robots():
    return [profile("robot1"), profile("robot2", agent_id=1)]


def _typed_failure(steps):
    """What the executor reports when the world refuses the subtask's first pick_up (or first step)."""
    index = next((i for i, s in enumerate(steps) if s.skill == "pick_up"), 0)
    step = steps[index] if steps else None
    return Failure(code="action_failed", step_index=index if step else None, skill=step.skill if step else None,
                   args=dict(step.args) if step else {},
                   details={**(dict(step.args) if step else {}), "world_error": "object not visible",
                            "world_code": "other"})


class ScriptedRobot(threading.Thread):
    def __init__(self, r, keys, profile, fail_once=(), delay_s=0.0, then=None, fail_when=None):
        """`then(subtask_id, scene)` runs after a subtask's effects: someone else changing the world;
        `fail_when(message)` says whether to fail a subtask (besides the ids in `fail_once`)."""
        super().__init__(daemon=True)
        self.fail_when = fail_when or (lambda message: False)
        self.messages: list = []  # every subtask message received, in order
        self.then = then or (lambda subtask_id, scene: None)
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
            self.messages.append(msg)
            time.sleep(self.delay_s)
            ok = msg.subtask_id not in self.fail_once and not self.fail_when(msg)
            self.fail_once.discard(msg.subtask_id)
            if ok:
                self._apply(msg.steps)
                self.then(msg.subtask_id, self.scene)
            self.dispatcher.complete(d, SubtaskResult(
                task_id=msg.task_id, subtask_id=msg.subtask_id, attempt=msg.attempt, robot=self.profile.name,
                success=ok, error=None if ok else "pick_up failed: object not visible",
                failure=None if ok else _typed_failure(msg.steps), actions=len(msg.steps)))

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


def run(deps, saver, text):
    """Run one task's graph to its end in this thread; the task record as it ended."""
    record = deps.tasks.create(text)
    graph = compile_graph(saver)
    graph.invoke(initial_state(record.id, text), {"configurable": {"thread_id": record.id}, "recursion_limit": 10_000},
                 context=deps)
    return deps.tasks.get(record.id)
