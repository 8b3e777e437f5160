"""Robot registry: profiles that stay, liveness that expires.

Each robot has its own alive key with its own TTL, refreshed by its heartbeat; a robot whose key
expired is offline without anyone having to notice and clean up. Status is derived on read.
"""

from __future__ import annotations

import time

import redis

from .keys import Keys
from .schemas import RobotProfile, RobotState, RobotStatus


class RobotRegistry:
    def __init__(self, r: redis.Redis, keys: Keys, heartbeat_ttl_s: float = 5.0):
        self.r = r
        self.keys = keys
        self.ttl_ms = max(1, int(heartbeat_ttl_s * 1000))

    def register(self, profile: RobotProfile) -> None:
        """Store the profile and count the registration as a first heartbeat."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.robots, profile.name, profile.model_dump_json())
            self._beat(pipe, profile.name, None)
            pipe.execute()

    def heartbeat(self, name: str, current_subtask: str | None = None, profile: RobotProfile | None = None) -> None:
        """Renew the robot's alive key; with `profile`, store it again too (so a Redis that came
        back empty lists the robot again at its next beat)."""
        with self.r.pipeline(transaction=True) as pipe:
            if profile is not None:
                pipe.hset(self.keys.robots, profile.name, profile.model_dump_json())
            self._beat(pipe, name, current_subtask)
            pipe.execute()

    def _beat(self, pipe: redis.client.Pipeline, name: str, current_subtask: str | None) -> None:
        now = repr(time.time())
        pipe.set(self.keys.robot_alive(name), now, px=self.ttl_ms)
        pipe.hset(self.keys.robots_seen, name, now)
        if current_subtask:
            pipe.set(self.keys.robot_work(name), current_subtask, px=self.ttl_ms)
        else:
            pipe.delete(self.keys.robot_work(name))

    def deregister(self, name: str) -> None:
        """Offline now (the profile is kept, so the robot is still listed)."""
        self.r.delete(self.keys.robot_alive(name), self.keys.robot_work(name))

    def forget(self, name: str) -> None:
        """Remove the robot entirely, profile included."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hdel(self.keys.robots, name)
            pipe.hdel(self.keys.robots_seen, name)
            pipe.delete(self.keys.robot_alive(name), self.keys.robot_work(name))
            pipe.execute()

    def is_alive(self, name: str) -> bool:
        return bool(self.r.exists(self.keys.robot_alive(name)))

    def get(self, name: str) -> RobotState | None:
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hget(self.keys.robots, name)
            pipe.exists(self.keys.robot_alive(name))
            pipe.get(self.keys.robot_work(name))
            pipe.hget(self.keys.robots_seen, name)
            doc, alive, work, seen = pipe.execute()
        return _state(doc, bool(alive), work, seen) if doc is not None else None

    def list(self) -> list[RobotState]:
        """All registered robots, sorted by name."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.keys.robots)
            pipe.hgetall(self.keys.robots_seen)
            profiles, seen = pipe.execute()
        names = sorted(profiles)
        if not names:
            return []
        with self.r.pipeline(transaction=True) as pipe:
            for name in names:
                pipe.exists(self.keys.robot_alive(name))
                pipe.get(self.keys.robot_work(name))
            flat = pipe.execute()
        return [
            _state(profiles[n], bool(flat[2 * i]), flat[2 * i + 1], seen.get(n)) for i, n in enumerate(names)
        ]


def _state(doc: str, alive: bool, work: str | None, seen: str | None) -> RobotState:
    if not alive:
        status = RobotStatus.offline
        work = None
    elif work:
        status = RobotStatus.busy
    else:
        status = RobotStatus.idle
    return RobotState(
        profile=RobotProfile.model_validate_json(doc),
        status=status,
        current_subtask=work,
        last_seen=float(seen) if seen is not None else None,
    )
