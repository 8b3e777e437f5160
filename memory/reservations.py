"""Object reservations: a robot claims the objects a subtask touches, all or nothing.

One key per object holding its owner, with a TTL so a dead robot's claims lapse on their own.
Acquire, release and extend are Lua scripts: check-then-set with no window for another owner.
"""

from __future__ import annotations

import redis

from ._lua import script
from .keys import Keys


class Reservations:
    def __init__(self, r: redis.Redis, keys: Keys):
        self.r = r
        self.keys = keys
        self._acquire = script(r, "reserve_acquire")
        self._release = script(r, "reserve_release")

    def _keys(self, object_ids: list[str]) -> list[str]:
        return [self.keys.reservation(o) for o in dict.fromkeys(object_ids)]

    def acquire(self, object_ids: list[str], owner: str, ttl_ms: int = 60_000) -> bool:
        """True if the owner now holds every object; False (and nothing taken) otherwise."""
        if not object_ids:
            return True
        return bool(self._acquire(keys=self._keys(object_ids), args=[owner, int(ttl_ms)]))

    def release(self, object_ids: list[str], owner: str) -> None:
        if object_ids:
            self._release(keys=self._keys(object_ids), args=[owner, ""])

    def extend(self, object_ids: list[str], owner: str, ttl_ms: int) -> bool:
        """Refresh the TTL of those objects the owner still holds; True if it holds them all."""
        if not object_ids:
            return True
        ids = self._keys(object_ids)
        return int(self._release(keys=ids, args=[owner, int(ttl_ms)])) == len(ids)

    def owner(self, object_id: str) -> str | None:
        return self.r.get(self.keys.reservation(object_id))
