"""One real brain service process (`robocortex serve`) on loopback per module, against the session's Redis."""

from __future__ import annotations

import uuid

import pytest

from tests.support.service import Service


@pytest.fixture(scope="module")
def service(redis_url, tmp_path_factory):
    # No robot and no wait for one: a submitted task fails at once, so its event stream ends.
    svc = Service(redis_url, f"api-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("api") / "serve.log",
                  env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "0"}).start()
    yield svc
    svc.stop()
