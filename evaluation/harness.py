"""One task on a simulated robot team, in this process, through the real components and Redis.

It runs the same code as a deployment: the scene graph seeded from the world (as the world host
does), one `RobotWorker` per robot with its own Redis clients, and the brain's LangGraph graph
(`TaskRunner.run_task`). Two things differ, both to make runs cheap enough to evaluate by the
dozen: the world is an object shared by the worker threads (behind one lock, as the world host
serialises HTTP calls) instead of a process, and each run has its own key prefix, so many runs
share one Redis without seeing each other. A run starts in well under a second; the
multi-process `Stack` takes about ten.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from robocortex.memory.schemas import RobotProfile, TaskEvent, TaskRecord
from robocortex.sim.backends import make_world
from robocortex.sim.world import Metadata, World

from robocortex.memory.stores import Memory
from robocortex.evaluation.scenes import nodes_of
from robocortex.evaluation.trace import GoalOutcome, MapObject, RobotInfo, RunTrace, SceneMap
from robocortex.agents.robot_worker import RobotWorker
from robocortex.brain.runner import TaskRunner
from robocortex.agents.settings import Settings
from robocortex.agents.world_host import reset_and_seed
from robocortex.brain.goals import goal_holds
from robocortex.brain.plan import Goal, Plan
from robocortex.brain.planner import Planner
from robocortex.cerebellum.profiles import ProfileSpec, resolve_profile

log = logging.getLogger("robocortex.evaluation")
ONLINE_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0  # robots stop within milliseconds (stop() ends their blocking reads); a bound, not a wait
GRACE_S = 60.0  # beyond the brain's own task timeout, before the harness cancels the task itself


@dataclass
class RunRequest:
    """What to run; `goals` are ground truth when given, else the planner's own goals are checked."""

    instruction: str
    scene: str
    robots: list[str]
    goals: list[Goal] | None = None
    task_id: str = "adhoc"
    category: str = ""
    phrasing: str = ""
    room: str = ""
    timeout_s: float = 240.0
    initial_state: list[dict[str, Any]] = field(default_factory=list)  # set-up steps run right after reset
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])


def team(profile_names: list[str], extra: dict[str, ProfileSpec] | None = None) -> list[RobotProfile]:
    """robot1..N with the named profiles; ValueError naming an unknown profile."""
    return [resolve_profile(name, extra).for_robot(f"robot{i + 1}", i) for i, name in enumerate(profile_names)]


class SerializedWorld:
    """The `World` protocol with every call under one lock: one world, many robot threads."""

    def __init__(self, world: World):
        self._world = world
        self._lock = threading.Lock()
        self.backend = world.backend

    def reset(self, scene: str, agent_count: int = 1, **init: Any) -> list[Metadata]:
        with self._lock:
            return self._world.reset(scene, agent_count, **init)

    def step(self, agent_id: int, action: str, **params: Any) -> Metadata:
        with self._lock:
            return self._world.step(agent_id, action, **params)

    def metadata(self, agent_id: int = 0) -> Metadata:
        with self._lock:
            return self._world.metadata(agent_id)

    def frames(self, agent_id: int = 0, **flags: Any) -> Any:
        """The agent's camera frames, when the world renders them (robots with vision)."""
        with self._lock:
            return self._world.frames(agent_id, **flags)  # type: ignore[attr-defined]

    def stop(self) -> None:
        with self._lock:
            self._world.stop()


def scene_map(world: World, starts: list[Metadata]) -> SceneMap:
    """The floor and the objects as they are before anyone moves, for the top-down map."""
    md = world.step(0, "GetReachablePositions")
    cells = {(p["x"], p["z"]) for p in md.get("actionReturn") or []}
    cells |= {(m["agent"]["position"]["x"], m["agent"]["position"]["z"]) for m in starts}  # other agents' cells
    objects = []
    for o in starts[0].get("objects") or []:
        box = o.get("axisAlignedBoundingBox") or {}
        centre, size = box.get("center") or o["position"], box.get("size") or {"x": 0.1, "z": 0.1}
        objects.append(MapObject(id=o["objectId"], type=o["objectType"], x=centre["x"], z=centre["z"],
                                 size_x=size["x"], size_z=size["z"]))
    xs = [c[0] for c in cells] + [o.x for o in objects]
    zs = [c[1] for c in cells] + [o.z for o in objects]
    return SceneMap(bounds=(min(xs) - 0.5, min(zs) - 0.5, max(xs) + 0.5, max(zs) + 0.5),
                    reachable=sorted(cells), objects=objects)


def goal_outcomes(world: World, goals: list[Goal]) -> list[GoalOutcome]:
    """Each goal checked in the world's own final state (not in the team's scene graph)."""
    nodes = nodes_of(world.metadata(0))
    return [GoalOutcome(goal=g.describe(), met=goal_holds(nodes, g, goals)) for g in goals]  # goals: for 'the rest'


def _wait_online(workers: list[RobotWorker], threads: list[threading.Thread]) -> None:
    """Until every robot has registered and published where it is (each worker's `ready` event)."""
    deadline = time.monotonic() + ONLINE_TIMEOUT_S
    for w in workers:
        while not w.ready.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline or not all(t.is_alive() for t in threads):
                raise RuntimeError(f"robots did not come online: {sorted(x.name for x in workers if not x.ready.is_set())}")


def _stop_robots(workers: list[RobotWorker], threads: list[threading.Thread]) -> None:
    """Stop every robot by its signal: `RobotWorker.stop()` also ends its blocking inbox read at once, so
    the threads end within milliseconds instead of running out the read's timeout."""
    for w in workers:
        w.stop()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    for w in workers:
        w.memory.dispatcher.close()
        w.memory.r.connection_pool.disconnect()


def _drop_keys(memory: Memory) -> None:
    stale = list(memory.r.scan_iter(match=f"{memory.keys.prefix}:*", count=1000))
    for i in range(0, len(stale), 500):
        memory.r.delete(*stale[i:i + 500])


def run_task(request: RunRequest, settings: Settings, *, planner: Planner | None = None,
             on_event: Callable[[TaskEvent], None] | None = None) -> RunTrace:
    """Run one task to its end and return its trace; raises ValueError for an unknown scene or profile."""
    robots = team(request.robots, settings.profiles)
    settings = settings.model_copy(update={
        "key_prefix": f"{settings.key_prefix}:run:{request.run_id}:{uuid.uuid4().hex[:6]}",
        "brain_id": f"eval-{request.run_id}",
        "task_timeout_s": request.timeout_s,
    })
    world = SerializedWorld(make_world(settings.world_backend))
    memory = Memory.from_settings(settings)
    starts = reset_and_seed(world, settings, request.scene, len(robots), memory, request.initial_state)
    layout = scene_map(world, starts)
    workers = [RobotWorker(settings, profile, world) for profile in robots]
    threads = [threading.Thread(target=w.run, name=w.name, daemon=True) for w in workers]
    try:
        for t in threads:
            t.start()
        _wait_online(workers, threads)
        record, events, started = _run_brain(request, settings, memory, planner, on_event)
        ended = next((e.at for e in reversed(events) if e.kind == "finished"), time.time())
        goals = request.goals if request.goals is not None else (
            Plan.model_validate(record.plan).goals if record.plan else [])
        return RunTrace(
            run_id=request.run_id, task_id=request.task_id, scene=request.scene, room=request.room,
            category=request.category, phrasing=request.phrasing, instruction=request.instruction,
            initial_state=request.initial_state, backend=world.backend,
            planner=settings.planner_kind() if planner is None else getattr(planner, "name", type(planner).__name__),
            robots=[RobotInfo(name=r.name, profile=p, agent_id=r.agent_id,
                              start=(s["agent"]["position"]["x"], s["agent"]["position"]["z"]))
                    for r, p, s in zip(robots, request.robots, starts)],
            goals_from="suite" if request.goals is not None else "plan", goals=goal_outcomes(world, goals),
            status=record.status.value, reason=record.reason, started_at=started, finished_at=ended,
            replans=record.replans, model_calls=int(record.metrics.get("model_calls", 0)),
            tokens=int(record.metrics.get("tokens", 0)), subtasks=record.subtasks, events=events, scene_map=layout,
        )
    finally:
        _stop_robots(workers, threads)
        world.stop()
        _drop_keys(memory)


def _run_brain(request: RunRequest, settings: Settings, memory: Memory, planner: Planner | None,
               on_event: Callable[[TaskEvent], None] | None) -> tuple[TaskRecord, list[TaskEvent], float]:
    """Submit the task, run its graph in a thread, and follow its events until it ends."""
    started = time.time()
    record = memory.tasks.create(request.instruction)
    # a run is never resumed (a crashed run is a failed run): its graph stores only its last checkpoint
    config = dataclasses.replace(settings.runner_config(), durability="exit")
    runner = TaskRunner(memory, config, planner or settings.make_planner())
    crash: list[BaseException] = []

    def brain() -> None:
        try:
            runner.run_task(record.id)
        except BaseException as exc:  # raised below, not lost in a thread
            crash.append(exc)

    thread = threading.Thread(target=brain, name=f"brain-{request.run_id}", daemon=True)
    thread.start()
    events: list[TaskEvent] = []
    cursor, deadline, cancelled, finished = "0", started + request.timeout_s + GRACE_S, False, False
    # Wait on the event stream: the graph's last event is "finished" (its `finish` node records the end
    # right after it), so the run ends as soon as that event is read. The read's timeout only bounds how
    # late a brain that crashed without finishing (its thread ended) or the deadline is noticed.
    while not finished:
        got = memory.tasks.events(record.id, after=cursor, block_ms=1000)
        for cursor, event in got:
            events.append(event)
            finished = finished or (event.kind == "finished" and event.robot is None)  # the graph's, not a robot's
            if on_event is not None:
                on_event(event)
        if not got and not thread.is_alive():
            break
        if not cancelled and time.time() > deadline:
            cancelled = True
            memory.tasks.request_cancel(record.id)
            log.warning("run %s: no end after %.0f s; cancelling", request.run_id, request.timeout_s + GRACE_S)
    thread.join()  # after "finished": the terminal status and the last checkpoint, milliseconds away
    if crash:
        raise RuntimeError(f"the brain crashed on this task: {crash[0]!r}") from crash[0]
    return memory.tasks.get(record.id) or record, events, started
