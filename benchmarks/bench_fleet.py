"""`make bench BENCH=fleet`: one world host, one brain and 8 / 32 / 64 robots in pools (agents/pool.py),
all real processes on a loopback Redis, with independent tasks kept in flight.

The work: every openable object of the scene is a task family that alternates "open <id>" and
"close <id>", every toggleable one (not also openable) "turn on <id>" / "turn off <id>", one task at a
time per family, so no two tasks in flight touch one object (Kitchen-0: 28 families). Families in
flight per N: min(N, families).

Per N it prints: time from starting the pools to every robot online; RSS of the pool processes and the
marginal memory per robot beyond the first (two pools are started: one of 1 robot, one of N − 1, so
(RSS(N − 1 robots) − RSS(1 robot)) / (N − 2) is the cost of one more robot in a process; goal ≤ 10 MB);
idle CPU of the pools (robots online, no work) in % of one core; tasks/min, p50/p99 task latency
(created → finished, from the task records), failures; and the brain's share of the CPU time every
process of the run (Redis included) used during the load.

Above 64 robots (a world's most agents, sim.world.MAX_AGENTS) the size is split into fleets of up to
64 — a world host, its brain(s) and pools each, under its own key prefix, all on one Redis — so every
robot keeps a body of its own (`--robots 256`: 4 × 64). `--brains K` runs K brain replicas sharing each
task queue (tasks are submitted to them in turn).

    python -m benchmarks.bench_fleet [--robots 8 32 64] [--seconds 60] [--quick] [--brain-workers 16] [--brains 1]
    --quick: 8 robots, 20 s of load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from robocortex.agents.launcher import free_port
from robocortex.agents.settings import Settings
from robocortex.memory.connection import EmbeddedRedis
from robocortex.memory.stores import Memory

TERMINAL = {"succeeded", "failed", "cancelled"}
TICK = os.sysconf("SC_CLK_TCK")
# The world host as a process of its own (the CLI's world-host command, minus its agent-count option).
WORLD_HOST = """
import sys, uvicorn
from robocortex.agents.settings import Settings
from robocortex.agents.world_host import build_world_app
app = build_world_app(Settings(), sys.argv[1], int(sys.argv[2]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process (all its threads) and of its finished children (the
    brain's planner runs Fast Downward as subprocesses)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / TICK
    except (OSError, IndexError):
        return 0.0


class LoopbackRedis:
    """ROBOCORTEX_REDIS_URL when set; else the system redis-server on a loopback port; else embedded."""

    def __init__(self, folder: Path):
        self.proc: subprocess.Popen | None = None
        self.embedded: EmbeddedRedis | None = None
        self.url = os.environ.get("ROBOCORTEX_REDIS_URL") or ""
        if self.url:
            return
        binary = shutil.which("redis-server")
        if binary is None:
            self.embedded = EmbeddedRedis(folder / "redis")
            self.url = self.embedded.url
            return
        port = free_port()
        self.proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(folder), "--maxclients", "20000"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = f"redis://127.0.0.1:{port}/0"
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if redis.Redis(port=port).ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.embedded is not None:
            self.embedded.close()


@dataclass
class Fleet:
    """A world host, a brain and robots in pool processes, on one Redis (real processes throughout)."""

    robots: int
    pools: list[int]  # robots per pool process, in agent order
    scene: str = "Kitchen-0"
    brain_workers: int = 16
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path | None = None
    brains: int = 1  # brain replicas sharing the task queue
    redis_url: str | None = None  # a Redis to share with other fleets (else one of its own)

    def __post_init__(self) -> None:
        assert sum(self.pools) == self.robots
        self.procs: dict[str, subprocess.Popen] = {}
        self.prefix = f"fleet-{uuid.uuid4().hex[:6]}"
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.redis: LoopbackRedis | None = None  # its own Redis, when not given one
        self.world_url = self.api_url = ""
        self.api_urls: list[str] = []
        self.memory: Memory | None = None

    def _env(self) -> dict[str, str]:
        url = self.redis_url or (self.redis.url if self.redis is not None else "")
        assert url, "start_services first"
        return {**os.environ, "ROBOCORTEX_REDIS_URL": url, "ROBOCORTEX_KEY_PREFIX": self.prefix,
                "ROBOCORTEX_WORLD_URL": self.world_url, "ROBOCORTEX_LOG_LEVEL": "WARNING",
                "ROBOCORTEX_BRAIN_WORKERS": str(self.brain_workers), "ROBOCORTEX_WAIT_FOR_ROBOTS_S": "0",
                "PYTHONUNBUFFERED": "1", **self.env}

    def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        assert self.log_dir is not None
        with open(self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, *args], env={**self._env(), **(env or {})}, stdout=log,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[name] = proc
        return proc

    def tail(self, name: str, lines: int = 20) -> str:
        path = (self.log_dir or Path(".")) / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def _wait_http(self, name: str, url: str, timeout_s: float = 120) -> None:
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited ({self.procs[name].returncode}):\n{self.tail(name)}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} not ready at {url}:\n{self.tail(name)}")

    def start_services(self) -> None:
        """Redis, the world host (with `robots` agents) and the brain; no robots yet."""
        if self.log_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="robocortex-fleet-")
            self.log_dir = Path(self._tmp.name)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.redis = LoopbackRedis(self.log_dir) if self.redis_url is None else None
        url = self.redis_url or self.redis.url  # type: ignore[union-attr]
        world_port = free_port()
        self.world_url = f"http://127.0.0.1:{world_port}"
        self.spawn("world", "-c", WORLD_HOST, self.scene, str(self.robots), str(world_port))
        self._wait_http("world", self.world_url + "/health")
        for name in self.brain_names():
            port = free_port()
            self.api_urls.append(f"http://127.0.0.1:{port}")
            self.spawn(name, "-m", "robocortex.agents.cli", "serve", "--port", str(port),
                       env={"ROBOCORTEX_BRAIN_ID": f"{self.prefix}-{name}"})
        for name, api in zip(self.brain_names(), self.api_urls):
            self._wait_http(name, api + "/health")
        self.api_url = self.api_urls[0]
        self.memory = Memory.from_settings(Settings(redis_url=url, key_prefix=self.prefix))

    def brain_names(self) -> list[str]:
        return ["brain"] + [f"brain{i + 1}" for i in range(1, self.brains)]

    def pool_names(self) -> list[str]:
        return [f"pool{i}" for i in range(len(self.pools))]

    def start_pools(self) -> None:
        first = 0
        for name, count in zip(self.pool_names(), self.pools):
            self.spawn(name, "-m", "robocortex.agents.pool", "--robots", str(count), "--first-agent-id", str(first))
            first += count

    def online(self) -> int:
        assert self.memory is not None
        return sum(1 for r in self.memory.robots.list() if r.status.value != "offline")

    def wait_online(self, timeout_s: float = 300) -> float:
        started = time.monotonic()
        while self.online() < self.robots:
            for name in self.pool_names():
                if self.procs[name].poll() is not None:
                    raise RuntimeError(f"{name} exited ({self.procs[name].returncode}):\n{self.tail(name)}")
            if time.monotonic() - started > timeout_s:
                raise RuntimeError(f"{self.online()}/{self.robots} robots online after {timeout_s:.0f} s")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> None:
        order = [n for n in self.procs if n.startswith("pool")] + self.brain_names() + ["world"]
        for name in order:
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name in order:
            proc = self.procs.get(name)
            if proc is None:
                continue
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.memory is not None:
            self.memory.r.close()
        if self.redis is not None:
            self.redis.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> "Fleet":
        try:
            self.start_services()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- the work


def families(world_url: str) -> list[tuple[str, str]]:
    """(instruction, its undo) per object: open/close every openable, on/off every other toggleable;
    the first instruction of each changes the object's current state."""
    md = httpx.get(f"{world_url}/metadata/0", timeout=30).json()
    out = []
    for o in md["objects"]:
        oid = o["objectId"]
        if o.get("openable"):
            pair = (f"open {oid}", f"close {oid}")
            out.append(pair[::-1] if o.get("isOpen") else pair)
        elif o.get("toggleable"):
            pair = (f"turn on {oid}", f"turn off {oid}")
            out.append(pair[::-1] if o.get("isToggled") else pair)
    return out


@dataclass
class Load:
    submitted: list[tuple[Fleet, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def family_loop(fleet: Fleet, load: Load, pair: tuple[str, str], until: float, offset: int = 0) -> None:
    """One task at a time, alternating the pair; brain replicas take turns receiving them."""
    assert fleet.memory is not None
    i = 0
    with httpx.Client(timeout=30) as http:
        while time.time() < until:
            api = fleet.api_urls[(offset + i) % len(fleet.api_urls)]
            resp = http.post(f"{api}/tasks", json={"instruction": pair[i % 2]})
            resp.raise_for_status()
            task_id = resp.json()["id"]
            with load.lock:
                load.submitted.append((fleet, task_id))
            while True:
                record = fleet.memory.tasks.get(task_id)
                if record is not None and record.status.value in TERMINAL:
                    break
                time.sleep(0.05)
            i += 1


def warm_up(fleet: Fleet) -> None:
    """Before the clock runs: a task submitted to every brain replica at once, then its undo (the
    first plan of a brain loads the planner, seconds; the queue spreads these over the replicas)."""
    assert fleet.memory is not None
    pair = families(fleet.world_url)[0]

    def finish(ids: list[str]) -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not all(
                (r := fleet.memory.tasks.get(t)) is not None and r.status.value in TERMINAL for t in ids):  # type: ignore[union-attr]
            time.sleep(0.05)

    finish([httpx.post(f"{api}/tasks", json={"instruction": pair[0]}, timeout=30).json()["id"] for api in fleet.api_urls])
    finish([httpx.post(f"{fleet.api_url}/tasks", json={"instruction": pair[1]}, timeout=30).json()["id"]])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(n: int, seconds: float, brain_workers: int, brains: int = 1, idle_s: float = 5.0) -> dict[str, object]:
    """One size: n robots; above MAX_AGENTS, several fleets (a world host of up to 64 agents and its
    brain(s) each, own key prefix) on one Redis, so every robot still has a body of its own."""
    from robocortex.sim.world import MAX_AGENTS

    k = -(-n // MAX_AGENTS)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    shared = LoopbackRedis(Path(tempfile.mkdtemp(prefix="robocortex-fleet-redis-"))) if k > 1 else None
    fleets = [Fleet(robots=m, pools=([1, m - 1] if i == 0 and m > 2 else [m]), brain_workers=brain_workers,
                    brains=brains, redis_url=shared.url if shared else None) for i, m in enumerate(sizes)]
    try:
        for f in fleets:
            f.start_services()
        started = time.monotonic()
        for f in fleets:
            f.start_pools()
        for f in fleets:
            f.wait_online()
        online_s = time.monotonic() - started
        for f in fleets:  # each brain plans once before the clock runs (loading the planner takes seconds)
            warm_up(f)
        pool_pids = [f.procs[name].pid for f in fleets for name in f.pool_names()]
        first_pools = [fleets[0].procs[name].pid for name in fleets[0].pool_names()]
        time.sleep(1.0)  # the first heartbeat round after start-up
        idle_before = sum(cpu_s(p) for p in pool_pids)
        time.sleep(idle_s)
        idle_cpu = (sum(cpu_s(p) for p in pool_pids) - idle_before) / idle_s * 100
        rss_idle = [rss_mb(p) for p in first_pools]

        redis_pid = (shared or fleets[0].redis).pid  # type: ignore[union-attr]
        all_pids = [p.pid for f in fleets for p in f.procs.values()] + ([redis_pid] if redis_pid else [])
        brain_pids = [f.procs[name].pid for f in fleets for name in f.brain_names()]
        world_pids = [f.procs["world"].pid for f in fleets]
        cpu_before = {p: cpu_s(p) for p in all_pids}
        load = Load()
        t0 = time.time()
        threads = [threading.Thread(target=family_loop, args=(f, load, pair, t0 + seconds, j), daemon=True)
                   for f in fleets for j, pair in enumerate(families(f.world_url)[:f.robots])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.time() - t0
        cpu_used = {p: cpu_s(p) - cpu_before[p] for p in all_pids}
        records = [f.memory.tasks.get(t) for f, t in load.submitted]  # type: ignore[union-attr]
        done = [r for r in records if r is not None and r.status.value in TERMINAL]
        ok = [r for r in done if r.status.value == "succeeded"]
        latencies = [r.updated_at - r.created_at for r in done]
        failures = [r for r in done if r.status.value != "succeeded"]
        rss_loaded = [rss_mb(p) for p in pool_pids]
        total_cpu = sum(cpu_used.values()) or 1e-9
        brain_cpu = sum(cpu_used[p] for p in brain_pids)
        out: dict[str, object] = {
            "robots": n, "fleets": k, "brains": brains,
            "pools": " | ".join("+".join(map(str, f.pools)) for f in fleets), "online_s": online_s,
            "pool_rss_mb": sum(rss_loaded), "rss_per_robot_mb": sum(rss_loaded) / n,
            "idle_cpu_pct": idle_cpu, "families": len(threads), "tasks": len(done),
            "tasks_per_min": len(ok) / wall * 60, "p50_s": percentile(latencies, 0.5),
            "p99_s": percentile(latencies, 0.99), "failures": len(failures),
            "brain_cpu_share": brain_cpu / total_cpu, "brain_cpu_pct": brain_cpu / wall * 100,
            "world_cpu_pct": sum(cpu_used[p] for p in world_pids) / wall * 100,
            "pools_cpu_pct": sum(cpu_used[p] for p in pool_pids) / wall * 100,
            "reasons": sorted({(r.reason or "")[:120] for r in failures})[:3],
        }
        pools = fleets[0].pools
        if len(pools) == 2:
            rss_first = rss_loaded[:2]
            out["marginal_mb_idle"] = (rss_idle[1] - rss_idle[0]) / (pools[1] - 1)
            out["marginal_mb_loaded"] = (rss_first[1] - rss_first[0]) / (pools[1] - 1)
        return out
    finally:
        for f in fleets:
            f.stop()
        if shared is not None:
            shared.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--robots", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--seconds", type=float, default=60.0, help="load per fleet size")
    parser.add_argument("--brain-workers", type=int, default=16, help="tasks one brain runs at once")
    parser.add_argument("--brains", type=int, default=1, help="brain replicas sharing each task queue")
    parser.add_argument("--quick", action="store_true", help="8 robots, 20 s of load")
    args = parser.parse_args()
    sizes, seconds = ([8], 20.0) if args.quick else (args.robots, args.seconds)
    print(f"fleet: Kitchen-0, world host + {args.brains} brain(s) ({args.brain_workers} tasks at once each) + robots "
          f"in pools, {seconds:.0f} s of load per size, {os.cpu_count()} CPU(s), load average "
          f"{os.getloadavg()[0]:.1f} at the start", flush=True)
    for n in sizes:
        r = measure(n, seconds, args.brain_workers, args.brains)
        fleets = f", {r['fleets']} fleets of up to 64 (one world each)" if r["fleets"] != 1 else ""
        print(f"\n  N={r['robots']} robots (pools {r['pools']}{fleets}): all online in {r['online_s']:.1f} s",
              flush=True)
        marginal = ""
        if "marginal_mb_loaded" in r:
            m = float(r["marginal_mb_loaded"])  # type: ignore[arg-type]
            marginal = (f"; marginal per robot beyond the first {m:.2f} MB loaded, "
                        f"{float(r['marginal_mb_idle']):.2f} MB idle (goal <= 10 MB: {m / 10:.2f}x)")  # type: ignore[arg-type]
        print(f"    memory: pools {r['pool_rss_mb']:.0f} MB RSS = {r['rss_per_robot_mb']:.1f} MB per robot{marginal}")
        print(f"    idle CPU (pools, robots online, no work): {r['idle_cpu_pct']:.1f}% of one core")
        print(f"    load: {r['families']} task families in flight, {r['tasks']} tasks, "
              f"{r['tasks_per_min']:.0f} tasks/min, latency p50 {r['p50_s']:.2f} s, p99 {r['p99_s']:.2f} s, "
              f"failures {r['failures']}")
        print(f"    CPU during load (% of one core): brain(s) {r['brain_cpu_pct']:.0f}, world(s) "
              f"{r['world_cpu_pct']:.0f}, pools {r['pools_cpu_pct']:.0f}; brain share of all CPU "
              f"{100 * float(r['brain_cpu_share']):.0f}% (planner subprocesses included; load average now "
              f"{os.getloadavg()[0]:.1f})", flush=True)  # type: ignore[arg-type]
        for reason in r["reasons"]:  # type: ignore[union-attr]
            print(f"    failed: {reason}")


if __name__ == "__main__":
    main()
