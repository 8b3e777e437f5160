"""Small geometry helpers shared by the emulator and the scene builders (pure Python, no numpy)."""

from __future__ import annotations

import math
from typing import NamedTuple

# The lattice on which scene free space is stored; AI2-THOR's default gridSize.
BASE_GRID = 0.25
AGENT_Y = 0.9009992480278015  # agent pivot height reported by AI2-THOR (see the metadata dump)
STANDING_CAMERA_OFFSET = 0.675  # camera above the agent pivot when standing
CROUCHING_CAMERA_OFFSET = 0.0  # crouching lowers the camera to the pivot height
MIN_HORIZON, MAX_HORIZON = -30.0, 60.0  # AI2-THOR's LookUp/LookDown limits


class Box(NamedTuple):
    """Axis-aligned bounding box."""

    min_x: float
    min_y: float
    min_z: float
    max_x: float
    max_y: float
    max_z: float

    @classmethod
    def around(cls, center: tuple[float, float, float], size: tuple[float, float, float]) -> Box:
        cx, cy, cz = center
        hx, hy, hz = size[0] / 2, size[1] / 2, size[2] / 2
        return cls(cx - hx, cy - hy, cz - hz, cx + hx, cy + hy, cz + hz)

    def overlaps_xz(self, other: Box, margin: float = 0.0) -> bool:
        return (
            self.min_x < other.max_x + margin
            and other.min_x < self.max_x + margin
            and self.min_z < other.max_z + margin
            and other.min_z < self.max_z + margin
        )


def format_coordinate(value: float) -> str:
    """AI2-THOR's objectId coordinate format: sign, two integer digits, two decimals."""
    text = f"{value:+06.2f}"
    return "+00.00" if text == "-00.00" else text


def format_object_id(object_type: str, position: tuple[float, float, float]) -> str:
    return "|".join([object_type, *(format_coordinate(v) for v in position)])


def normalize_yaw(yaw: float) -> float:
    yaw = math.fmod(yaw, 360.0)
    if yaw < 0:
        yaw += 360.0
    return 0.0 if abs(yaw - 360.0) < 1e-9 else yaw


def forward_vector(yaw_degrees: float) -> tuple[float, float]:
    """Unit (x, z) direction an agent with rotation.y == yaw faces (0 faces +z, 90 faces +x)."""
    rad = math.radians(yaw_degrees)
    return math.sin(rad), math.cos(rad)


def cell_of(x: float, z: float) -> tuple[int, int]:
    return (int(math.floor(x / BASE_GRID + 0.5)), int(math.floor(z / BASE_GRID + 0.5)))


def snap(value: float, digits: int = 4) -> float:
    """Round away float noise so positions stay exactly on the lattice."""
    return round(value, digits) + 0.0


def can_see(
    cam_x: float,
    cam_y: float,
    cam_z: float,
    fwd_x: float,
    fwd_z: float,
    cos_half_fov: float,
    max_distance: float,
    box: Box,
) -> bool:
    """Whether any part of `box` lies within `max_distance` of the camera and in its horizontal view.

    Distance is measured to the nearest point of the box, so large furniture (counters, fridges)
    counts as visible when its near face is in range, like AI2-THOR's visibility points.
    """
    px = cam_x if box.min_x <= cam_x <= box.max_x else (box.min_x if cam_x < box.min_x else box.max_x)
    py = cam_y if box.min_y <= cam_y <= box.max_y else (box.min_y if cam_y < box.min_y else box.max_y)
    pz = cam_z if box.min_z <= cam_z <= box.max_z else (box.min_z if cam_z < box.min_z else box.max_z)
    dx, dy, dz = px - cam_x, py - cam_y, pz - cam_z
    if dx * dx + dy * dy + dz * dz > max_distance * max_distance:
        return False
    for x, z in (
        (px, pz),
        ((box.min_x + box.max_x) / 2, (box.min_z + box.max_z) / 2),
        (box.min_x, box.min_z),
        (box.min_x, box.max_z),
        (box.max_x, box.min_z),
        (box.max_x, box.max_z),
    ):
        vx, vz = x - cam_x, z - cam_z
        h = math.sqrt(vx * vx + vz * vz)
        if h < 1e-6 or (vx * fwd_x + vz * fwd_z) / h >= cos_half_fov - 1e-9:
            return True
    return False


def box_corner_points(box: Box) -> list[list[float]]:
    """Corner order used by AI2-THOR's axisAlignedBoundingBox.cornerPoints."""
    xs, ys, zs = (box.max_x, box.min_x), (box.max_y, box.min_y), (box.max_z, box.min_z)
    return [[x, y, z] for x in xs for y in ys for z in zs]
