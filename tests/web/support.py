"""A brain service (`robocortex serve`) on loopback against the test's Redis, with no robots or world:
for the streams, whose content the test writes into memory itself."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from robocortex.agents.launcher import free_port


class Service:
    def __init__(self, redis_url: str, prefix: str, log: Path, port: int | None = None):
        self.redis_url, self.prefix, self.log = redis_url, prefix, log
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Service":
        env = {**os.environ, "ROBOCORTEX_REDIS_URL": self.redis_url, "ROBOCORTEX_KEY_PREFIX": self.prefix}
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "robocortex.agents.cli", "serve", "--port", str(self.port)],
                                         env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"service did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class SSE:
    """Reads events from an open SSE response, a few at a time, as (event, id, data)."""

    def __init__(self, resp: httpx.Response):
        self.lines = resp.iter_lines()

    def take(self, count: int) -> list[tuple[str, str | None, str]]:
        out: list[tuple[str, str | None, str]] = []
        kind, eid, data = "message", None, ""
        for line in self.lines:
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("id: "):
                eid = line[4:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and data:
                out.append((kind, eid, data))
                kind, eid, data = "message", None, ""
                if len(out) == count:
                    break
        return out

    def until(self, kind: str) -> tuple[str, str | None, str]:
        """The next event of this kind (others before it are skipped)."""
        while True:
            (event,) = self.take(1)
            if event[0] == kind:
                return event
