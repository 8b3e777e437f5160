"""Small geometry helpers shared by the emulator and the scene builders (pure Python, no numpy)."""

from __future__ import annotations

import math
from typing import Iterator, NamedTuple

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


class View(NamedTuple):
    """A camera: position, orientation (yaw and horizon pitch) and its view frustum.

    `fov` is the vertical field of view, as Unity's `Camera.fieldOfView` and ai2thor's
    `fieldOfView`; the horizontal one follows from the aspect ratio (width / height).
    """

    x: float
    y: float
    z: float
    forward: tuple[float, float, float]
    right: tuple[float, float, float]
    up: tuple[float, float, float]
    tan_h: float  # tan(horizontal fov / 2)
    tan_v: float  # tan(vertical fov / 2)
    max_distance: float
    sec_h: float = 1.0  # 1 / cos(horizontal fov / 2)
    sec_v: float = 1.0  # 1 / cos(vertical fov / 2)

    @classmethod
    def of(
        cls, x: float, y: float, z: float, yaw: float, horizon: float, fov: float, max_distance: float, aspect: float = 1.0
    ) -> View:
        fx, fz = forward_vector(yaw)
        pitch = math.radians(horizon)  # positive horizon looks down
        cp, sp = math.cos(pitch), math.sin(pitch)
        tan_v = math.tan(math.radians(fov) / 2)
        tan_h = tan_v * aspect
        return cls(
            x, y, z, (fx * cp, -sp, fz * cp), (fz, 0.0, -fx), (fx * sp, cp, fz * sp), tan_h, tan_v, max_distance,
            math.sqrt(1 + tan_h * tan_h), math.sqrt(1 + tan_v * tan_v),
        )  # fmt: skip

    def sees_point(self, px: float, py: float, pz: float) -> bool:
        dx, dy, dz = px - self.x, py - self.y, pz - self.z
        if dx * dx + dy * dy + dz * dz > self.max_distance * self.max_distance:
            return False
        f, r, u = self.forward, self.right, self.up
        depth = dx * f[0] + dy * f[1] + dz * f[2]
        if depth <= 1e-6:
            return False
        side = dx * r[0] + dz * r[2]
        lift = dx * u[0] + dy * u[1] + dz * u[2]
        return abs(side) <= depth * self.tan_h + 1e-9 and abs(lift) <= depth * self.tan_v + 1e-9


def _nearest_in(box: Box, x: float, y: float, z: float) -> tuple[float, float, float]:
    return (
        box.min_x if x < box.min_x else (box.max_x if x > box.max_x else x),
        box.min_y if y < box.min_y else (box.max_y if y > box.max_y else y),
        box.min_z if z < box.min_z else (box.max_z if z > box.max_z else z),
    )


def view_points(view: View, box: Box, through: str = "face") -> list[tuple[float, float, float]]:
    """Points of `box` the camera sees (in range and inside the view frustum), few enough to test
    for occlusion: like AI2-THOR's visibility points, a box counts as seen through any of them.

    The points lie on the face a line of sight from the camera to the box centre enters by (the
    side of the object that faces the camera): its centre and corners, its point nearest the
    camera, and its points nearest to spots along the view axis. The back of a box never makes
    it visible. Empty when none is in view.

    `through` narrows the points the way AI2-THOR's visibility points sit on some objects:
    "front" uses only the vertical face towards the camera (doors and drawer fronts: furniture
    built into counters is seen through its front, not its top), "centre" only the centre and
    the point nearest the camera (small objects such as knobs carry their points near the middle).
    """
    return list(iter_view_points(view, box, through))


def iter_view_points(
    view: View, box: Box, through: str = "face", sphere: tuple[tuple[float, float, float], float] | None = None
) -> Iterator[tuple[float, float, float]]:
    """`view_points` one at a time, most likely first, so a caller can stop at the first unoccluded
    one; `sphere` is the box's (centre, radius) when the caller already knows it."""
    if not _sphere_may_be_in_view(view, box, sphere):
        return
    px, py, pz = _nearest_in(box, view.x, view.y, view.z)
    dx, dy, dz = px - view.x, py - view.y, pz - view.z
    if dx * dx + dy * dy + dz * dz > view.max_distance * view.max_distance:
        return
    sees = view.sees_point
    if sees(px, py, pz):
        yield (px, py, pz)
    if through == "centre":
        centre = ((box.min_x + box.max_x) / 2, (box.min_y + box.max_y) / 2, (box.min_z + box.max_z) / 2)
        if sees(*centre):
            yield centre
        return
    face = _entry_face(view, box, vertical_only=through == "front") or _entry_face(view, box)
    if face is None:  # the camera is inside the box
        return
    f = view.forward
    for t in (0.35, 0.7, 1.05, 1.4):
        d = t * view.max_distance / 1.5
        c = _nearest_in(face, view.x + f[0] * d, view.y + f[1] * d, view.z + f[2] * d)
        if sees(*c):
            yield c
    c = ((face.min_x + face.max_x) / 2, (face.min_y + face.max_y) / 2, (face.min_z + face.max_z) / 2)
    if sees(*c):
        yield c
    xs, ys, zs = (face.min_x, face.max_x), (face.min_y, face.max_y), (face.min_z, face.max_z)
    for c in sorted({(cx, cy, cz) for cx in xs for cy in ys for cz in zs}):
        if sees(*c):
            yield c


def _sphere_may_be_in_view(view: View, box: Box, sphere: tuple[tuple[float, float, float], float] | None = None) -> bool:
    """Cheap rejection: the box's bounding sphere lies wholly behind or beside the view frustum."""
    if sphere is None:
        cx, cy, cz = (box.min_x + box.max_x) / 2, (box.min_y + box.max_y) / 2, (box.min_z + box.max_z) / 2
        hx, hy, hz = (box.max_x - box.min_x) / 2, (box.max_y - box.min_y) / 2, (box.max_z - box.min_z) / 2
        r = math.sqrt(hx * hx + hy * hy + hz * hz)
    else:
        (cx, cy, cz), r = sphere
    dx, dy, dz = cx - view.x, cy - view.y, cz - view.z
    f, rt, u = view.forward, view.right, view.up
    depth = dx * f[0] + dy * f[1] + dz * f[2]
    if depth < -r:
        return False
    # A sphere touches the frustum only if its centre is within r / cos(half angle) of each side plane.
    side = abs(dx * rt[0] + dz * rt[2]) - depth * view.tan_h
    lift = abs(dx * u[0] + dy * u[1] + dz * u[2]) - depth * view.tan_v
    return side <= r * view.sec_h and lift <= r * view.sec_v


def _entry_face(view: View, box: Box, vertical_only: bool = False) -> Box | None:
    """The face (a flat box) through which the line from the camera to the box centre enters;
    with `vertical_only`, the side face (x or z) it crosses last."""
    c = ((box.min_x + box.max_x) / 2, (box.min_y + box.max_y) / 2, (box.min_z + box.max_z) / 2)
    o = (view.x, view.y, view.z)
    lo, hi = (box.min_x, box.min_y, box.min_z), (box.max_x, box.max_y, box.max_z)
    best_axis, best_t, best_value = -1, -1.0, 0.0
    for axis in (0, 2) if vertical_only else range(3):
        if lo[axis] <= o[axis] <= hi[axis]:
            continue
        value = lo[axis] if o[axis] < lo[axis] else hi[axis]
        t = (value - o[axis]) / (c[axis] - o[axis])
        if t > best_t:
            best_axis, best_t, best_value = axis, t, value
    if best_axis < 0:
        return None
    mins, maxs = list(lo), list(hi)
    mins[best_axis] = maxs[best_axis] = best_value
    return Box(mins[0], mins[1], mins[2], maxs[0], maxs[1], maxs[2])


def can_see(view: View, box: Box) -> bool:
    """Whether some point of `box` is within range and inside the view frustum (no occlusion)."""
    return bool(view_points(view, box))


def segment_hits_box(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float, box: Box) -> bool:
    """Whether the open segment from (x0, y0, z0) to (x1, y1, z1) passes through `box` (slab test)."""
    t0, t1 = 1e-4, 1.0 - 1e-4
    for a, b, lo, hi in ((x0, x1, box.min_x, box.max_x), (y0, y1, box.min_y, box.max_y), (z0, z1, box.min_z, box.max_z)):
        d = b - a
        if abs(d) < 1e-12:
            if a <= lo or a >= hi:
                return False
            continue
        u0, u1 = (lo - a) / d, (hi - a) / d
        if u0 > u1:
            u0, u1 = u1, u0
        t0, t1 = max(t0, u0), min(t1, u1)
        if t0 >= t1:
            return False
    return True


def shrink(box: Box, margin: float) -> Box:
    """`box` made smaller by `margin` on every side (never inverted)."""
    mx = min(margin, (box.max_x - box.min_x) / 2 - 1e-6)
    my = min(margin, (box.max_y - box.min_y) / 2 - 1e-6)
    mz = min(margin, (box.max_z - box.min_z) / 2 - 1e-6)
    return Box(box.min_x + mx, box.min_y + my, box.min_z + mz, box.max_x - mx, box.max_y - my, box.max_z - mz)


def box_corner_points(box: Box) -> list[list[float]]:
    """Corner order used by AI2-THOR's axisAlignedBoundingBox.cornerPoints."""
    xs, ys, zs = (box.max_x, box.min_x), (box.max_y, box.min_y), (box.max_z, box.min_z)
    return [[x, y, z] for x in xs for y in ys for z in zs]
