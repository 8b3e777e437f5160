"""Mutable world state of the emulator: objects and agents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from robocortex.sim.geometry import AGENT_Y, CROUCHING_CAMERA_OFFSET, STANDING_CAMERA_OFFSET, Box
from robocortex.knowledge.object_types import ObjectType


@dataclass(slots=True, eq=False)
class SimObject:
    object_id: str
    object_type: str
    name: str
    kind: ObjectType
    position: tuple[float, float, float]
    size: tuple[float, float, float]
    rotation_y: float
    mass: float
    asset_id: str
    parent_id: str | None = None
    children: list[str] = field(default_factory=list)
    controlled_ids: list[str] | None = None
    # AI2-THOR state flags
    is_open: bool = False
    openness: float = 0.0
    is_toggled: bool = False
    is_sliced: bool = False
    is_cooked: bool = False
    is_dirty: bool = False
    is_broken: bool = False
    is_filled: bool = False
    fill_liquid: str | None = None
    is_used_up: bool = False
    held_by: int | None = None  # agent id holding it
    temperature: str = "RoomTemp"
    active: bool = True  # False once sliced into pieces: it stays in metadata, inert
    box: Box = field(init=False)
    radius: float = field(init=False)  # bounding-sphere radius, for fast visibility rejection
    record: dict[str, Any] | None = field(default=None, init=False)  # cached metadata record

    def __post_init__(self) -> None:
        self.box = Box.around(self.position, self.size)
        sx, sy, sz = self.size
        self.radius = 0.5 * (sx * sx + sy * sy + sz * sz) ** 0.5

    def moved_to(self, position: tuple[float, float, float]) -> None:
        self.position = position
        self.box = Box.around(position, self.size)
        self.record = None

    def changed(self) -> None:
        """Drop the cached metadata record after any state change."""
        self.record = None


@dataclass(slots=True)
class AgentState:
    agent_id: int
    x: float
    z: float
    yaw: float
    horizon: float = 0.0
    standing: bool = True
    y: float = AGENT_Y
    held_id: str | None = None
    last_action: str = "Initialize"
    last_success: bool = True
    error_message: str = ""
    action_return: Any = None

    @property
    def camera_y(self) -> float:
        return self.y + (STANDING_CAMERA_OFFSET if self.standing else CROUCHING_CAMERA_OFFSET)
