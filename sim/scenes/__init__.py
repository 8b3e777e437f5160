"""Scenes by name.

- `Kitchen-<seed>`, `LivingRoom-<seed>`, `Bedroom-<seed>`, `Bathroom-<seed>`: seeded procedural rooms;
- `FloorPlan<N>`: built from ALFRED's floor-plan layout files (object list, reachable positions,
  openable poses), found in `layouts_dir` or `$ROBOCORTEX_THOR_DATA/layouts`.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from robocortex.sim.scenes.spec import AgentStart, ObjectSpec, SceneSpec

ROOM_TYPES = ("Kitchen", "LivingRoom", "Bedroom", "Bathroom")
_PROCEDURAL = re.compile(r"^(Kitchen|LivingRoom|Bedroom|Bathroom)-(\d+)$")
_FLOOR_PLAN = re.compile(r"^FloorPlan\d+$")


def load_scene(name: str, layouts_dir: str | os.PathLike[str] | None = None) -> SceneSpec:
    """The scene called `name`; raises ValueError for names it cannot build."""
    if not isinstance(name, str):
        raise ValueError(f"scene must be a name string or a SceneSpec, got {name!r}")
    match = _PROCEDURAL.match(name)
    if match:
        return generate_scene(match.group(1), int(match.group(2)))
    if _FLOOR_PLAN.match(name):
        directory = layouts_dir or _layouts_from_env()
        if directory is None:
            raise ValueError(missing_layouts_message(name))
        from robocortex.sim.scenes.alfred import load_floor_plan

        return _cached_floor_plan(name, str(directory), load_floor_plan)
    raise ValueError(
        f"unknown scene {name!r}: use <RoomType>-<seed> with RoomType in {', '.join(ROOM_TYPES)} "
        "(e.g. Kitchen-0), or FloorPlan<N> with ALFRED layouts available"
    )


ALFRED_LAYOUTS_URL = "https://github.com/askforalfred/alfred/tree/master/gen/layouts"


def missing_layouts_message(name: str) -> str:
    """One line: what to set for `FloorPlan<N>` scenes and where their data comes from."""
    root = os.environ.get("ROBOCORTEX_THOR_DATA")
    where = f"$ROBOCORTEX_THOR_DATA/layouts ({root}/layouts) does not exist" if root else "ROBOCORTEX_THOR_DATA is not set"
    return (
        f"scene {name!r} needs ALFRED's floor-plan layouts and {where}: set ROBOCORTEX_THOR_DATA to a directory whose "
        f"layouts/ holds FloorPlanN-objects.json, -reachable.json and -openable.json (from ALFRED's gen/layouts, "
        f"{ALFRED_LAYOUTS_URL}; the -reachable.json files are its FloorPlanN-layout.npy as JSON), or pass layouts_dir=; "
        "procedural scenes (Kitchen-0, LivingRoom-0, Bedroom-0, Bathroom-0) need no data"
    )


@functools.lru_cache(maxsize=64)
def generate_scene(room_type: str, seed: int, min_objects: int = 0) -> SceneSpec:
    """Seeded procedural room; the same (room_type, seed) always gives the same scene."""
    if room_type == "Kitchen":
        from robocortex.sim.scenes.kitchen import generate_kitchen

        return generate_kitchen(seed, min_objects=min_objects)
    if room_type in ROOM_TYPES:
        from robocortex.sim.scenes.rooms import generate_room

        return generate_room(room_type, seed, min_objects=min_objects)
    raise ValueError(f"unknown room type {room_type!r}; choose one of {', '.join(ROOM_TYPES)}")


@functools.lru_cache(maxsize=16)
def _cached_floor_plan(name: str, directory: str, loader):  # type: ignore[no-untyped-def]
    return loader(name, Path(directory))


def _layouts_from_env() -> Path | None:
    root = os.environ.get("ROBOCORTEX_THOR_DATA")
    if not root:
        return None
    path = Path(root) / "layouts"
    return path if path.is_dir() else None


__all__ = ["AgentStart", "ObjectSpec", "ROOM_TYPES", "SceneSpec", "generate_scene", "load_scene"]
