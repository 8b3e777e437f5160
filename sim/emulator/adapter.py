"""`EmulatorWorld`: the `sim.world.World` protocol on top of the emulator core."""

from __future__ import annotations

from typing import Any

from robocortex.sim.emulator.controller import build_simulation
from robocortex.sim.emulator.engine import Simulation
from robocortex.sim.emulator.render import Frames, render
from robocortex.sim.scenes.spec import SceneSpec

Metadata = dict[str, Any]


class EmulatorWorld:
    """A headless AI2-THOR-compatible world; step() builds only the acting agent's metadata."""

    backend = "emulator"

    def __init__(self, scene: str | SceneSpec | None = None, agent_count: int = 1, **init: Any) -> None:
        self._defaults = dict(init)
        self.simulation: Simulation | None = None
        if scene is not None:
            self.reset(scene, agent_count)

    def reset(self, scene: str | SceneSpec, agent_count: int = 1, **init: Any) -> list[Metadata]:
        params = {**self._defaults, **init, "agentCount": agent_count}
        self.simulation = build_simulation(scene, params)
        return [self.simulation.metadata(i) for i in range(agent_count)]

    def step(self, agent_id: int, action: str, **params: Any) -> Metadata:
        sim = self._require()
        sim.step(agent_id, action, params)
        return sim.metadata(agent_id)

    def metadata(self, agent_id: int = 0) -> Metadata:
        sim = self._require()
        if not isinstance(agent_id, int) or not 0 <= agent_id < len(sim.agents):
            raise ValueError(f"agent_id {agent_id!r} out of range for {len(sim.agents)} agent(s)")
        return sim.metadata(agent_id)

    def frames(self, agent_id: int = 0, *, depth: bool = True, segmentation: bool = True) -> Frames:
        """The agent's camera frames now (the emulator's renderer, from its metadata)."""
        return render(self.metadata(agent_id), depth=depth, segmentation=segmentation)

    def stop(self) -> None:
        self.simulation = None

    def _require(self) -> Simulation:
        if self.simulation is None:
            raise RuntimeError("world not loaded: call reset(scene) first")
        return self.simulation
