"""Headless AI2-THOR emulator: ai2thor's Controller surface and the "emulator" world backend."""

from robocortex.sim.emulator.adapter import EmulatorWorld
from robocortex.sim.emulator.controller import Controller, Event, MultiAgentEvent
from robocortex.sim.emulator.engine import Simulation
from robocortex.sim.emulator.registry import ACTIONS
from robocortex.sim.backends import register_backend

SUPPORTED_ACTIONS = tuple(sorted(ACTIONS))

register_backend("emulator", EmulatorWorld)

__all__ = ["Controller", "EmulatorWorld", "Event", "MultiAgentEvent", "Simulation", "SUPPORTED_ACTIONS"]
