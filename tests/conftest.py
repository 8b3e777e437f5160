"""Shared fixtures: one real Redis per test session, and a unique key prefix per test.

The server is the one at ROBOCORTEX_REDIS_URL when that is set (CI runs the suite both ways),
otherwise an embedded redis-server. Tests never FLUSH: each test's keys live under its own
prefix and are deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from robocortex.memory.connection import ENV_URL, EmbeddedRedis, connect
from robocortex.memory.keys import Keys


@pytest.fixture(scope="session", autouse=True)
def private_well_known_socket(tmp_path_factory) -> Iterator[None]:
    """Processes a test starts without a Redis URL join the machine's shared embedded Redis at its
    well-known socket: in tests that is a folder of this session's own, never the user's."""
    if "ROBOCORTEX_REDIS_SOCKET" in os.environ:
        yield
        return
    os.environ["ROBOCORTEX_REDIS_SOCKET"] = str(tmp_path_factory.mktemp("shared-redis") / "redis.socket")
    yield
    os.environ.pop("ROBOCORTEX_REDIS_SOCKET", None)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get(ENV_URL)
    if url:
        yield url
        return
    with EmbeddedRedis() as server:
        yield server.url


@pytest.fixture
def keys() -> Keys:
    return Keys(prefix=f"test:{uuid.uuid4().hex[:12]}")


@pytest.fixture
def r(redis_url: str, keys: Keys) -> Iterator[redis.Redis]:
    client = connect(redis_url)
    yield client
    stale = list(client.scan_iter(match=f"{keys.prefix}:*", count=1000))
    for i in range(0, len(stale), 500):
        client.delete(*stale[i : i + 500])
    client.close()
