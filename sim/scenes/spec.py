"""Scene description: what a world is built from, independent of how it was produced.

A `SceneSpec` is produced by the procedural generator, by the ALFRED floor-plan importer or from a
recorded AI2-THOR metadata dump, and consumed by the emulator. It is plain data so that it can be
generated once, cached and copied cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Vec3 = tuple[float, float, float]


@dataclass(slots=True)
class ObjectSpec:
    """One object as placed in the scene at load time."""

    object_id: str
    object_type: str
    name: str
    position: Vec3  # centre of the axis-aligned bounding box
    size: Vec3  # axis-aligned extent (already turned by rotation_y)
    rotation_y: float = 0.0
    parent_id: str | None = None  # the one receptacle it is in/on
    state: dict[str, Any] = field(default_factory=dict)  # isOpen, isToggled, isDirty, ...
    controlled_ids: list[str] | None = None  # StoveKnob -> its StoveBurner
    blocks_floor: bool = False  # stands on the floor and keeps the agent out of its footprint
    asset_id: str = ""


@dataclass(slots=True)
class AgentStart:
    x: float
    z: float
    yaw: float = 0.0
    horizon: float = 0.0


@dataclass(slots=True)
class SceneSpec:
    name: str
    room_type: str
    bounds: tuple[float, float, float, float]  # floor rectangle: min_x, min_z, max_x, max_z
    height: float
    free_cells: frozenset[tuple[int, int]]  # 0.25 m lattice cells an agent may stand on
    objects: list[ObjectSpec]  # parents always before their children
    agent_starts: list[AgentStart]

    def by_id(self) -> dict[str, ObjectSpec]:
        return {o.object_id: o for o in self.objects}
