"""The world host process: one shared world for all robots of a run, served over HTTP.

With `seed_memory` the scene graph starts from the world's full object list: the team begins with
a prior map of the scene (as a robot team would after a mapping run); robots keep it current from
what they observe.
"""

from __future__ import annotations

import logging

from sim.host import create_world_app
from sim.backends import make_world

from agents.context import Memory
from agents.settings import Settings
from cerebellum.perception import nodes_from_metadata

log = logging.getLogger("robocortex.world")


def build_world_app(settings: Settings, scene: str, agent_count: int, seed_memory: bool = True):
    world = make_world(settings.world_backend, **({"thor_data": settings.thor_data} if settings.thor_data else {}))
    metadata = world.reset(scene, agent_count)
    log.info("world: %s backend, scene %s, %d agent(s), %d objects", world.backend, scene, agent_count,
             len(metadata[0].get("objects") or []))
    if seed_memory:
        memory = Memory.from_settings(settings)
        rev = memory.scene.reset(nodes_from_metadata(metadata[0]), source=f"world:{scene}")
        log.info("scene graph seeded at rev %d", rev)
    return create_world_app(world, scene, agent_count)
