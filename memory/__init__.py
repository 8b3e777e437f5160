"""memory room: everything stored in or passing through Redis (see docs/memory.md)."""

from .connection import EmbeddedRedis, connect, default_url
from .dispatch import Delivery, Dispatcher
from .keys import BRAIN_GROUP, ROBOT_GROUP, Keys
from .reservations import Reservations
from .robots import RobotRegistry
from .scene_graph import SceneGraphStore, StaleRevision, contents, nearest, replay, to_networkx
from .tasks import InvalidTransition, TaskNotFound, TaskStore

__all__ = [
    "BRAIN_GROUP",
    "ROBOT_GROUP",
    "Delivery",
    "Dispatcher",
    "EmbeddedRedis",
    "InvalidTransition",
    "Keys",
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
