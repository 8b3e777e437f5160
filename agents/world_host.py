"""The world host process: one shared world for all robots of a run, served over HTTP.

With `seed_memory` the scene graph starts from the world's full object list: the team begins with
a prior map of the scene (as a robot team would after a mapping run); robots keep it current from
what they observe.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from robocortex.sim.host import create_world_app
from robocortex.sim.backends import make_world
from robocortex.sim.initial_state import apply_initial_state
from robocortex.sim.world import World

from robocortex.memory.scene_graph import FloorPlan, Footprint

from robocortex.memory.stores import Memory
from robocortex.agents.settings import Settings
from robocortex.cerebellum.perception import nodes_from_metadata

Nodes = dict[str, dict[str, Any]]

log = logging.getLogger("robocortex.world")


def layouts_dir(thor_data: str | None) -> Path | None:
    """The ALFRED layouts folder under the AI2-THOR data path (`FloorPlanN` scenes), if given."""
    return Path(thor_data) / "layouts" if thor_data else None


def world_init(scene: str, thor_data: str | None, backend: str) -> dict[str, Any]:
    """Extra reset parameters: the emulator builds `FloorPlanN` from the layouts folder."""
    folder = layouts_dir(thor_data)
    if backend == "emulator" and folder is not None and scene.startswith("FloorPlan"):
        return {"layouts_dir": str(folder)}
    return {}


def nodes_of(metadata: dict[str, Any]) -> Nodes:
    """Every object of a metadata dump as plain scene-graph nodes (ground truth for goal checks)."""
    return {n.id: n.model_dump(mode="json") for n in nodes_from_metadata(metadata)}


def reset_and_seed(world: World, settings: Settings, scene: str, agent_count: int,
                   memory: Memory | None, initial_state: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Load `scene`, run the set-up steps of `initial_state` (sim/initial_state.py; raises
    InitialStateRejected naming each refused step), and with `memory`, start the team's scene graph
    from the world's object list as the steps left it."""
    metadata = world.reset(scene, agent_count, **world_init(scene, settings.thor_data, world.backend))
    if initial_state:
        metadata = apply_initial_state(world, initial_state, agent_count)
        log.info("world: initial state of %d set-up step(s) applied", len(initial_state))
    log.info("world: %s backend, scene %s, %d agent(s), %d objects", world.backend, scene, agent_count,
             len(metadata[0].get("objects") or []))
    if memory is not None:
        rev = memory.scene.reset(nodes_from_metadata(metadata[0]), source=f"world:{scene}")
        memory.scene.set_floor_plan(floor_plan(world, scene, metadata))
        log.info("scene graph seeded at rev %d", rev)
    return metadata


def floor_plan(world: World, scene: str, metadata: list[dict[str, Any]]) -> FloorPlan:
    """The cells the robots can stand on (where they stand now included) and the furniture's footprints."""
    cells = {(p["x"], p["z"]) for p in world.step(0, "GetReachablePositions").get("actionReturn") or []}
    cells |= {(m["agent"]["position"]["x"], m["agent"]["position"]["z"]) for m in metadata if m.get("agent")}
    furniture = []
    for o in metadata[0].get("objects") or []:
        box = o.get("axisAlignedBoundingBox") or {}
        if o.get("pickupable") or o["objectType"] == "Floor" or not box.get("size"):
            continue
        centre, size = box.get("center") or o["position"], box["size"]
        furniture.append(Footprint(id=o["objectId"], type=o["objectType"], x=centre["x"], z=centre["z"],
                                   size_x=size["x"], size_z=size["z"]))
    return FloorPlan(scene=scene, grid=_grid(cells), reachable=sorted(cells), furniture=furniture)


def _grid(cells: set[tuple[float, float]]) -> float:
    """The smallest spacing between neighbouring cells (AI2-THOR's gridSize, 0.25 m by default)."""
    xs = sorted({round(x, 3) for x, _ in cells})
    steps = [b - a for a, b in zip(xs, xs[1:]) if b - a > 1e-3]
    return round(min(steps), 3) if steps else 0.25


def build_world_app(settings: Settings, scene: str, agent_count: int, seed_memory: bool = True):
    world = make_world(settings.world_backend)
    reset_and_seed(world, settings, scene, agent_count, Memory.from_settings(settings) if seed_memory else None)
    if not settings.world_secret:
        log.warning("world host OPEN: no ROBOCORTEX_WORLD_SECRET, so anyone who reaches its port may reset and "
                    "step the world; set one (the workers need the same)")
    return create_world_app(world, scene, agent_count, secret=settings.world_secret,
                            scene_init=lambda name: world_init(name, settings.thor_data, world.backend))
