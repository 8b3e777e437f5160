"""A brain service (`robocortex serve`) as a real process on loopback against the test's Redis, with no
robots or world: started, waited for until /health answers, stopped (killed if it will not stop)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from robocortex.agents.launcher import free_port


class Service:
    def __init__(self, redis_url: str, prefix: str, log: Path, port: int | None = None,
                 env: dict[str, str] | None = None):
        self.redis_url, self.prefix, self.log = redis_url, prefix, log
        self.extra_env = dict(env or {})
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Service":
        env = {**os.environ, "ROBOCORTEX_REDIS_URL": self.redis_url, "ROBOCORTEX_KEY_PREFIX": self.prefix,
               **self.extra_env}
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
