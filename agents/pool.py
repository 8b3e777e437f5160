"""Many robots in one process: N `RobotWorker`s on threads, each with its own identity (name, agent
index), inbox and heartbeat, sharing the process's Redis client pool, world client and code.

    run_pool(settings, count)                 # robot1..robotN on agents 0..N-1, until SIGTERM/SIGINT
    run_pool(settings, 32, first_agent_id=32) # robot33..robot64 on agents 32..63 (a second process)

Every worker takes subtasks from its own inbox stream as a process of its own would; one thread beats
for all of them (each robot's alive key, current subtask, leases and reservations, every TTL/3), so
a robot stuck in a long world action still counts as alive. SIGTERM or SIGINT stops every robot at
its next world action, and ends each blocked inbox read at once (`Dispatcher.wake`), not after it
times out; a subtask in progress stays unacked and resumes after its last finished step when the
robot starts again. One process per robot (`robocortex worker --name ...`) stays possible; robots of
pools and of single workers mix freely in one deployment.

`python -m robocortex.agents.pool --robots N [--first-agent-id K] [--profile P] [--prefix robot]`
runs a pool without the CLI (what the fleet benchmark starts).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from typing import Any

from robocortex.memory.stores import Memory
from robocortex.sim.world import World

from robocortex.agents.robot_worker import RobotWorker
from robocortex.agents.settings import Settings

log = logging.getLogger("robocortex.pool")


class Pool:
    """`count` robot workers in this process, started and stopped together."""

    def __init__(self, settings: Settings, count: int, *, profile: str = "mobile_manipulator",
                 first_agent_id: int = 0, prefix: str = "robot", world: World | None = None,
                 memory: Memory | None = None, worker_class: type[RobotWorker] = RobotWorker):
        from robocortex.cerebellum.profiles import resolve_profile

        if count < 1:
            raise ValueError(f"a pool needs at least 1 robot, got {count}")
        if first_agent_id < 0:
            raise ValueError(f"first agent id must be 0 or more, got {first_agent_id}")
        spec = resolve_profile(profile, settings.profiles)
        if world is None:
            from robocortex.sim.client import WorldClient

            world = WorldClient(settings.world_url, secret=settings.world_secret)
        self.settings = settings
        self.world = world
        self.memory = memory or Memory.from_settings(settings)
        self.workers = [
            worker_class(settings, spec.for_robot(f"{prefix}{agent_id + 1}", agent_id).model_copy(
                update={"profile_name": profile}), world, self.memory,
                         own_heartbeat=False)
            for agent_id in range(first_agent_id, first_agent_id + count)
        ]
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []
        self._errors: list[tuple[str, BaseException]] = []

    @property
    def names(self) -> list[str]:
        return [w.name for w in self.workers]

    def start(self) -> "Pool":
        for w in self.workers:
            t = threading.Thread(target=self._run, args=(w,), name=w.name, daemon=True)
            t.start()
            self._threads.append(t)
        beat = threading.Thread(target=self._heartbeat, name="pool-heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)
        return self

    def _run(self, w: RobotWorker) -> None:
        try:
            w.run()
        except BaseException as exc:  # a robot that dies is logged; its heartbeat then lapses, the others go on
            self._errors.append((w.name, exc))
            log.exception("%s stopped on an error", w.name)

    def _heartbeat(self) -> None:
        period = max(self.settings.heartbeat_ttl_s / 3, 0.2)
        while not self.stop_event.wait(period):
            for w in self.workers:
                if w.ready.is_set() and not w.stop_event.is_set():
                    w.beat_once()

    def ready(self, timeout_s: float | None = None) -> bool:
        """True once every robot is registered and takes subtasks (False if `timeout_s` passed first)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        for w in self.workers:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not w.ready.wait(left):
                return False
        return True

    def stop(self) -> None:
        """Every robot stops at its next world action; blocked inbox reads end now."""
        self.stop_event.set()
        for w in self.workers:
            w.stop()

    def join(self, timeout_s: float = 30.0) -> bool:
        """Wait for every robot to have left (deregistered); False if some are still running."""
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            while t.is_alive() and time.monotonic() < deadline:
                t.join(0.2)
                if t.is_alive():  # a read that began just after its wake-up: wake it again
                    for w in self.workers:
                        if w.name == t.name:
                            self.memory.dispatcher.wake(w.name)
        return not any(t.is_alive() for t in self._threads)

    def alive(self) -> int:
        return sum(1 for t in self._threads[:len(self.workers)] if t.is_alive())

    def close(self) -> None:
        self.memory.dispatcher.close()
        stop = getattr(self.world, "stop", None)
        if stop is not None:
            stop()


def _wait_for_world(pool: Pool, wait_s: float, agents_needed: int) -> None:
    """A world host that is still starting is waited for (up to `wait_s`); one with too few agents
    for this pool is a ValueError saying how many it has."""
    health = getattr(pool.world, "health", None)
    if health is None:
        return
    deadline, delay = time.monotonic() + wait_s, 0.2
    while True:
        try:
            count = health().get("agent_count")
            break
        except Exception as exc:  # noqa: BLE001 - not up yet
            if time.monotonic() >= deadline:
                raise ValueError(f"no world host answers at {getattr(pool.world, 'base_url', '?')} "
                                 f"after {wait_s:.0f} s ({type(exc).__name__})") from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
    if isinstance(count, int) and count < agents_needed:
        raise ValueError(f"the world host has {count} agent(s) (ids 0 to {count - 1}); this pool needs agents up to "
                         f"{agents_needed - 1}: start world-host with --agents {agents_needed} or more")


def run_pool(settings: Settings, count: int, *, profile: str = "mobile_manipulator", first_agent_id: int = 0,
             prefix: str = "robot", world: World | None = None, memory: Memory | None = None,
             worker_class: type[RobotWorker] = RobotWorker, install_signals: bool = True) -> int | None:
    """Run `count` robots in this process until SIGTERM or SIGINT (or until every robot has stopped).
    Returns the signal that stopped it (None otherwise): callers exit 128 + it (143 / 130).

    Robots are named `<prefix><agent id + 1>` on agents first_agent_id … first_agent_id + count − 1,
    as the launcher names single workers. Raises ValueError for a bad count, agent id or profile."""
    pool = Pool(settings, count, profile=profile, first_agent_id=first_agent_id, prefix=prefix, world=world,
                memory=memory, worker_class=worker_class)
    _wait_for_world(pool, settings.world_wait_s, first_agent_id + count)
    received: list[int] = []
    previous: dict[int, Any] = {}
    if install_signals and threading.current_thread() is threading.main_thread():
        def on_signal(signum: int, frame: Any) -> None:  # noqa: ARG001
            received.append(signum)
            pool.stop_event.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    pool.start()
    log.info("pool of %d robot(s) starting: %s … %s", count, pool.names[0], pool.names[-1])
    try:
        while not pool.stop_event.wait(0.5):  # a signal sets it and interrupts the wait at once
            if pool.alive() == 0:
                break
        pool.stop()
        if not pool.join(timeout_s=max(10.0, settings.heartbeat_ttl_s * 2)):
            log.warning("pool: %d robot(s) still busy in a world action at exit", pool.alive())
    finally:
        pool.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("pool stopped")
    return received[0] if received else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m robocortex.agents.pool", description=__doc__.split("\n\n")[0])
    parser.add_argument("--robots", type=int, required=True, help="robots in this process")
    parser.add_argument("--first-agent-id", type=int, default=0, help="agent index of the first robot")
    parser.add_argument("--profile", default="mobile_manipulator")
    parser.add_argument("--prefix", default="robot", help="robot names are <prefix><agent id + 1>")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings()
        logging.getLogger("robocortex").setLevel(settings.log_level)
        signum = run_pool(settings, args.robots, profile=args.profile, first_agent_id=args.first_agent_id,
                          prefix=args.prefix)
    except ValueError as exc:
        print(f"pool: {exc}", file=sys.stderr)
        return 2
    return 128 + signum if signum else 0


if __name__ == "__main__":
    sys.exit(main())
