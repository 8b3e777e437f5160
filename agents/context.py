"""Builds the memory-room objects every process needs from the settings, once."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from robocortex.memory.connection import connect
from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.keys import Keys
from robocortex.memory.reservations import Reservations
from robocortex.memory.robots import RobotRegistry
from robocortex.memory.scene_graph import SceneGraphStore
from robocortex.memory.tasks import TaskStore

from robocortex.agents.settings import Settings


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
    def from_settings(cls, settings: Settings) -> "Memory":
        r = connect(settings.redis_url)
        keys = Keys(settings.key_prefix)
        return cls(
            r=r, keys=keys, scene=SceneGraphStore(r, keys), tasks=TaskStore(r, keys, retention_s=settings.retention_s),
            robots=RobotRegistry(r, keys, heartbeat_ttl_s=settings.heartbeat_ttl_s),
            dispatcher=Dispatcher(r, keys, lease_ms=settings.lease_ms, max_deliveries=settings.max_deliveries,
                                  retention_s=settings.retention_s),
            reservations=Reservations(r, keys),
        )
