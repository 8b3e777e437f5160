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

FLOOR = "floor"


class RobotAdminError(ValueError):
    """An administration request that cannot be done; the message says why and what to do instead."""


class UnknownRobot(RobotAdminError, LookupError):
    """No robot registered under that name."""


class RobotBusy(RobotAdminError):
    """The robot's state forbids it now (online, or not holding that object)."""


class BadPlacement(RobotAdminError):
    """Where the held object is said to be is not a receptacle of the scene graph (nor the floor)."""


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

    # ------------------------------------------------------------------ administration

    def in_use(self, name: str, agent_id: int) -> str | None:
        """Why a new worker may not take this name or agent id (a live robot has it, or the name is
        decommissioned), or None."""
        if self.r.hexists(self.keys.robots_decommissioned, name):
            return (f"robot {name!r} is decommissioned; remove it first (`robocortex robots remove {name}`) "
                    "or pick another name")
        for state in self.list():
            if state.status == RobotStatus.offline:
                continue
            if state.profile.name == name:
                return (f"robot name {name!r} is in use by a live worker (heartbeat {time.time() - (state.last_seen or 0):.1f} s "
                        "ago); pick another --name, or stop that worker first")
            if state.profile.agent_id == agent_id:
                return (f"agent id {agent_id} is in use by live robot {state.profile.name!r}; pick another --agent-id, "
                        "or stop that worker first")
        return None

    def taken(self, name: str, agent_id: int) -> str | None:
        """`in_use`, once the heartbeat TTL has had time to pass: a worker killed a moment ago leaves
        a live heartbeat for up to that long, and its restart gets the name back once it expires; a
        running worker keeps refreshing its heartbeat, so its name stays taken."""
        deadline = time.monotonic() + self.ttl_ms / 1000 + 0.5
        while True:
            reason = self.in_use(name, agent_id)
            if reason is None and self.r.exists(self.keys.robot_claim(name)):  # a worker is starting under it
                reason = f"robot name {name!r} was claimed by another worker that is starting; pick another --name"
            if reason is None or self.r.hexists(self.keys.robots_decommissioned, name) or time.monotonic() > deadline:
                return reason
            time.sleep(0.1)

    def claim(self, name: str) -> bool:
        """Take the name for a starting worker, atomically (SET NX, for the heartbeat TTL): of two
        workers started under one name at the same moment, both may pass `taken`; one gets the claim,
        and `taken` waits out a claim whose worker never registers."""
        return bool(self.r.set(self.keys.robot_claim(name), repr(time.time()), px=self.ttl_ms, nx=True))

    def release_claim(self, name: str) -> None:
        self.r.delete(self.keys.robot_claim(name))

    def decommission(self, name: str) -> RobotState:
        """Take a robot out of service: from now on it is listed offline (so no plan uses it) whatever its
        worker does, and no worker may register under its name until it is removed."""
        if not self.r.hexists(self.keys.robots, name):
            raise UnknownRobot(f"no robot {name!r}; GET /robots lists them")
        self.r.hsetnx(self.keys.robots_decommissioned, name, repr(time.time()))
        self.deregister(name)
        state = self.get(name)
        assert state is not None
        return state

    def remove(self, name: str) -> None:
        """Remove a robot that is offline (or decommissioned): its profile, marks and scene-graph node."""
        state = self.get(name)
        if state is None:
            raise UnknownRobot(f"no robot {name!r}; GET /robots lists them")
        if state.decommissioned_at is None and state.status != RobotStatus.offline:
            raise RobotBusy(f"robot {name!r} is {state.status.value}: stop its worker (or decommission it) "
                            "before removing it")
        node = self.scene.node(name)
        held = getattr(node, "lost_holding", None) or getattr(node, "holding", None) if node is not None else None
        if held:
            raise RobotBusy(f"robot {name!r} held {held!r} when it was lost; say where that object is first "
                            f"(POST /robots/{name}/held) so nobody plans with it in a hand that is gone")
        self.forget(name)
        self.r.hdel(self.keys.robots_decommissioned, name)
        if node is not None:
            self.scene.apply(SceneDelta(patches=[NodePatch(id=name, remove=True)], source=f"robots:{name} removed"))

    def place_held(self, name: str, object_id: str, at: str, rel: str = "in") -> int:
        """An operator says where the object an offline robot held ended up: `at` a receptacle node's id
        (with `rel` in/on) or `floor`. The object is usable again; returns the scene revision."""
        if not self.r.hexists(self.keys.robots, name):
            raise UnknownRobot(f"no robot {name!r}; GET /robots lists them")
        if self.is_alive(name) and not self.r.hexists(self.keys.robots_decommissioned, name):
            raise RobotBusy(f"robot {name!r} is online: its own observations say what it holds")
        robot = self.scene.node(name)
        held = (getattr(robot, "lost_holding", None) or getattr(robot, "holding", None)) if robot is not None else None
        if held != object_id:
            what = f"it held {held!r}" if held else "it held nothing"
            raise RobotBusy(f"robot {name!r} did not hold {object_id!r} ({what})")
        obj = self.scene.node(object_id)
        if obj is None:
            raise BadPlacement(f"no object {object_id!r} in the scene graph")
        if at == FLOOR:
            relations: list[dict[str, str]] = []
            position = robot.position if robot is not None else obj.position
        else:
            target = self.scene.node(at)
            if target is None or not getattr(target, "receptacle", False):
                raise BadPlacement(f"{at!r} is not a receptacle of the scene graph; give a receptacle's id "
                                   f"(GET /scene lists them) or {FLOOR!r}")
            relations, position = [{"rel": rel, "target": at}], target.position
        patches = [
            NodePatch(id=object_id, set={"unavailable": None, "isPickedUp": False, "relations": relations,
                                         "position": position.model_dump() if position is not None else None}),
            NodePatch(id=name, set={"holding": None, "lost_holding": None, "relations": []}),
        ]
        return self.scene.apply(SceneDelta(patches=patches, source=f"operator: {object_id} held by {name} is at {at}"))

    def is_alive(self, name: str) -> bool:
        return bool(self.r.exists(self.keys.robot_alive(name)))

    def get(self, name: str) -> RobotState | None:
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hget(self.keys.robots, name)
            pipe.exists(self.keys.robot_alive(name))
            pipe.get(self.keys.robot_work(name))
            pipe.hget(self.keys.robots_seen, name)
            pipe.hget(self.keys.robots_decommissioned, name)
            doc, alive, work, seen, retired = pipe.execute()
        return _state(doc, bool(alive), work, seen, retired) if doc is not None else None

    def list(self) -> list[RobotState]:
        """All registered robots, sorted by name."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.keys.robots)
            pipe.hgetall(self.keys.robots_seen)
            pipe.hgetall(self.keys.robots_decommissioned)
            profiles, seen, retired = pipe.execute()
        names = sorted(profiles)
        if not names:
            return []
        with self.r.pipeline(transaction=True) as pipe:
            for name in names:
                pipe.exists(self.keys.robot_alive(name))
                pipe.get(self.keys.robot_work(name))
            flat = pipe.execute()
        return [
            _state(profiles[n], bool(flat[2 * i]), flat[2 * i + 1], seen.get(n), retired.get(n))
            for i, n in enumerate(names)
        ]


def _state(doc: str, alive: bool, work: str | None, seen: str | None, retired: str | None = None) -> RobotState:
    if not alive or retired is not None:
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
        decommissioned_at=float(retired) if retired is not None else None,
    )
