"""What a scene holds before anyone acts: the object list suites are validated against.

Built with the emulator, whatever backend the runs use, so a suite is checked the same way on
every machine (and without starting AI2-THOR just to read an object list).
"""

from __future__ import annotations

import functools
from typing import Any

from robocortex.sim.emulator import EmulatorWorld
from robocortex.sim.scenes import load_scene

from robocortex.agents.world_host import layouts_dir, nodes_of, world_init

Nodes = dict[str, dict[str, Any]]


def room_of(scene: str) -> str:
    """The room type (`Kitchen`, ...), or `FloorPlan` for ALFRED floor plans."""
    return "FloorPlan" if scene.startswith("FloorPlan") else scene.split("-")[0]


@functools.lru_cache(maxsize=64)
def initial_nodes(scene: str, thor_data: str | None = None) -> Nodes:
    """The scene's objects and their state at the start; ValueError for a scene that cannot be built."""
    world = EmulatorWorld()
    metadata = world.reset(scene, 1, **world_init(scene, thor_data, "emulator"))[0]
    return nodes_of(metadata)


def agent_capacity(scene: str, thor_data: str | None = None) -> int:
    """How many robots the scene has start positions for."""
    return len(load_scene(scene, layouts_dir(thor_data)).agent_starts)
