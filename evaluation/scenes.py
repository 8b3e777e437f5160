"""What a scene holds before anyone acts: the object list suites are validated against.

Built with the emulator, whatever backend the runs use, so a suite is checked the same way on
every machine (and without starting AI2-THOR just to read an object list).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from robocortex.sim.emulator import EmulatorWorld
from robocortex.sim.initial_state import apply_initial_state
from robocortex.sim.scenes import load_scene

from robocortex.agents.world_host import layouts_dir, nodes_of, world_init

Nodes = dict[str, dict[str, Any]]


def room_of(scene: str) -> str:
    """The room type (`Kitchen`, ...), or `FloorPlan` for ALFRED floor plans."""
    return "FloorPlan" if scene.startswith("FloorPlan") else scene.split("-")[0]


def initial_nodes(scene: str, thor_data: str | None = None, steps: Sequence[dict[str, Any]] = ()) -> Nodes:
    """The scene's objects and their state at the start, after the set-up `steps` (a suite task's
    `initial_state`); ValueError for a scene that cannot be built or steps AI2-THOR would refuse."""
    return _initial_nodes(scene, thor_data, json.dumps(list(steps), sort_keys=True))


@functools.lru_cache(maxsize=64)
def _initial_nodes(scene: str, thor_data: str | None, steps_json: str) -> Nodes:
    world = EmulatorWorld()
    metadata = world.reset(scene, 1, **world_init(scene, thor_data, "emulator"))[0]
    steps = json.loads(steps_json)
    if steps:
        metadata = apply_initial_state(world, steps)[0]
    return nodes_of(metadata)


def agent_capacity(scene: str, thor_data: str | None = None) -> int:
    """How many robots the scene has start positions for."""
    return len(load_scene(scene, layouts_dir(thor_data)).agent_starts)
