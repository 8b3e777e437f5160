"""Robot registry: profiles that stay, liveness that expires.

Each robot has its own alive key with its own TTL, refreshed by its heartbeat; a robot whose key
expired is offline without anyone having to notice and clean up. Status is derived on read.

In the scene graph, a robot found offline (by the dispatcher's reaper) is marked `offline: true`, and
the object it held `unavailable` (the reason, a sentence) with the robot's `lost_holding` naming it:
nobody can use that object until the robot is back. `register` clears both marks, and the robot's
first observation then says again what it holds.
"""

from __future__ import annotations

import time

import redis

from .keys import Keys
from .scene_graph import SceneGraphStore
from .schemas import NodePatch, RobotProfile, RobotState, RobotStatus, SceneDelta


class RobotRegistry:
    def __init__(self, r: redis.Redis, keys: Keys, heartbeat_ttl_s: float = 5.0):
        self.r = r
        self.keys = keys
        self.ttl_ms = max(1, int(heartbeat_ttl_s * 1000))
        self._scene: SceneGraphStore | None = None

    @property
    def scene(self) -> SceneGraphStore:
        if self._scene is None:
            self._scene = SceneGraphStore(self.r, self.keys)
        return self._scene

    def register(self, profile: RobotProfile) -> None:
        """Store the profile and count the registration as a first heartbeat."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.robots, profile.name, profile.model_dump_json())
            self._beat(pipe, profile.name, None)
            pipe.execute()
        self.found(profile.name)

    def mark_lost(self, name: str) -> str | None:
        """Mark an offline robot in the scene graph, and what it held as unavailable; returns the
        held object's id. Idempotent; a robot without a scene node is left alone."""
        node = self.scene.node(name)
        if node is None or getattr(node, "offline", False):
            return getattr(node, "lost_holding", None) if node is not None else None
        held = getattr(node, "holding", None)
        patches = [NodePatch(id=name, set={"offline": True, "lost_holding": held})]
        if held and self.scene.node(held) is not None:
            patches.append(NodePatch(id=held, set={"unavailable": f"held by {name}, which is offline"}))
        self.scene.apply(SceneDelta(patches=patches, source=f"robots:{name} offline"))
        return held

    def found(self, name: str) -> None:
        """A robot (re)registered or beating again: lift the marks `mark_lost` left."""
        node = self.scene.node(name)
        if node is None or not getattr(node, "offline", False):
            return
        patches = [NodePatch(id=name, set={"offline": False, "lost_holding": None})]
        held = getattr(node, "lost_holding", None)
        if held and self.scene.node(held) is not None:
            patches.append(NodePatch(id=held, set={"unavailable": None}))
        self.scene.apply(SceneDelta(patches=patches, source=f"robots:{name} back"))

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
