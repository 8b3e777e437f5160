"""The memory-room objects every process needs, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import redis

from robocortex.memory.connection import connect
from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.keys import Keys
from robocortex.memory.reservations import Reservations
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.tasks import TaskStore


class StoreSettings(Protocol):
    """What the stores read from the process settings (agents' Settings has these fields)."""

    redis_url: str | None
    key_prefix: str
    retention_s: float
    heartbeat_ttl_s: float
    lease_ms: int
    max_deliveries: int


@dataclass
class Memory:
    r: redis.Redis
    keys: Keys
    scene: SceneGraphStore
    tasks: TaskStore
    robots: RobotRegistry
    dispatcher: Dispatcher
    reservations: Reservations

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> "Memory":
        r = connect(settings.redis_url)
        keys = Keys(settings.key_prefix)
        return cls(
            r=r, keys=keys, scene=SceneGraphStore(r, keys), tasks=TaskStore(r, keys, retention_s=settings.retention_s),
            robots=RobotRegistry(r, keys, heartbeat_ttl_s=settings.heartbeat_ttl_s),
            dispatcher=Dispatcher(r, keys, lease_ms=settings.lease_ms, max_deliveries=settings.max_deliveries,
                                  retention_s=settings.retention_s),
            reservations=Reservations(r, keys),
        )
