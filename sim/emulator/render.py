"""Camera frames for the emulator: RGB, instance segmentation and depth, in ai2thor's shapes.

A small numpy ray caster over what an agent's metadata already holds: each object's axis-aligned
box, the scene bounds (walls, floor, ceiling), the camera pose, `fov` and the screen size. Flat
colours per object type, shaded by which face a ray meets, so boxes read as boxes.

Consistent with the emulator's visibility, both ways: only objects the metadata reports `visible`
are drawn (others are beyond `visibilityDistance`, occluded or shut away, as the metadata says), and
every visible object gets at least one pixel of the segmentation frame — where a box would be
hidden by another drawn box (a mug inside an open cabinet's box, a visible object whose visibility
point peeks past a larger one), it is drawn in front of the boxes that contain it and, if still
covered, keeps the pixel of its nearest hit (or its projected centre).

Because it reads only metadata, a frame can be rendered wherever the metadata is: in the
emulator's `Controller`, in `EmulatorWorld.frames()`, or in a robot's world client.

    frames = render(metadata)
    frames.frame                  # uint8 H×W×3
    frames.instance_segmentation_frame, frames.object_id_to_color, frames.color_to_object_id
    frames.depth_frame            # float32 H×W, metres along the camera axis
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STRUCTURE_IDS = ("Walls", "Floor", "Ceiling")  # the room shell, as ai2thor names its structural parts
_SHELL_RGB = {"Walls": (205, 200, 190), "Floor": (150, 120, 90), "Ceiling": (235, 235, 235)}
_SHELL_SEG = {"Walls": (1, 1, 1), "Floor": (2, 2, 2), "Ceiling": (3, 3, 3)}
# Shade of a face by the axis of its normal (x, y, z): tops brightest.
SHADES = (0.8, 1.0, 0.9)


def type_color(object_type: str) -> tuple[int, int, int]:
    """The flat RGB colour of an object type (before face shading): stable, from its name."""
    digest = hashlib.md5(object_type.encode()).digest()
    return tuple(40 + digest[i] * 180 // 255 for i in range(3))  # type: ignore[return-value]


def shaded_colors(object_type: str) -> list[tuple[int, int, int]]:
    """The colours an object of this type shows in `frame` (one per face orientation)."""
    base = np.array(type_color(object_type), dtype=np.float64)
    return [tuple(int(c) for c in np.floor(base * s)) for s in SHADES]  # type: ignore[misc]


def segmentation_color(object_id: str, taken: set[tuple[int, int, int]]) -> tuple[int, int, int]:
    """A colour for one object id in the instance segmentation frame, unique among `taken`."""
    salt = 0
    while True:
        digest = hashlib.md5(f"{object_id}#{salt}".encode()).digest()
        color = (digest[0], digest[1], max(digest[2], 8))
        if color not in taken:
            return color
        salt += 1


@dataclass
class Frames:
    """One agent's camera images after an action (the `Event` attributes of ai2thor)."""

    frame: np.ndarray
    depth_frame: np.ndarray | None
    instance_segmentation_frame: np.ndarray | None
    object_id_to_color: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    color_to_object_id: dict[tuple[int, int, int], str] = field(default_factory=dict)
    ids: np.ndarray | None = None  # H×W index into `names` (-1: nothing)
    names: list[str] = field(default_factory=list)

    def object_at(self, x: float, y: float) -> str | None:
        """The object id at (x, y) in 0–1 of the frame (x right, y down), or None (walls, floor shell)."""
        if self.ids is None:
            raise ValueError("this frame has no segmentation")
        h, w = self.ids.shape
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"x and y must be in [0, 1] (fractions of the frame), got x={x}, y={y}")
        row, col = min(int(y * h), h - 1), min(int(x * w), w - 1)
        index = int(self.ids[row, col])
        name = self.names[index] if index >= 0 else None
        return None if name in STRUCTURE_IDS else name

    def pixels_of(self, object_id: str) -> int:
        if self.ids is None or object_id not in self.names:
            return 0
        return int(np.count_nonzero(self.ids == self.names.index(object_id)))


@dataclass
class _Camera:
    origin: np.ndarray
    forward: np.ndarray
    right: np.ndarray
    up: np.ndarray
    tan_h: float
    tan_v: float
    width: int
    height: int

    @classmethod
    def of(cls, md: dict[str, Any]) -> _Camera:
        cam = md["cameraPosition"]
        yaw = math.radians(md["agent"]["rotation"]["y"])
        pitch = math.radians(md["agent"]["cameraHorizon"])
        fx, fz = math.sin(yaw), math.cos(yaw)
        cp, sp = math.cos(pitch), math.sin(pitch)
        width, height = int(md["screenWidth"]), int(md["screenHeight"])
        tan_v = math.tan(math.radians(md["fov"]) / 2)
        return cls(
            np.array([cam["x"], cam["y"], cam["z"]]), np.array([fx * cp, -sp, fz * cp]), np.array([fz, 0.0, -fx]),
            np.array([fx * sp, cp, fz * sp]), tan_v * width / height, tan_v, width, height,
        )  # fmt: skip

    def rays(self, rows: slice, cols: slice) -> np.ndarray:
        """Ray directions (…×3) for a pixel rectangle; their forward component is 1, so a hit's
        ray parameter is its depth along the camera axis."""
        u = ((np.arange(cols.start, cols.stop) + 0.5) / self.width * 2 - 1) * self.tan_h
        v = (1 - (np.arange(rows.start, rows.stop) + 0.5) / self.height * 2) * self.tan_v
        return self.forward + u[None, :, None] * self.right + v[:, None, None] * self.up

    def rect(self, lo: np.ndarray, hi: np.ndarray) -> tuple[slice, slice] | None:
        """The pixel rectangle a box can cover (the whole frame when it reaches behind the camera)."""
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
        rel = corners - self.origin
        depth = rel @ self.forward
        if np.all(depth <= 0):
            return None
        if np.any(depth <= 0.02):
            return slice(0, self.height), slice(0, self.width)
        u = (rel @ self.right) / depth / self.tan_h
        v = (rel @ self.up) / depth / self.tan_v
        c0 = max(int(math.floor((u.min() + 1) / 2 * self.width)) - 1, 0)
        c1 = min(int(math.ceil((u.max() + 1) / 2 * self.width)) + 1, self.width)
        r0 = max(int(math.floor((1 - v.max()) / 2 * self.height)) - 1, 0)
        r1 = min(int(math.ceil((1 - v.min()) / 2 * self.height)) + 1, self.height)
        if c0 >= c1 or r0 >= r1:
            return None
        return slice(r0, r1), slice(c0, c1)

    def pixel_of(self, point: np.ndarray) -> tuple[int, int] | None:
        rel = point - self.origin
        depth = float(rel @ self.forward)
        if depth <= 1e-6:
            return None
        u = float(rel @ self.right) / depth / self.tan_h
        v = float(rel @ self.up) / depth / self.tan_v
        col = min(max(int((u + 1) / 2 * self.width), 0), self.width - 1)
        row = min(max(int((1 - v) / 2 * self.height), 0), self.height - 1)
        return row, col


def _slab(origin: np.ndarray, rays: np.ndarray, lo: np.ndarray, hi: np.ndarray,
          exit: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t_near, t_far, axis of the entry face — or, with `exit`, of the exit face) of each ray
    against the box [lo, hi]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.where(np.abs(rays) < 1e-12, 1e-12, rays)
        t1 = (lo - origin) * inv
        t2 = (hi - origin) * inv
    near = np.minimum(t1, t2)
    far = np.maximum(t1, t2)
    return near.max(axis=-1), far.min(axis=-1), (far.argmin(axis=-1) if exit else near.argmax(axis=-1))


def _box(obj: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    pts = np.asarray(obj["axisAlignedBoundingBox"]["cornerPoints"], dtype=np.float64)
    return pts.min(axis=0), pts.max(axis=0)


def _contains(outer: tuple[np.ndarray, np.ndarray], point: np.ndarray) -> bool:
    return bool(np.all(outer[0] <= point) and np.all(point <= outer[1]))


def render(md: dict[str, Any], *, depth: bool = True, segmentation: bool = True) -> Frames:
    """The frames of the agent whose metadata is `md` (see the module docstring)."""
    cam = _Camera.of(md)
    h, w = cam.height, cam.width
    full = (slice(0, h), slice(0, w))
    rays = cam.rays(*full)
    zbuf = np.full((h, w), np.inf)
    ids = np.full((h, w), -1, dtype=np.int32)
    axes = np.zeros((h, w), dtype=np.int8)
    names: list[str] = list(STRUCTURE_IDS)

    # The room shell: where each ray leaves the scene bounds.
    lo, hi = _box({"axisAlignedBoundingBox": md["sceneBounds"]})
    _, t_far, exit_axis = _slab(cam.origin, rays, lo, hi, exit=True)
    hit_y = cam.origin[1] + rays[..., 1] * t_far
    shell = np.where(exit_axis != 1, 0, np.where(hit_y < (lo[1] + hi[1]) / 2, 1, 2))
    ok = np.isfinite(t_far) & (t_far > 0)
    zbuf[ok] = t_far[ok]
    ids[ok] = shell[ok]
    axes[ok] = exit_axis[ok]

    visible = [o for o in md["objects"] if o.get("visible")]
    boxes = {o["objectId"]: _box(o) for o in visible}
    types: list[str] = [""] * len(names)
    hits: dict[int, tuple[tuple[slice, slice], np.ndarray, np.ndarray]] = {}
    for o in visible:
        lo, hi = boxes[o["objectId"]]
        rect = cam.rect(lo, hi)
        index = len(names)
        names.append(o["objectId"])
        types.append(o["objectType"])
        if rect is None:
            continue
        rows, cols = rect
        t_near, t_far, axis = _slab(cam.origin, rays[rows, cols], lo, hi)
        t = np.where((t_near <= t_far) & (t_near > 0), t_near, np.inf)
        hits[index] = (rect, t, axis)
        closer = t < zbuf[rows, cols]
        zbuf[rows, cols] = np.where(closer, t, zbuf[rows, cols])
        ids[rows, cols] = np.where(closer, index, ids[rows, cols])
        axes[rows, cols] = np.where(closer, axis, axes[rows, cols])

    _contents_in_front(md, visible, boxes, names, hits, zbuf, ids, axes)
    _every_visible_object_shows(cam, visible, boxes, names, hits, zbuf, ids, axes)
    return _frames(md, cam, names, types, ids, axes, zbuf, depth, segmentation)


def _contents_in_front(md: dict[str, Any], visible: list[dict[str, Any]], boxes: dict[str, Any], names: list[str],
                       hits: dict[int, Any], zbuf: np.ndarray, ids: np.ndarray, axes: np.ndarray) -> None:
    """An object is drawn over its receptacles and over boxes containing it (shelves, cabinets)."""
    index_of = {name: i for i, name in enumerate(names)}
    by_id = {o["objectId"]: o for o in md["objects"]}

    def ancestors(o: dict[str, Any]) -> list[str]:
        out, parents = [], list(o.get("parentReceptacles") or [])
        while parents and len(out) < 16:
            p = parents.pop(0)
            if p not in out:
                out.append(p)
                parents.extend((by_id.get(p) or {}).get("parentReceptacles") or [])
        return out

    order = sorted(visible, key=lambda o: len(ancestors(o)))
    for o in order:
        i = index_of[o["objectId"]]
        if i not in hits:
            continue
        centre = (boxes[o["objectId"]][0] + boxes[o["objectId"]][1]) / 2
        own = {index_of[a] for a in ancestors(o) if a in index_of}
        own |= {index_of[k] for k, b in boxes.items() if k != o["objectId"] and _contains(b, centre)}
        if not own:
            continue
        (rows, cols), t, axis = hits[i]
        take = np.isfinite(t) & np.isin(ids[rows, cols], list(own))
        zbuf[rows, cols] = np.where(take, t, zbuf[rows, cols])
        ids[rows, cols] = np.where(take, i, ids[rows, cols])
        axes[rows, cols] = np.where(take, axis, axes[rows, cols])


def _every_visible_object_shows(cam: _Camera, visible: list[dict[str, Any]], boxes: dict[str, Any], names: list[str],
                                hits: dict[int, Any], zbuf: np.ndarray, ids: np.ndarray, axes: np.ndarray) -> None:
    """A visible object covered everywhere keeps one pixel: its nearest hit, else its projected centre."""
    claimed: set[tuple[int, int]] = set()
    for _ in range(3):  # a claimed pixel may take another object's last one: settle in a few rounds
        shown = set(np.unique(ids).tolist())
        missing = [i for i in range(len(STRUCTURE_IDS), len(names)) if i not in shown]
        if not missing:
            return
        for i in missing:
            pixel, t_value, axis_value = None, None, 1
            if i in hits:
                (rows, cols), t, axis = hits[i]
                order = np.argsort(t, axis=None)
                for flat in order[:64]:
                    r, c = np.unravel_index(flat, t.shape)
                    if not np.isfinite(t[r, c]):
                        break
                    candidate = (rows.start + int(r), cols.start + int(c))
                    if candidate not in claimed:
                        pixel, t_value, axis_value = candidate, float(t[r, c]), int(axis[r, c])
                        break
            if pixel is None:
                lo, hi = boxes[names[i]]
                pixel = cam.pixel_of((lo + hi) / 2)
                if pixel is None:
                    continue
                pixel = _free_neighbour(pixel, claimed, ids.shape)
                t_value = float((((lo + hi) / 2) - cam.origin) @ cam.forward)
            claimed.add(pixel)
            zbuf[pixel] = t_value
            ids[pixel] = i
            axes[pixel] = axis_value


def _free_neighbour(pixel: tuple[int, int], claimed: set[tuple[int, int]], shape: tuple[int, ...]) -> tuple[int, int]:
    r0, c0 = pixel
    for radius in range(0, 6):
        for dr in range(-radius, radius + 1):
            for dc in range(-radius, radius + 1):
                r, c = r0 + dr, c0 + dc
                if 0 <= r < shape[0] and 0 <= c < shape[1] and (r, c) not in claimed:
                    return r, c
    return pixel


def frames_from_event(event: Any) -> Frames:
    """`Frames` from an ai2thor `Event` (the thor backend): its own images and colour maps."""
    seg = getattr(event, "instance_segmentation_frame", None)
    color_to_id = {tuple(int(v) for v in k): str(n) for k, n in (getattr(event, "color_to_object_id", None) or {}).items()}
    frames = Frames(frame=np.asarray(event.frame, dtype=np.uint8), depth_frame=getattr(event, "depth_frame", None),
                    instance_segmentation_frame=seg, color_to_object_id=color_to_id,
                    object_id_to_color={n: c for c, n in color_to_id.items()})
    if seg is not None:  # indices as in `render`: the shell names first (unused here), then objects
        names = list(STRUCTURE_IDS) + list(color_to_id.values())
        index = {c: i + len(STRUCTURE_IDS) for i, c in enumerate(color_to_id)}
        flat = np.asarray(seg).reshape(-1, 3)
        uniq, inverse = np.unique(flat, axis=0, return_inverse=True)
        lookup = np.array([index.get(tuple(int(v) for v in u), -1) for u in uniq], dtype=np.int32)
        frames.ids, frames.names = lookup[inverse.reshape(-1)].reshape(seg.shape[:2]), names
    return frames


def _frames(md: dict[str, Any], cam: _Camera, names: list[str], types: list[str], ids: np.ndarray, axes: np.ndarray,
            zbuf: np.ndarray, depth: bool, segmentation: bool) -> Frames:
    n = len(names)
    base = np.zeros((n + 1, 3), dtype=np.float64)  # last row: nothing hit (black)
    for k, name in enumerate(names):
        base[k] = _SHELL_RGB[name] if k < len(STRUCTURE_IDS) else type_color(types[k])
    shade = np.asarray(SHADES)[axes.astype(np.intp)]
    rgb = np.floor(base[ids] * shade[..., None]).astype(np.uint8)
    rgb[ids < len(STRUCTURE_IDS)] = base[ids[ids < len(STRUCTURE_IDS)]].astype(np.uint8)
    frames = Frames(frame=rgb, depth_frame=None, instance_segmentation_frame=None, ids=ids, names=names)
    if depth:
        frames.depth_frame = np.where(np.isfinite(zbuf), zbuf, 0.0).astype(np.float32)
    if segmentation:
        colors = np.zeros((n + 1, 3), dtype=np.uint8)
        taken: set[tuple[int, int, int]] = set(_SHELL_SEG.values())
        for k, name in enumerate(names):
            color = _SHELL_SEG[name] if k < len(STRUCTURE_IDS) else segmentation_color(name, taken)
            taken.add(color)
            colors[k] = color
            frames.object_id_to_color[name] = color
            frames.color_to_object_id[color] = name
        frames.instance_segmentation_frame = colors[ids]
    return frames
