"""Builds the memory-room objects every process needs from the settings, once."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from memory.connection import connect
from memory.dispatch import Dispatcher
from memory.keys import Keys
from memory.reservations import Reservations
from memory.robots import RobotRegistry
from memory.scene_graph import SceneGraphStore
from memory.tasks import TaskStore

from agents.settings import Settings


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
            r=r, keys=keys, scene=SceneGraphStore(r, keys), tasks=TaskStore(r, keys),
            robots=RobotRegistry(r, keys, heartbeat_ttl_s=settings.heartbeat_ttl_s),
            dispatcher=Dispatcher(r, keys, lease_ms=settings.lease_ms, max_deliveries=settings.max_deliveries),
            reservations=Reservations(r, keys),
        )
