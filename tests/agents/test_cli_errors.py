"""Every CLI error is one line on stderr and a documented exit code (2: bad input, 3: something it
needs is unreachable or taken), never a traceback — each case run as a real subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from robocortex.agents.launcher import free_port
from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys
from robocortex.memory.robots import RobotRegistry

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No Redis URL: the processes meet on a well-known socket private to this test."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCORTEX_")}
    return {**base, "ROBOCORTEX_REDIS_SOCKET": str(tmp_path / "meet" / "redis.socket"), "PYTHONUNBUFFERED": "1"}


def cli(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robocortex.agents.cli", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr[-3000:], proc.stdout[-3000:])
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr + proc.stdout
    assert proc.stderr.count("\n") == 1 and ": error: " in proc.stderr, proc.stderr
    assert fragment in proc.stderr, proc.stderr


def test_thor_backend_without_a_unity_build(env):
    env = {**env, "ROBOCORTEX_THOR_EXECUTABLE": "/nonexistent/thor-build"}
    proc = cli(env, "world-host", "--backend", "thor", "--port", str(free_port()), "--no-seed-memory")
    one_line_error(proc, 3, "cannot start the thor world")


def test_a_worker_waits_for_a_world_host_that_is_down_then_gives_up_in_one_line(env):
    env = {**env, "ROBOCORTEX_WORLD_WAIT_S": "2"}
    proc = cli(env, "worker", "--name", "w1", "--world-url", f"http://127.0.0.1:{free_port()}")
    one_line_error(proc, 3, "the world host at http://127.0.0.1:")
    assert "waiting for the world host" in proc.stdout, "it says it waits, before it gives up"


@pytest.fixture
def world_host(env):
    """A real 2-agent world host on the test's well-known socket."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", "world-host", "--agents", "2",
                             "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def test_an_agent_id_the_world_does_not_have_is_refused_and_leaves_no_robot(env, world_host):
    proc = cli(env, "worker", "--name", "ghost", "--agent-id", "5", "--world-url", world_host)
    one_line_error(proc, 2, "--agent-id 5: the world at")
    assert "has 2 agent(s)" in proc.stderr
    registry = RobotRegistry(connect(f"unix://{env['ROBOCORTEX_REDIS_SOCKET']}"), Keys("rc"))
    assert registry.get("ghost") is None, "no stale robot registered"


def test_a_pool_larger_than_the_world_is_refused(env, world_host):
    proc = cli(env, "worker", "--robots", "3", "--world-url", world_host)
    one_line_error(proc, 2, "--agent-id 2: the world at")
    registry = RobotRegistry(connect(f"unix://{env['ROBOCORTEX_REDIS_SOCKET']}"), Keys("rc"))
    assert registry.list() == [], "no robot of the pool registered"


def test_serve_with_redis_unreachable(env):
    env = {**env, "ROBOCORTEX_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "ROBOCORTEX_REDIS_WAIT_S": "1"}
    proc = cli(env, "serve", "--port", str(free_port()))
    one_line_error(proc, 3, "Redis at redis://127.0.0.1:")


def test_serve_on_a_busy_port_fails_before_saying_ready(env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = cli(env, "serve", "--port", str(busy.getsockname()[1]))
    one_line_error(proc, 3, "Address already in use")
    assert "ready" not in proc.stdout and "listening" not in proc.stdout


@pytest.mark.parametrize("command", ["run", "demo"])
def test_an_empty_instruction_is_refused_before_anything_starts(env, command):
    proc = cli(env, command, "  ")
    one_line_error(proc, 2, "the instruction is empty")
    assert "processes up" not in proc.stdout and not os.path.exists(env["ROBOCORTEX_REDIS_SOCKET"])


def test_a_bad_log_level_names_its_variable(env):
    proc = cli({**env, "ROBOCORTEX_LOG_LEVEL": "LOUD"}, "serve", "--port", str(free_port()))
    one_line_error(proc, 2, "log_level (ROBOCORTEX_LOG_LEVEL)")
