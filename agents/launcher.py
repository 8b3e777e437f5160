"""Starts a complete RoboCortex on one machine as separate OS processes that meet only through
Redis (and the world host): the embedded Redis, the world host, one worker per robot, the brain.

Every process it starts is stopped when it leaves, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from robocortex.memory.connection import EmbeddedRedis


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RobotSpec:
    name: str
    profile: str


@dataclass
class Stack:
    scene: str = "Kitchen-0"
    robots: list[RobotSpec] = field(default_factory=lambda: [RobotSpec("robot1", "mobile_manipulator"),
                                                             RobotSpec("robot2", "mobile_manipulator")])
    redis_url: str | None = None
    key_prefix: str | None = None
    log_dir: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    ready_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self._redis: EmbeddedRedis | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.api_url = ""
        self.world_url = ""
        self.world_backend = ""

    # ------------------------------------------------------------------ processes

    def _env(self) -> dict[str, str]:
        env = {**os.environ, **self.extra_env, "ROBOCORTEX_REDIS_URL": self.redis_url or "",
               "ROBOCORTEX_WORLD_URL": self.world_url, "PYTHONUNBUFFERED": "1"}
        if self.key_prefix:
            env["ROBOCORTEX_KEY_PREFIX"] = self.key_prefix
        return env

    def spawn(self, name: str, *args: str) -> subprocess.Popen:
        assert self.log_dir is not None
        log = open(self.log_dir / f"{name}.log", "ab")
        # Own session: a terminal's Ctrl-C reaches only the launcher, which stops everyone in order.
        proc = subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", *args], env=self._env(),
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def _wait_http(self, name: str, url: str) -> dict:
        """The JSON answer of the process's health URL, once it answers 200."""
        deadline = time.time() + self.ready_timeout_s
        while time.time() < deadline:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with code {proc.returncode} while starting; see {self.log_dir}/{name}.log:\n"
                                   + self.tail(name))
            try:
                resp = httpx.get(url, timeout=1.0)
                if resp.status_code == 200:
                    return resp.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not become ready at {url} within {self.ready_timeout_s:.0f} s")

    def exited(self, grace_s: float = 0.0) -> dict[str, int]:
        """Started processes that are no longer running, with their exit codes. With `grace_s`,
        wait up to that long for one to finish exiting (a dying process closes its sockets a
        moment before it can be reaped)."""
        deadline = time.monotonic() + grace_s
        while True:
            gone = {name: proc.returncode for name, proc in self.procs.items() if proc.poll() is not None}
            if gone or time.monotonic() >= deadline:
                return gone
            time.sleep(0.05)

    def tail(self, name: str, lines: int = 20) -> str:
        path = (self.log_dir or Path(".")) / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def start(self) -> "Stack":
        if self.log_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="robocortex-")
            self.log_dir = Path(self._tmp.name)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if not self.redis_url:
            self._redis = EmbeddedRedis(self.log_dir / "redis")
            self.redis_url = self._redis.url
        world_port, api_port = free_port(), free_port()
        self.world_url = f"http://127.0.0.1:{world_port}"
        self.api_url = f"http://127.0.0.1:{api_port}"
        self.spawn("world", "world-host", "--scene", self.scene, "--agents", str(len(self.robots)),
                   "--port", str(world_port))
        self.world_backend = self._wait_http("world", self.world_url + "/health").get("backend", "unknown")
        for agent_id, robot in enumerate(self.robots):
            self.spawn(robot.name, "worker", "--name", robot.name, "--profile", robot.profile,
                       "--agent-id", str(agent_id))
        self.spawn("brain", "serve", "--port", str(api_port))
        self._wait_http("brain", self.api_url + "/health")
        self._wait_robots()
        return self

    def _wait_robots(self) -> None:
        deadline = time.time() + self.ready_timeout_s
        want = {r.name for r in self.robots}
        online: set[str] = set()
        while time.time() < deadline:
            for r in self.robots:
                if self.procs[r.name].poll() is not None:
                    raise RuntimeError(f"robot {r.name} exited while starting:\n{self.tail(r.name)}")
            try:
                online = {r["profile"]["name"] for r in httpx.get(self.api_url + "/robots", timeout=5).json()
                          if r["status"] != "offline"}
            except httpx.HTTPError:
                online = set()  # the brain is busy or restarting: ask again
            if want <= online:
                return
            time.sleep(0.1)
        missing = sorted(want - online)
        raise RuntimeError(f"robots did not come online within {self.ready_timeout_s:.0f} s: {missing}\n"
                           + "\n".join(f"{name}.log:\n{self.tail(name)}" for name in missing))

    def stop(self) -> None:
        """Stop in dependency order: the brain, then the robots, then the world, then Redis.

        A second Ctrl-C or SIGTERM while stopping is ignored, so stopping always completes.
        """
        previous = ({sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
                    if _main_thread() else {})
        try:
            self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop_all(self) -> None:
        robots = [n for n in self.procs if n not in ("brain", "world")]
        for group in (["brain"], robots, ["world"]):
            procs = [self.procs[n] for n in group if n in self.procs]
            for proc in procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            deadline = time.time() + 10
            for proc in procs:
                try:
                    proc.wait(max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self._redis is not None:
            self._redis.close()
            self._redis = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "Stack":
        if self.procs:  # already started
            return self
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same clean-up runs; the command then exits 143, not 130."""


def raise_on_sigterm() -> None:
    """Turn SIGTERM into `Terminated` (a KeyboardInterrupt) so `with Stack()` cleans up either way."""

    def handler(signum, frame):  # noqa: ARG001
        raise Terminated

    signal.signal(signal.SIGTERM, handler)


def exit_code(interrupt: BaseException) -> int:
    """The exit code of a command stopped by this interrupt: 143 for SIGTERM, 130 for Ctrl-C."""
    return 143 if isinstance(interrupt, Terminated) else 130
