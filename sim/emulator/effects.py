"""Contextual state changes AI2-THOR applies by itself, re-evaluated after every state change.

- a running Microwave or Toaster, or a StoveBurner whose StoveKnob is on, heats everything in or
  on it (temperature Hot) and cooks what is cookable;
- a running CoffeeMachine fills a Mug or Cup standing in it with coffee (and warms it);
- a Fridge keeps its contents Cold;
- a running Faucet fills fillable objects in the nearest SinkBasin/BathtubBasin with water and
  washes dirty ones clean.

Temperatures do not drift back to RoomTemp over time (AI2-THOR does so after ~10 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robocortex.sim.emulator.state import SimObject

if TYPE_CHECKING:
    from robocortex.sim.emulator.engine import Simulation

_COOKING_SOURCES = frozenset({"Microwave", "Toaster", "StoveBurner"})
_BASINS = ("SinkBasin", "BathtubBasin")


def apply(sim: Simulation) -> None:
    burners_on = _burners_switched_on(sim)
    for source in list(sim.objects.values()):
        kind = source.object_type
        if kind == "Fridge":
            for o in sim.descendants(source):
                _set_temperature(o, "Cold")
        elif kind in _COOKING_SOURCES:
            running = source.object_id in burners_on if kind == "StoveBurner" else source.is_toggled
            if running:
                for o in sim.descendants(source):
                    _heat(o, cook=True)
        elif kind == "CoffeeMachine" and source.is_toggled:
            for o in sim.descendants(source):
                _heat(o, cook=False)
                if o.object_type in ("Mug", "Cup") and not o.is_broken and o.fill_liquid != "coffee":
                    o.is_filled, o.fill_liquid = True, "coffee"
                    o.changed()
        elif kind == "Faucet" and source.is_toggled:
            basin = _nearest_basin(sim, source)
            if basin is not None:
                for o in sim.descendants(basin):
                    _wash(o)


def _burners_switched_on(sim: Simulation) -> set[str]:
    on: set[str] = set()
    for o in sim.objects.values():
        if o.object_type == "StoveKnob" and o.is_toggled and o.controlled_ids:
            on.update(o.controlled_ids)
    return on


def _heat(o: SimObject, cook: bool) -> None:
    _set_temperature(o, "Hot")
    if cook and o.kind.cookable and not o.is_cooked:
        o.is_cooked = True
        o.changed()


def _wash(o: SimObject) -> None:
    if o.kind.dirtyable and o.is_dirty:
        o.is_dirty = False
        o.changed()
    if o.kind.canFillWithLiquid and not o.is_broken and not o.is_filled:
        o.is_filled, o.fill_liquid = True, "water"
        o.changed()


def _set_temperature(o: SimObject, temperature: str) -> None:
    if o.temperature != temperature:
        o.temperature = temperature
        o.changed()


def _nearest_basin(sim: Simulation, faucet: SimObject) -> SimObject | None:
    fx, _, fz = faucet.position
    basins = [o for o in sim.objects.values() if o.object_type in _BASINS]
    if not basins:
        return None
    return min(basins, key=lambda b: (b.position[0] - fx) ** 2 + (b.position[2] - fz) ** 2)
