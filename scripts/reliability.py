"""Reliability runs on real processes: `make chaos` and `make soak`.

Both start their own redis-server (the system one, on a private TCP port, append-only file on) and
the whole stack as OS processes (world host, N robot workers, the brain), then keep several task
"families" busy at once: each family alternates two opposite instructions on its own objects (the
apple into the fridge, then onto the table...), one task at a time, so every task has work to do.

chaos: while the tasks run, SIGKILLs busy workers mid-subtask (then starts them again), SIGKILLs the
    brain (then starts it again), and restarts Redis (SIGTERM, a pause, the same AOF). At the end it
    prints lost / stuck / duplicated steps / process deaths / held at the end / scene graph vs world
    and exits 1 if any of them is not zero.
soak: no faults; 8 robots and 200 tasks; prints every process's RSS and Redis's memory before and
    after, and the keys left (finished tasks' streams and checkpoints expire after the retention, set short here).

    python scripts/reliability.py chaos [--tasks 48] [--robots 4] [--worker-kills 20] [--brain-kills 10]
    python scripts/reliability.py soak [--tasks 200] [--robots 8] [--retention 30]
"""

from __future__ import annotations

import argparse
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from robocortex.memory.stores import Memory
from robocortex.agents.launcher import RobotSpec, Stack, free_port
from robocortex.agents.settings import Settings
from robocortex.agents.world_host import nodes_of

# Each family: two instructions that undo each other, on objects no other family touches.
FAMILIES: list[tuple[str, str]] = [
    ("put the apple in the fridge", "put the apple on the dining table"),
    ("turn off the light", "turn on the light"),
    ("put the tomato in the sink", "put the tomato on the countertop"),
    ("put the potato in the pot", "put the potato on the plate"),
    ("open the microwave", "close the microwave"),
    ("put the mug in the coffee machine", "put the mug on the dining table"),
]
TERMINAL = {"succeeded", "failed", "cancelled"}
STATE_CHANGING = {"OpenObject", "CloseObject", "PickupObject", "PutObject", "ToggleObjectOn", "ToggleObjectOff",
                  "SliceObject", "BreakObject", "CleanObject", "FillObjectWithLiquid", "EmptyLiquidFromObject"}
COMPARED = ("isOpen", "isToggled", "isPickedUp")


class RedisServer:
    """The system redis-server on a private loopback port, AOF on, in its own folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
                "--logfile", str(self.folder / "redis.log")]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if redis.Redis(port=self.port, socket_connect_timeout=1).ping():
                    return
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start; see {self.folder / 'redis.log'}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: the AOF is flushed
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, down_s: float) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()


@dataclass
class Run:
    stack: Stack
    memory: Memory
    submitted: list[str] = field(default_factory=list)
    expected_exits: Counter = field(default_factory=Counter)  # processes we killed, not yet seen gone
    deaths: list[str] = field(default_factory=list)
    kills: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    tasks_done: threading.Event = field(default_factory=threading.Event)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- the stack's processes


def restart_process(run: Run, name: str) -> None:
    stack = run.stack
    if name == "brain":
        stack.spawn("brain", "serve", "--port", stack.api_url.rsplit(":", 1)[1])
        return
    agent_id, spec = next((i, r) for i, r in enumerate(stack.robots) if r.name == name)
    stack.spawn(name, "worker", "--name", name, "--profile", spec.profile, "--agent-id", str(agent_id))


def kill(run: Run, name: str) -> None:
    with run.lock:
        proc = run.stack.procs[name]
        if proc.poll() is not None:
            return
        run.expected_exits[name] += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        run.kills["brain" if name == "brain" else "worker"] += 1
        restart_process(run, name)


def watch_deaths(run: Run) -> None:
    """Any process that exits without us killing it is a death: note it, start it again."""
    while not run.stop.wait(0.5):
        with run.lock:
            for name, proc in list(run.stack.procs.items()):
                if proc.poll() is None:
                    continue
                if run.expected_exits[name]:
                    run.expected_exits[name] -= 1
                    continue
                run.deaths.append(f"{name} exit {proc.returncode}: {run.stack.tail(name, 5)}")
                log(f"DEATH: {name} exited with {proc.returncode}; starting it again")
                restart_process(run, name)


# --------------------------------------------------------------------------- tasks


def submit(run: Run, instruction: str) -> str:
    while True:
        try:
            resp = httpx.post(f"{run.stack.api_url}/tasks", json={"instruction": instruction}, timeout=10)
            if resp.status_code in (200, 201, 202):
                task_id = resp.json()["id"]
                with run.lock:
                    run.submitted.append(task_id)
                return task_id
        except httpx.HTTPError:
            pass  # the brain is restarting: ask again
        time.sleep(0.5)


def status(run: Run, task_id: str) -> str | None:
    try:
        record = run.memory.tasks.get(task_id)
    except redis.RedisError:
        return None
    return record.status.value if record else None


def family_loop(run: Run, family: int, count: int, task_timeout_s: float) -> None:
    for i in range(count):
        task_id = submit(run, FAMILIES[family][i % 2])
        deadline = time.time() + task_timeout_s
        while time.time() < deadline and status(run, task_id) not in TERMINAL:
            time.sleep(0.5)


def run_tasks(run: Run, total: int, families: int, task_timeout_s: float) -> None:
    per = [total // families + (1 if f < total % families else 0) for f in range(families)]
    threads = [threading.Thread(target=family_loop, args=(run, f, n, task_timeout_s), daemon=True)
               for f, n in enumerate(per)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# --------------------------------------------------------------------------- chaos


def busy_robot(run: Run) -> str | None:
    try:
        busy = [r.profile.name for r in run.memory.robots.list() if r.status.value == "busy"]
    except redis.RedisError:
        return None
    return random.choice(busy) if busy else None


def chaos_loop(run: Run, redis_server: RedisServer, worker_kills: int, brain_kills: int, redis_restarts: int,
               period_s: float) -> None:
    plan = (["worker"] * worker_kills + ["brain"] * brain_kills)
    random.shuffle(plan)
    restarts_at = {int(len(plan) * (k + 1) / (redis_restarts + 1)) for k in range(redis_restarts)}
    done = 0
    while done < len(plan) and not run.stop.wait(period_s) and not run.tasks_done.is_set():
        if done in restarts_at and run.kills["redis"] < redis_restarts:
            log(f"restarting Redis ({run.kills['redis'] + 1}/{redis_restarts})")
            redis_server.restart(down_s=2.0)
            run.kills["redis"] += 1
            continue
        what = plan[done]
        if what == "brain":
            log(f"SIGKILL brain ({run.kills['brain'] + 1}/{brain_kills})")
            kill(run, "brain")
            done += 1
            continue
        victim = busy_robot(run)
        if victim is None:
            continue  # nobody mid-subtask right now: try again shortly
        log(f"SIGKILL {victim} mid-subtask ({run.kills['worker'] + 1}/{worker_kills})")
        kill(run, victim)
        done += 1
    while run.kills["redis"] < redis_restarts and not run.stop.is_set() and not run.tasks_done.is_set():
        log(f"restarting Redis ({run.kills['redis'] + 1}/{redis_restarts})")
        redis_server.restart(down_s=2.0)
        run.kills["redis"] += 1


# --------------------------------------------------------------------------- the checks at the end


def duplicated_steps(run: Run) -> list[str]:
    """State-changing world actions that succeeded more than once for one subtask and object."""
    out = []
    for task_id in run.submitted:
        seen: Counter = Counter()
        for _, e in run.memory.tasks.events(task_id, count=1_000_000):
            data = e.data or {}
            if e.kind == "action" and data.get("success") and data.get("action") in STATE_CHANGING:
                seen[(e.subtask_id, data["action"], (data.get("params") or {}).get("objectId"))] += 1
        out += [f"{task_id} {sub} {action} {obj} ×{n}" for (sub, action, obj), n in seen.items() if n > 1]
    return out


def held_at_end(run: Run) -> list[str]:
    memory, out = run.memory, []
    out += [f"reservation {k}" for k in memory.r.scan_iter(match=f"{memory.keys.prefix}:reserve:*", count=1000)]
    for robot in run.stack.robots:
        pending = memory.dispatcher.pending(robot.name)
        if pending:
            out.append(f"{robot.name}: {pending} unacked subtask(s)")
    for agent_id, robot in enumerate(run.stack.robots):
        md = httpx.get(f"{run.stack.world_url}/metadata/{agent_id}", timeout=30).json()
        out += [f"{robot.name} holds {o['objectId']} in the world" for o in md.get("inventoryObjects") or []]
    queued = memory.r.xlen(memory.keys.task_queue)
    if queued:
        out.append(f"{queued} task(s) still on the queue")
    return out


def scene_vs_world(run: Run) -> list[str]:
    md = httpx.get(f"{run.stack.world_url}/metadata/0", timeout=30).json()
    truth = nodes_of(md)
    graph = run.memory.scene.node_dicts()[1]
    out = []
    for oid, node in truth.items():
        stored = graph.get(oid)
        if stored is None:
            out.append(f"{oid} missing from the scene graph")
            continue
        for name in COMPARED:
            if node.get(name) != stored.get(name):
                out.append(f"{oid}.{name}: world {node.get(name)} graph {stored.get(name)}")
        where = {r["target"] for r in node.get("relations") or [] if r["rel"] in ("in", "on")}
        stored_where = {r["target"] for r in stored.get("relations") or [] if r["rel"] in ("in", "on")}
        if where != stored_where:
            out.append(f"{oid} in/on: world {sorted(where)} graph {sorted(stored_where)}")
    for agent_id, robot in enumerate(run.stack.robots):
        inv = httpx.get(f"{run.stack.world_url}/metadata/{agent_id}", timeout=30).json().get("inventoryObjects") or []
        world_holds = inv[0]["objectId"] if inv else None
        graph_holds = (graph.get(robot.name) or {}).get("holding")
        if world_holds != graph_holds:
            out.append(f"{robot.name} holds: world {world_holds} graph {graph_holds}")
    return out


def outcomes(run: Run) -> Counter:
    return Counter(status(run, t) or "lost" for t in run.submitted)


# --------------------------------------------------------------------------- resources (soak)


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def resources(run: Run, redis_server: RedisServer) -> dict[str, float]:
    out = {f"rss {name} (MB)": rss_kb(p.pid) / 1024 for name, p in sorted(run.stack.procs.items())}
    if redis_server.proc is not None:
        out["rss redis-server (MB)"] = rss_kb(redis_server.proc.pid) / 1024
    info = run.memory.r.info("memory")
    out["redis used_memory (MB)"] = info["used_memory"] / 2**20
    out["redis keys"] = run.memory.r.dbsize()
    prefix = run.memory.keys.prefix
    out["task event/result streams"] = sum(1 for _ in run.memory.r.scan_iter(match=f"{prefix}:task:*", count=1000))
    out["checkpoint keys"] = sum(1 for _ in run.memory.r.scan_iter(match=f"{prefix}:ckpt*", count=1000))
    return out


# --------------------------------------------------------------------------- main


def start(args: argparse.Namespace, folder: Path, extra_env: dict[str, str]) -> tuple[RedisServer, Run]:
    redis_server = RedisServer(folder / "redis")
    redis_server.start()
    robots = [RobotSpec(f"robot{i + 1}", "mobile_manipulator") for i in range(args.robots)]
    env = {"ROBOCORTEX_BRAIN_ID": "reliability-brain", "ROBOCORTEX_HEARTBEAT_TTL_S": "3",
           "ROBOCORTEX_BRAIN_WORKERS": str(args.brain_workers), **extra_env}
    stack = Stack(scene="Kitchen-0", robots=robots, redis_url=redis_server.url,
                  key_prefix=f"rel-{uuid.uuid4().hex[:6]}", log_dir=folder / "logs", extra_env=env,
                  ready_timeout_s=120)
    log(f"starting redis-server (AOF) on port {redis_server.port}, the world host, {args.robots} workers, the brain")
    stack.start()
    memory = Memory.from_settings(Settings(redis_url=redis_server.url, key_prefix=stack.key_prefix))
    return redis_server, Run(stack=stack, memory=memory)


def report(rows: list[tuple[str, object]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def chaos(args: argparse.Namespace, folder: Path) -> int:
    env = {"ROBOCORTEX_MAX_REPLANS": "10", "ROBOCORTEX_LEASE_MS": "30000"}
    redis_server, run = start(args, folder, env)
    try:
        watcher = threading.Thread(target=watch_deaths, args=(run,), daemon=True)
        watcher.start()
        chaos_thread = threading.Thread(
            target=chaos_loop, args=(run, redis_server, args.worker_kills, args.brain_kills, args.redis_restarts,
                                     args.period), daemon=True)
        started = time.time()
        chaos_thread.start()
        run_tasks(run, args.tasks, min(args.families, len(FAMILIES)), args.task_timeout)
        run.tasks_done.set()
        chaos_thread.join(timeout=60)
        time.sleep(3)  # let the last restarts settle
        run.stop.set()
        elapsed = time.time() - started
        counts = outcomes(run)
        lost = [t for t in run.submitted if status(run, t) is None]
        stuck = [t for t in run.submitted if status(run, t) not in TERMINAL | {None}]
        dups, held, diff = duplicated_steps(run), held_at_end(run), scene_vs_world(run)
        failed = [(t, run.memory.tasks.get(t).reason) for t in run.submitted if status(run, t) == "failed"]
        print()
        print(f"chaos: {len(run.submitted)} tasks, {args.robots} robots, {elapsed:.0f} s; "
              f"{run.kills['worker']} workers SIGKILLed mid-subtask, {run.kills['brain']} brain SIGKILLs, "
              f"{run.kills['redis']} Redis restarts")
        print(f"  outcomes: {dict(counts)}")
        for task_id, reason in failed[:10]:
            print(f"    failed {task_id}: {reason}")
        rows: list[tuple[str, object]] = [
            ("lost", len(lost)), ("stuck", len(stuck)), ("duplicated steps", len(dups)),
            ("process deaths", len(run.deaths)), ("held at the end", len(held)),
            ("scene graph vs world (mismatches)", len(diff)),
        ]
        report(rows)
        for title, items in (("lost", lost), ("stuck", stuck), ("duplicated", dups), ("deaths", run.deaths),
                             ("held", held), ("mismatch", diff)):
            for item in items[:10]:
                print(f"    {title}: {item}")
        short = (run.kills["worker"] < args.worker_kills or run.kills["brain"] < args.brain_kills
                 or run.kills["redis"] < args.redis_restarts)
        if short:
            print("  not every planned fault was injected (the tasks finished first)")
        bad = any(v for _, v in rows) or short
        print(f"logs: {folder / 'logs'}")
        return 1 if bad else 0
    finally:
        run.stop.set()
        run.stack.stop()
        redis_server.stop()


def soak(args: argparse.Namespace, folder: Path) -> int:
    env = {"ROBOCORTEX_RETENTION_S": str(args.retention)}
    redis_server, run = start(args, folder, env)
    try:
        watcher = threading.Thread(target=watch_deaths, args=(run,), daemon=True)
        watcher.start()
        families = min(args.families, len(FAMILIES))
        before = resources(run, redis_server)
        started = time.time()
        warm_up = min(args.warm_up, args.tasks)
        run_tasks(run, warm_up, families, args.task_timeout)  # the first plans load the planners
        log(f"{warm_up} warm-up tasks done; waiting {args.retention + 5} s for the retention")
        time.sleep(args.retention + 5)
        warm = resources(run, redis_server)
        run_tasks(run, args.tasks - warm_up, families, args.task_timeout)
        elapsed = time.time() - started
        log(f"{len(run.submitted)} tasks done in {elapsed:.0f} s; waiting {args.retention + 5} s for the retention")
        time.sleep(args.retention + 5)
        after = resources(run, redis_server)
        run.stop.set()
        counts = outcomes(run)
        print()
        print(f"soak: {len(run.submitted)} tasks, {args.robots} robots, {elapsed:.0f} s, outcomes {dict(counts)}, "
              f"process deaths {len(run.deaths)}, retention {args.retention} s")
        width = max(len(k) for k in before)
        print(f"  {'':<{width}}  {'before':>10}  {'after ' + str(warm_up):>10}  {'after ' + str(args.tasks):>10}  "
              f"{'per task':>10}")
        for key in before:
            per = (after.get(key, 0) - warm.get(key, 0)) / max(1, args.tasks - warm_up)
            print(f"  {key:<{width}}  {before[key]:>10.1f}  {warm.get(key, 0):>10.1f}  {after.get(key, 0):>10.1f}  "
                  f"{per:>10.3f}")
        print("  (per task: growth from the warm-up to the end, divided by the tasks in between)")
        print(f"logs: {folder / 'logs'}")
        return 1 if run.deaths or counts.get("lost") or len(counts) == 0 else 0
    finally:
        run.stop.set()
        run.stack.stop()
        redis_server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("chaos")
    c.add_argument("--tasks", type=int, default=96)
    c.add_argument("--robots", type=int, default=4)
    c.add_argument("--families", type=int, default=4)
    c.add_argument("--worker-kills", type=int, default=20)
    c.add_argument("--brain-kills", type=int, default=10)
    c.add_argument("--redis-restarts", type=int, default=2)
    c.add_argument("--period", type=float, default=1.0, help="seconds between faults")
    c.add_argument("--task-timeout", type=float, default=600.0)
    s = sub.add_parser("soak")
    s.add_argument("--tasks", type=int, default=200)
    s.add_argument("--robots", type=int, default=8)
    s.add_argument("--families", type=int, default=6)
    s.add_argument("--retention", type=int, default=30, help="seconds a finished task's streams are kept")
    s.add_argument("--warm-up", type=int, default=20, help="tasks run before the 'after warm-up' figures")
    s.add_argument("--task-timeout", type=float, default=600.0)
    for p in (c, s):
        p.add_argument("--brain-workers", type=int, default=1,
                       help="tasks the brain plans at once (1: the search planner is not thread-safe yet)")
        p.add_argument("--keep", type=Path, default=None, help="keep logs and the AOF in this folder")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix=f"robocortex-{args.mode}-"))
    random.seed(12)
    try:
        return chaos(args, folder) if args.mode == "chaos" else soak(args, folder)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
