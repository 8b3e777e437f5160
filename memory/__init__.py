"""memory room: everything stored in or passing through Redis (see docs/memory.md)."""

from typing import TYPE_CHECKING, Any

from .connection import EmbeddedRedis, connect, default_url
from .dispatch import Delivery, Dispatcher
from .keys import BRAIN_GROUP, ROBOT_GROUP, Keys
from .reservations import Reservations
from .robots import RobotRegistry
from .scene_graph import SceneGraphStore, StaleRevision, contents, nearest, replay, to_networkx
from .tasks import InvalidTransition, TaskNotFound, TaskStore

if TYPE_CHECKING:
    from .checkpoint import RedisCheckpointSaver


def __getattr__(name: str) -> Any:
    # The checkpointer pulls in langgraph; load it only for those who ask for it.
    if name == "RedisCheckpointSaver":
        from .checkpoint import RedisCheckpointSaver

        return RedisCheckpointSaver
    raise AttributeError(f"module 'memory' has no attribute {name!r}")


__all__ = [
    "BRAIN_GROUP",
    "ROBOT_GROUP",
    "Delivery",
    "Dispatcher",
    "EmbeddedRedis",
    "InvalidTransition",
    "Keys",
    "RedisCheckpointSaver",
    "Reservations",
    "RobotRegistry",
    "SceneGraphStore",
    "StaleRevision",
    "TaskNotFound",
    "TaskStore",
    "connect",
    "contents",
    "default_url",
    "nearest",
    "replay",
    "to_networkx",
]
