"""Real processes for the client tests: a whole team (world host, two robot workers, the brain) that runs
real tasks, and a lone brain service (tests/support/service.py) that a test may stop and start again."""

from __future__ import annotations

import os
import uuid

import pytest

from robocortex.agents.launcher import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    s = Stack(scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
              key_prefix=f"cl-{uuid.uuid4().hex[:8]}", log_dir=tmp_path_factory.mktemp("client-stack"))
    with s:
        yield s
