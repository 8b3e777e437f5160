"""Where objects can rest in or on a receptacle, and finding a free spot there.

Shared by the scene generator (initial placement) and the emulator (PutObject, DropHandObject,
slicing), so both obey the same space rules: an object needs a free footprint on the receptacle's
surface or interior floor; AI2-THOR answers "No valid positions to place object found" otherwise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterable

from robocortex.sim.geometry import Box
from robocortex.knowledge.placement import is_container

Vec3 = tuple[float, float, float]

# Receptacles whose objects sit on a tray or in slots inside the appliance body.
_SLOT_RECEPTACLES = frozenset({"CoffeeMachine", "Toaster", "SinkBasin", "BathtubBasin"})
# Small receptacles an object may overhang (a pan on a burner, a knife leaning in a mug).
OVERHANG_RECEPTACLES = frozenset(
    {
        "Mug", "Cup", "Bowl", "Pot", "Pan", "Plate", "StoveBurner", "Toaster", "CoffeeMachine",
        "TowelHolder", "HandTowelHolder", "ToiletPaperHanger",
    }
)  # fmt: skip
_WALL_MARGIN = 0.02
_SCAN_STEP = 0.03


@dataclass(frozen=True, slots=True)
class Surface:
    min_x: float
    min_z: float
    max_x: float
    max_z: float
    y: float  # height objects rest at (their bottom)
    enclosed: bool  # in (True) or on (False)


def surface_of(receptacle_type: str, box: Box) -> Surface:
    """The resting area of a receptacle given its bounding box."""
    m = min(_WALL_MARGIN, (box.max_x - box.min_x) / 4, (box.max_z - box.min_z) / 4)
    if receptacle_type == "Fridge":
        y = box.min_y + 0.35  # lowest shelf
    elif receptacle_type == "Floor":
        y = box.max_y
    elif is_container(receptacle_type) or receptacle_type in _SLOT_RECEPTACLES:
        y = box.min_y + min(0.03, (box.max_y - box.min_y) / 4)
    else:
        y = box.max_y
    enclosed = is_container(receptacle_type) or receptacle_type in _SLOT_RECEPTACLES
    return Surface(box.min_x + m, box.min_z + m, box.max_x - m, box.max_z - m, y, enclosed)


def find_spot(
    surface: Surface,
    size: Vec3,
    occupied: Iterable[Box],
    prefer: tuple[float, float] | None = None,
    rng: random.Random | None = None,
    allow_oversize: bool = False,
    attempts: int | None = None,
) -> Vec3 | None:
    """Centre of a free footprint of `size` on `surface`, or None when it does not fit.

    With `prefer`, the free spot nearest that (x, z) point wins (PutObject places near the
    agent); with `rng`, a random free spot (scene generation). Objects wider than a small
    container (a knife in a mug) may overhang it when `allow_oversize` is set, as they lean in
    AI2-THOR. `attempts` caps how many spots are tried (InitialRandomSpawn's numPlacementAttempts).
    """
    sx, sy, sz = size
    width, depth = surface.max_x - surface.min_x, surface.max_z - surface.min_z
    if sx > width or sz > depth:
        if not allow_oversize:
            return None
        sx, sz = min(sx, width), min(sz, depth)
    boxes = list(occupied)
    xs = _scan(surface.min_x + sx / 2, surface.max_x - sx / 2)
    zs = _scan(surface.min_z + sz / 2, surface.max_z - sz / 2)
    candidates = [(x, z) for x in xs for z in zs]
    if prefer is not None:
        px, pz = prefer
        candidates.sort(key=lambda c: (c[0] - px) ** 2 + (c[1] - pz) ** 2)
    elif rng is not None:
        rng.shuffle(candidates)
    y = surface.y + size[1] / 2
    if attempts is not None:
        candidates = candidates[:attempts]
    for x, z in candidates:
        footprint = Box(x - sx / 2, 0.0, z - sz / 2, x + sx / 2, 0.0, z + sz / 2)
        if not any(footprint.overlaps_xz(b, margin=-1e-6) for b in boxes):
            return (round(x, 4), round(y, 4), round(z, 4))
    return None


def _scan(lo: float, hi: float) -> list[float]:
    if hi < lo:
        return [(lo + hi) / 2]
    n = int((hi - lo) / _SCAN_STEP) + 1
    return [lo + i * (hi - lo) / max(n - 1, 1) for i in range(n)] if n > 1 else [(lo + hi) / 2]
