"""Headless AI2-THOR emulator: ai2thor's Controller surface and the "emulator" world backend."""

from sim.emulator.adapter import EmulatorWorld
from sim.emulator.controller import Controller, Event, MultiAgentEvent
from sim.emulator.engine import Simulation
from sim.emulator.registry import ACTIONS
from sim.backends import register_backend

SUPPORTED_ACTIONS = tuple(sorted(ACTIONS))

register_backend("emulator", EmulatorWorld)

__all__ = ["Controller", "EmulatorWorld", "Event", "MultiAgentEvent", "Simulation", "SUPPORTED_ACTIONS"]
