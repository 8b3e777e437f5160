"""The README's "Several terminals" recipe, as written: its commands started together as real
processes with no Redis URL (only free ports and a temporary well-known socket), a task submitted
over HTTP succeeds; the processes met on one embedded Redis, each said which at start, and the last
one to stop removed it."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from robocortex.agents.launcher import free_port

pytestmark = pytest.mark.e2e
README = Path(__file__).resolve().parents[2] / "README.md"


def recipe() -> tuple[list[list[str]], str]:
    """The commands of the section's first code block, and the instruction its curl line submits."""
    section = README.read_text().split("### Several terminals / several machines", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.startswith("robocortex ")]
    instruction = re.search(r'"instruction": "([^"]+)"', block).group(1)
    return commands, instruction


def test_the_several_terminals_recipe_as_written(tmp_path):
    commands, instruction = recipe()
    assert [c[1] for c in commands] == ["world-host", "serve", "worker", "worker"]
    world_port, api_port = free_port(), free_port()
    socket_path = tmp_path / "run" / "redis.socket"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ROBOCORTEX_")},
           "ROBOCORTEX_REDIS_SOCKET": str(socket_path), "ROBOCORTEX_WORLD_URL": f"http://127.0.0.1:{world_port}",
           "ROBOCORTEX_PORT": str(api_port), "ROBOCORTEX_LOG_FORMAT": "json", "PYTHONUNBUFFERED": "1"}
    procs: dict[str, subprocess.Popen] = {}
    try:
        for command in commands:  # all at once, in the README's order: whoever is first starts Redis
            args = command[1:] + (["--port", str(world_port)] if command[1] == "world-host" else [])
            name = command[command.index("--name") + 1] if "--name" in command else command[1]
            procs[name] = subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", *args], env=env,
                                           stdout=open(tmp_path / f"{name}.log", "w"), stderr=subprocess.STDOUT)
        api = f"http://127.0.0.1:{api_port}"
        wait_until(lambda: len([r for r in httpx.get(f"{api}/robots", timeout=2).json()
                                if r["status"] != "offline"]) == 2, procs, tmp_path)
        task = httpx.post(f"{api}/tasks", json={"instruction": instruction}, timeout=10).json()
        record = {}

        def finished() -> bool:
            record.update(httpx.get(f"{api}/tasks/{task['id']}", timeout=5).json())
            return record["status"] in ("succeeded", "failed", "cancelled")

        wait_until(finished, procs, tmp_path, timeout_s=180)
        assert record["status"] == "succeeded", record.get("reason")
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {name: proc.wait(30) for name, proc in procs.items()}
    assert set(codes.values()) == {143}, codes
    logs = {name: [json.loads(line) for line in (tmp_path / f"{name}.log").read_text().splitlines()] for name in procs}
    origins = [next(r["message"] for r in lines if "uses Redis" in r["message"]) for lines in logs.values()]
    assert all(f"unix://{socket_path}" in o for o in origins), origins
    assert sum("started here" in o for o in origins) == 1 and sum("joined" in o for o in origins) == 3, origins
    # a subtask's start ("robot2: starting <task>:s1:1: ..."), not a start-up line such as a worker
    # "starting anyway" when a loaded world host is slow to answer its health check
    worked = [r for name in ("robot1", "robot2") for r in logs[name]
              if re.match(rf"{name}: starting \S+:s\d+:\d+: ", r["message"])]
    assert worked and all(r["task_id"] == task["id"] and r["robot"] in ("robot1", "robot2") for r in worked)
    assert not socket_path.exists() and not socket_path.parent.exists(), "the last one out removed the Redis"


def wait_until(condition, procs, tmp_path, timeout_s: float = 90) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        gone = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
        assert not gone, (gone, {n: (tmp_path / f"{n}.log").read_text()[-1500:] for n in gone})
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("timed out: " + str({n: (tmp_path / f"{n}.log").read_text()[-800:] for n in procs}))
