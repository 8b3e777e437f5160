"""Hand and articulation actions: PickupObject, PutObject, DropHandObject, ThrowObject,
OpenObject, CloseObject, ToggleObjectOn/Off, Done, Pass."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from robocortex.sim.emulator import effects
from robocortex.sim.emulator.registry import ActionFailed, action, interactable_target, require_number, require_str
from robocortex.sim.emulator.state import AgentState, SimObject
from robocortex.sim.geometry import forward_vector, snap
from robocortex.knowledge.placement import MUST_BE_OPEN_TO_PLACE_OBJECTS_IN, accepts
from robocortex.sim.surfaces import OVERHANG_RECEPTACLES, find_spot, surface_of

if TYPE_CHECKING:
    from robocortex.sim.emulator.engine import Simulation

THROW_BREAK_FORCE = 100.0  # a breakable object thrown at least this hard breaks on landing



@action("PickupObject")
def pickup_object(
    sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False, manualInteract: bool = False
) -> None:
    obj = sim.get(require_str("objectId", objectId))
    if agent.held_id is not None:
        raise ActionFailed("Agent's hand is not empty; it must be empty to pick up an object")
    if not obj.kind.pickupable:
        raise ActionFailed(f"{obj.object_id} must have the property CanPickup to be picked up.")
    if obj.held_by is not None:
        raise ActionFailed(f"{obj.object_id} is already held by agent {obj.held_by}")
    sim.require_interactable(agent, obj, bool(forceAction))
    sim.detach(obj)
    obj.held_by = agent.agent_id
    obj.changed()
    agent.held_id = obj.object_id
    fx, fz = forward_vector(agent.yaw)
    sim.move_with_contents(obj, (snap(agent.x + fx * 0.38), snap(agent.camera_y - 0.16), snap(agent.z + fz * 0.38)))


def _release(sim: Simulation, agent: AgentState, obj: SimObject, parent: SimObject, position: tuple[float, float, float]) -> None:
    obj.held_by = None
    agent.held_id = None
    sim.attach(obj, parent)
    sim.move_with_contents(obj, position)
    effects.apply(sim)


@action("PutObject")
def put_object(
    sim: Simulation,
    agent: AgentState,
    objectId: Any = None,
    receptacleObjectId: Any = None,
    forceAction: bool = False,
    placeStationary: bool = True,
    putNearXY: bool = False,
) -> None:
    if putNearXY:
        raise ValueError("PutObject: putNearXY is not supported by the emulator")
    # ai2thor 5: objectId is the receptacle. Older ai2thor (2.x) named the receptacle
    # receptacleObjectId and the held object objectId; code written that way keeps working.
    target_id = receptacleObjectId if receptacleObjectId is not None else objectId
    if target_id is None:
        raise ValueError("PutObject: missing required argument objectId (the receptacle)")
    if agent.held_id is None:
        raise ActionFailed("Can't place an object if Agent isn't holding anything")
    held = sim.objects[agent.held_id]
    if receptacleObjectId is not None and objectId is not None and objectId != held.object_id:
        raise ActionFailed(f"{objectId} is not the object in Agent {agent.agent_id}'s hand")
    recep = sim.get(require_str("objectId", target_id))
    if recep is held or recep in sim.descendants(held):
        raise ActionFailed(f"Cannot put {held.object_id} in/on itself or in something it holds")
    sim.require_interactable(agent, recep, bool(forceAction))
    if not recep.kind.receptacle or recep.held_by is not None:
        raise ActionFailed("This target object is NOT a receptacle!")
    if not forceAction:
        if recep.object_type in MUST_BE_OPEN_TO_PLACE_OBJECTS_IN and recep.kind.openable and not recep.is_open:
            raise ActionFailed(f"{recep.object_id} must be open to place objects in it")
        if not accepts(recep.object_type, held.object_type):
            raise ActionFailed(f"{held.name} is not a valid Object Type to be placed in {recep.name}")
    spot = _free_spot(sim, recep, held, prefer=(agent.x, agent.z))
    if spot is None:
        raise ActionFailed("No valid positions to place object found")
    _release(sim, agent, held, recep, spot)


def _free_spot(sim: Simulation, recep: SimObject, obj: SimObject, prefer: tuple[float, float]) -> tuple[float, float, float] | None:
    surface = surface_of(recep.object_type, recep.box)
    occupied = [sim.objects[c].box for c in recep.children if c != obj.object_id and sim.objects[c].active]
    return find_spot(surface, obj.size, occupied, prefer=prefer, allow_oversize=recep.object_type in OVERHANG_RECEPTACLES)


def _landing(sim: Simulation, agent: AgentState, obj: SimObject, x: float, z: float, below_y: float) -> tuple[SimObject, tuple[float, float, float]]:
    """Where a released object comes to rest: the highest accepting surface under (x, z), else the floor."""
    carried = {o.object_id for o in sim.descendants(obj)} | {obj.object_id}
    hidden = sim.hidden_ids()
    candidates = []
    for r in sim.objects.values():
        if not r.kind.receptacle or r.object_id in carried or r.held_by is not None or not r.active:
            continue
        if r.object_type == "Floor" or r.object_id in hidden:
            continue
        b = r.box
        if not (b.min_x <= x <= b.max_x and b.min_z <= z <= b.max_z):
            continue
        surface = surface_of(r.object_type, b)
        if surface.y > below_y or not accepts(r.object_type, obj.object_type):
            continue
        if r.kind.openable and not r.is_open:
            continue
        candidates.append((surface.y, r))
    for _, r in sorted(candidates, key=lambda c: -c[0]):
        spot = _free_spot(sim, r, obj, prefer=(x, z))
        if spot is not None:
            return r, spot
    floor = next((o for o in sim.objects.values() if o.object_type == "Floor"), None)
    if floor is None:
        raise ActionFailed("No valid positions to place object found")
    if not sim.floor_free(x, z):
        x, z = agent.x, agent.z
    return floor, (snap(x), snap(floor.box.max_y + obj.size[1] / 2), snap(z))


@action("DropHandObject")
def drop_hand_object(sim: Simulation, agent: AgentState, forceAction: bool = False) -> None:
    if agent.held_id is None:
        raise ActionFailed("nothing in hand to drop!")
    held = sim.objects[agent.held_id]
    x, y, z = held.position
    parent, spot = _landing(sim, agent, held, x, z, y)
    _release(sim, agent, held, parent, spot)


@action("ThrowObject")
def throw_object(sim: Simulation, agent: AgentState, moveMagnitude: Any = 150.0, forceAction: bool = False) -> None:
    if agent.held_id is None:
        raise ActionFailed("nothing in hand to throw!")
    strength = require_number("moveMagnitude", moveMagnitude)
    if strength < 0:
        raise ValueError(f"moveMagnitude must be >= 0, got {strength}")
    held = sim.objects[agent.held_id]
    fx, fz = forward_vector(agent.yaw)
    reach = min(3.0, 0.3 + strength / (100.0 * max(held.mass, 0.05)))
    x, z = agent.x, agent.z
    travelled = 0.0
    while travelled + 0.05 <= reach:
        nx, nz = agent.x + fx * (travelled + 0.05), agent.z + fz * (travelled + 0.05)
        if not sim.floor_free(nx, nz):
            break
        x, z, travelled = nx, nz, travelled + 0.05
    floor = next((o for o in sim.objects.values() if o.object_type == "Floor"), None)
    if floor is None:
        raise ActionFailed("No valid positions to place object found")
    _release(sim, agent, held, floor, (snap(x), snap(floor.box.max_y + held.size[1] / 2), snap(z)))
    if held.kind.breakable and strength >= THROW_BREAK_FORCE and not held.is_broken:
        from robocortex.sim.emulator.transforms import break_in_place

        break_in_place(sim, held)


@action("OpenObject")
def open_object(sim: Simulation, agent: AgentState, objectId: Any, openness: Any = 1.0, forceAction: bool = False) -> None:
    amount = require_number("openness", openness)
    if not 0.0 <= amount <= 1.0:
        raise ValueError(f"openness must be in [0, 1], got {amount}")
    obj = interactable_target(sim, agent, objectId, forceAction, "openable", "{id} is not an Openable object")
    if obj.kind.toggleable and obj.is_toggled and amount > 0:
        raise ActionFailed("Target must be OFF to open!")
    obj.is_open = amount > 0.0
    obj.openness = amount
    obj.changed()
    sim.structure_changed()
    effects.apply(sim)


@action("CloseObject")
def close_object(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    obj = interactable_target(sim, agent, objectId, forceAction, "openable", "{id} is not an Openable object")
    obj.is_open = False
    obj.openness = 0.0
    obj.changed()
    sim.structure_changed()
    effects.apply(sim)


def _toggle(sim: Simulation, agent: AgentState, object_id: Any, on: bool, force: Any) -> None:
    obj = sim.get(require_str("objectId", object_id))
    if not obj.kind.toggleable:
        raise ActionFailed("object is not toggleable")
    sim.require_interactable(agent, obj, bool(force))
    if obj.is_toggled == on:
        state = "on" if on else "off"
        raise ActionFailed(f"can't toggle object {state} if it's already {state}!")
    if on and obj.is_broken:
        raise ActionFailed(f"{obj.object_id} is broken and cannot be turned on")
    if on and obj.kind.openable and obj.is_open:
        raise ActionFailed("Target must be closed to Toggle On!")
    obj.is_toggled = on
    obj.changed()
    effects.apply(sim)


@action("ToggleObjectOn")
def toggle_object_on(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    _toggle(sim, agent, objectId, True, forceAction)


@action("ToggleObjectOff")
def toggle_object_off(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    _toggle(sim, agent, objectId, False, forceAction)


@action("Pass", "Done")
def no_op(sim: Simulation, agent: AgentState) -> None:
    return None


