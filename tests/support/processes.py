"""Helpers for tests that drive real processes: a Kitchen-0 team on the test's Redis, pausing a process,
and waiting for a condition."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from robocortex.agents.launcher import Stack


@contextmanager
def team(prefix: str, log_dir: Path) -> Iterator[Stack]:
    """World host, two robot workers and the brain on Kitchen-0, as separate processes on the test's
    Redis (ROBOCORTEX_REDIS_URL, else a private embedded one) under a key prefix of their own."""
    with Stack(scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
               key_prefix=f"{prefix}-{uuid.uuid4().hex[:8]}", log_dir=log_dir) as stack:
        yield stack


@contextmanager
def frozen(proc: subprocess.Popen) -> Iterator[None]:
    """The process paused (SIGSTOP) for the block, then let go (SIGCONT)."""
    proc.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGCONT)


def until(condition: Callable[[], object], timeout_s: float = 60, what: str = "condition") -> None:
    deadline = time.time() + timeout_s
    while not condition():
        if time.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_s} s")
        time.sleep(0.1)
