"""Scene set-up actions, with ai2thor's parameter names: InitialRandomSpawn, SetObjectStates,
SetObjectPoses, GetSpawnCoordinatesAboveReceptacle, PlaceObjectAtPoint.

Failures return lastActionSuccess False with an errorMessage, as AI2-THOR does; where we read
AI2-THOR's own wording (InitialRandomSpawn's argument checks, SetObjectPoses' unknown names) it is
kept, the other messages are ours. A state AI2-THOR refuses (switching on an open microwave,
un-slicing, a state the type does not have) is refused here too.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from robocortex.knowledge.object_types import OBJECT_TYPES
from robocortex.knowledge.placement import SPAWN_ONLY_OUTSIDE_RECEPTACLES
from robocortex.sim.emulator import effects, visibility
from robocortex.sim.emulator.registry import ActionFailed, action, require_number, require_str
from robocortex.sim.emulator.state import AgentState, SimObject
from robocortex.sim.geometry import Box
from robocortex.sim.spawn import spawn_order
from robocortex.sim.surfaces import OVERHANG_RECEPTACLES, find_spot, surface_of

if TYPE_CHECKING:
    from robocortex.sim.emulator.engine import Simulation

# SetObjectStates: stateChange -> (the capability the type needs, the state flag it sets).
STATE_CHANGES = {
    "openable": ("openable", "isOpen"),
    "toggleable": ("toggleable", "isToggled"),
    "breakable": ("breakable", "isBroken"),
    "canFillWithLiquid": ("canFillWithLiquid", "isFilledWithLiquid"),
    "dirtyable": ("dirtyable", "isDirty"),
    "cookable": ("cookable", "isCooked"),
    "sliceable": ("sliceable", "isSliced"),
    "canBeUsedUp": ("canBeUsedUp", "isUsedUp"),
}
SPAWN_POINT_SPACING = 0.1  # metres between GetSpawnCoordinatesAboveReceptacle points


def _string_list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings, got {value!r}")
    return list(value)


def _release_held(sim: Simulation) -> None:
    for agent in sim.agents:
        if agent.held_id is not None:
            sim.objects[agent.held_id].held_by = None
            agent.held_id = None


@action("InitialRandomSpawn")
def initial_random_spawn(
    sim: Simulation,
    agent: AgentState,
    randomSeed: Any = 0,
    forceVisible: bool = False,
    placeStationary: bool = True,
    numDuplicatesOfType: Any = None,
    excludedReceptacles: Any = None,
    excludedObjectIds: Any = None,
    numPlacementAttempts: Any = 5,
    allowFloor: bool = False,
) -> None:
    """Move every pickupable object to a random receptacle its type allows, as AI2-THOR does."""
    if isinstance(randomSeed, bool) or not isinstance(randomSeed, int):
        raise ValueError(f"randomSeed must be an integer, got {randomSeed!r}")
    if isinstance(numPlacementAttempts, bool) or not isinstance(numPlacementAttempts, int):
        raise ValueError(f"numPlacementAttempts must be an integer, got {numPlacementAttempts!r}")
    if numPlacementAttempts <= 0:
        raise ActionFailed("numPlacementAttempts must be a positive integer.")
    excluded_types = set(_string_list("excludedReceptacles", excludedReceptacles))
    for type_name in sorted(excluded_types):
        if type_name not in OBJECT_TYPES:
            raise ActionFailed(f"invalid Object Type used in excludedReceptacles array: {type_name}")
    if not allowFloor:
        excluded_types.add("Floor")
    excluded_ids = set(_string_list("excludedObjectIds", excludedObjectIds))
    for object_id in sorted(excluded_ids):
        if object_id not in sim.objects:
            raise ActionFailed(f"Cannot find sim object with id '{object_id}'")
    wanted = _duplicate_counts(numDuplicatesOfType)
    _release_held(sim)
    rng = random.Random(randomSeed)
    movable = _with_duplicates(sim, rng, wanted, excluded_ids)
    copies = {o.object_id for o in movable if o.object_id not in sim.objects}
    for o in movable:
        if o.object_id in copies:
            sim.add_object(o, None)
    receptacles = [
        o for o in sim.objects.values()
        if o.kind.receptacle and not o.kind.pickupable and o.active and o.object_type not in excluded_types
        and (not forceVisible or o.object_type in SPAWN_ONLY_OUTSIDE_RECEPTACLES)
    ]  # fmt: skip
    homes = {o.object_id: (o.parent_id, o.position) for o in movable}
    for o in movable:
        sim.detach(o)
    rng.shuffle(movable)
    for o in movable:
        for recep in spawn_order(rng, o.object_type, receptacles, lambda r: r.object_type):
            spot = _spot(sim, recep, o, rng=rng, attempts=numPlacementAttempts)
            if spot is not None:
                sim.attach(o, recep)
                sim.move_with_contents(o, spot)
                break
        else:  # as in AI2-THOR, an object that fits nowhere stays where it was; a copy is dropped
            if o.object_id in copies:
                del sim.objects[o.object_id]
                continue
            parent_id, position = homes[o.object_id]
            if parent_id is not None:
                sim.attach(o, sim.objects[parent_id])
            o.moved_to(position)
    sim.structure_changed()
    effects.apply(sim)


def _duplicate_counts(value: Any) -> dict[str, int]:
    """numDuplicatesOfType: [{"objectType": t, "count": n}] -> {t: n}."""
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(v, dict) and {"objectType", "count"} <= set(v) for v in value):
        raise ValueError(f"numDuplicatesOfType must be a list of {{objectType, count}}, got {value!r}")
    counts = {}
    for entry in value:
        type_name, count = entry["objectType"], entry["count"]
        if type_name not in OBJECT_TYPES:
            raise ActionFailed(f"invalid Object Type used in numDuplicatesOfType array: {type_name}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"numDuplicatesOfType count for {type_name} must be a non-negative integer, got {count!r}")
        counts[type_name] = count
    return counts


def _with_duplicates(sim: Simulation, rng: random.Random, wanted: dict[str, int], excluded: set[str]) -> list[SimObject]:
    """The objects to spread: every pickupable one, except that a type with a requested count
    moves only that many of its objects, or all of them plus copies (`<objectId>_copy_<j>`,
    named `<name>_random_copy_<j>`) up to the count, as AI2-THOR's numDuplicatesOfType does."""
    by_type: dict[str, list[SimObject]] = {}
    for o in sim.objects.values():
        if o.kind.pickupable and o.active and o.object_id not in excluded:
            by_type.setdefault(o.object_type, []).append(o)
    chosen: list[SimObject] = []
    for type_name, objects in by_type.items():
        count = wanted.get(type_name, len(objects))
        chosen.extend(objects[:count])
        for j in range(count - len(objects)):
            source = rng.choice(objects)
            chosen.append(SimObject(
                object_id=f"{source.object_id}_copy_{j}", object_type=type_name, name=f"{source.name}_random_copy_{j}",
                kind=source.kind, position=source.position, size=source.size, rotation_y=source.rotation_y,
                mass=source.mass, asset_id=source.asset_id,
            ))  # fmt: skip
    return chosen


def _spot(sim: Simulation, recep: SimObject, obj: SimObject, **how: Any) -> tuple[float, float, float] | None:
    occupied = [sim.objects[c].box for c in recep.children if c != obj.object_id and sim.objects[c].active]
    surface = surface_of(recep.object_type, recep.box)
    return find_spot(surface, obj.size, occupied, allow_oversize=recep.object_type in OVERHANG_RECEPTACLES, **how)


@action("SetObjectStates")
def set_object_states(sim: Simulation, agent: AgentState, SetObjectStates: Any) -> None:
    """Set one state of every object of a type: {"objectType", "stateChange", <state flag>: value}."""
    spec = SetObjectStates
    if not isinstance(spec, dict):
        raise ValueError(f"SetObjectStates must be a dict with objectType and stateChange, got {spec!r}")
    type_name, change = spec.get("objectType"), spec.get("stateChange")
    if type_name is None and change is None:
        raise ActionFailed("action.SetObjectStates has objectType and stateChange strings null. Please pass in valid strings.")
    if change is None:
        raise ActionFailed("action.SetObjectStates is missing stateChange string. If setting objectType, must also specify stateChange")
    if change not in STATE_CHANGES:
        raise ValueError(f"stateChange must be one of {', '.join(STATE_CHANGES)}, got {change!r}")
    capability, flag = STATE_CHANGES[change]
    unknown = set(spec) - {"objectType", "stateChange", flag}
    if unknown:
        raise ValueError(f"SetObjectStates: {sorted(unknown)} do not go with stateChange {change!r} (it sets {flag})")
    value = spec.get(flag)
    if not isinstance(value, bool):
        raise ValueError(f"SetObjectStates: {flag} must be true or false for stateChange {change!r}")
    targets = [o for o in sim.objects.values() if o.object_type == type_name and o.active]
    if type_name not in OBJECT_TYPES or not targets:
        raise ActionFailed(f"SetObjectStates: no object of type {type_name!r} in this scene")
    if not getattr(targets[0].kind, capability):
        raise ActionFailed(f"{type_name} is not {capability}: it has no {flag} state")
    for o in targets:
        _check_state(o, flag, value)
    for o in targets:
        _set_state(sim, o, flag, value)
    sim.structure_changed()
    effects.apply(sim)


def _check_state(o: SimObject, flag: str, value: bool) -> None:
    """Refuse what AI2-THOR refuses: irreversible changes undone, appliances open and running."""
    if not value and flag in ("isSliced", "isBroken", "isCooked", "isUsedUp") and getattr_state(o, flag):
        raise ActionFailed(f"{o.object_id}: {flag} cannot be undone once true")
    if value and flag == "isToggled" and o.kind.openable and o.is_open:
        raise ActionFailed(f"{o.object_id} is open: Target must be closed to Toggle On!")
    if value and flag == "isOpen" and o.kind.toggleable and o.is_toggled:
        raise ActionFailed(f"{o.object_id} is on: Target must be OFF to open!")
    if value and flag == "isSliced" and o.held_by is not None:
        raise ActionFailed("You cannot slice something while it is being held.")
    if value and flag == "isFilledWithLiquid" and o.is_broken:
        raise ActionFailed(f"{o.object_id} is broken and cannot hold liquid")


_FIELDS = {
    "isOpen": "is_open", "isToggled": "is_toggled", "isBroken": "is_broken", "isFilledWithLiquid": "is_filled",
    "isDirty": "is_dirty", "isCooked": "is_cooked", "isSliced": "is_sliced", "isUsedUp": "is_used_up",
}  # fmt: skip


def getattr_state(o: SimObject, flag: str) -> bool:
    return bool(getattr(o, _FIELDS[flag]))


def _set_state(sim: Simulation, o: SimObject, flag: str, value: bool) -> None:
    if getattr_state(o, flag) == value:
        return
    if flag == "isSliced":
        from robocortex.sim.emulator.transforms import slice_into_pieces

        slice_into_pieces(sim, o)
        return
    setattr(o, _FIELDS[flag], value)
    if flag == "isOpen":
        o.openness = 1.0 if value else 0.0
    if flag == "isFilledWithLiquid":
        o.fill_liquid = "water" if value else None
    if flag == "isBroken" and value:
        o.is_filled, o.fill_liquid = False, None
    if flag == "isCooked" and value:
        o.temperature = "Hot"
    o.changed()


@action("SetObjectPoses")
def set_object_poses(sim: Simulation, agent: AgentState, objectPoses: Any, placeStationary: bool = True) -> None:
    """Place pickupable and moveable objects by name; those not listed leave the scene, a name
    listed twice gets a copy (`<objectId>_copy_<i>`), as in AI2-THOR."""
    if not isinstance(objectPoses, list):
        raise ValueError(f"objectPoses must be a list of {{objectName, position, rotation}}, got {objectPoses!r}")
    by_name = {o.name: o for o in sim.objects.values() if o.active}
    errors = []
    poses = []
    for k, pose in enumerate(objectPoses):
        if not isinstance(pose, dict) or "objectName" not in pose or "position" not in pose:
            raise ValueError(f"objectPoses[{k}] must have objectName and position, got {pose!r}")
        o = by_name.get(pose["objectName"])
        if o is None:
            errors.append(f"No Pickupable or Moveable object of name {pose['objectName']} found in scene.")
        elif not (o.kind.pickupable or o.kind.moveable):
            errors.append(f"{o.name} is not a Moveable or Pickupable object. SetObjectPoses only works with Moveable and Pickupable sim objects.")
        else:
            poses.append((k, o, _vector("position", pose["position"]), pose.get("rotation")))
    _release_held(sim)
    listed = {id(o) for _, o, _, _ in poses}
    for o in [o for o in sim.objects.values() if (o.kind.pickupable or o.kind.moveable) and o.active]:
        if id(o) not in listed:
            _remove(sim, o)
    placed: set[str] = set()
    for k, original, position, rotation in poses:
        o = original if original.object_id not in placed else _copy(sim, original, k)
        placed.add(original.object_id)
        sim.detach(o)
        o.moved_to(position)
        if isinstance(rotation, dict) and "y" in rotation:
            o.rotation_y = require_number("rotation.y", rotation["y"])
        recep = _receptacle_under(sim, o)
        if recep is not None:
            sim.attach(o, recep)
    sim.structure_changed()
    effects.apply(sim)
    if errors:
        raise ActionFailed(errors[-1])


def _vector(name: str, value: Any) -> tuple[float, float, float]:
    if not isinstance(value, dict) or not {"x", "y", "z"} <= set(value):
        raise ValueError(f"{name} must be a dict with x, y and z, got {value!r}")
    return (require_number(f"{name}.x", value["x"]), require_number(f"{name}.y", value["y"]), require_number(f"{name}.z", value["z"]))


def _remove(sim: Simulation, o: SimObject) -> None:
    for child in list(o.children):
        sim.detach(sim.objects[child])
    sim.detach(o)
    del sim.objects[o.object_id]
    sim.structure_changed()


def _copy(sim: Simulation, o: SimObject, k: int) -> SimObject:
    copy = SimObject(
        object_id=f"{o.object_id}_copy_{k}", object_type=o.object_type, name=f"{o.name}_copy_{k}", kind=o.kind,
        position=o.position, size=o.size, rotation_y=o.rotation_y, mass=o.mass, asset_id=o.asset_id,
    )  # fmt: skip
    sim.add_object(copy, None)
    return copy


def _receptacle_under(sim: Simulation, o: SimObject, tolerance: float = 0.05) -> SimObject | None:
    """The receptacle whose resting surface is right under `o` (the highest one), if any."""
    x, _, z = o.position
    bottom = o.box.min_y
    best, best_y = None, -1e9
    for r in sim.objects.values():
        if r is o or not r.kind.receptacle or not r.active or r.held_by is not None or r in sim.descendants(o):
            continue
        b = r.box
        if not (b.min_x <= x <= b.max_x and b.min_z <= z <= b.max_z):
            continue
        y = surface_of(r.object_type, b).y
        if y - tolerance <= bottom <= b.max_y + tolerance and y > best_y:
            best, best_y = r, y
    return best


@action("GetSpawnCoordinatesAboveReceptacle")
def get_spawn_coordinates_above_receptacle(
    sim: Simulation, agent: AgentState, objectId: Any, anywhere: bool = False
) -> list[dict[str, float]]:
    """Points on the receptacle's resting surface; without `anywhere`, only those the agent sees."""
    recep = sim.get(require_str("objectId", objectId))
    if not recep.kind.receptacle:
        raise ActionFailed(f"{recep.object_id} is not a Receptacle")
    surface = surface_of(recep.object_type, recep.box)
    view = visibility.agent_view(sim, agent)
    blockers = visibility.near(view, sim.occluders())
    points = []
    nx = max(1, int((surface.max_x - surface.min_x) / SPAWN_POINT_SPACING))
    nz = max(1, int((surface.max_z - surface.min_z) / SPAWN_POINT_SPACING))
    for i in range(nx + 1):
        for j in range(nz + 1):
            x = surface.min_x + (surface.max_x - surface.min_x) * i / nx
            z = surface.min_z + (surface.max_z - surface.min_z) * j / nz
            point = (round(x, 4), round(surface.y, 4), round(z, 4))
            if not anywhere:
                marker = SimObject("point", "Floor", "", recep.kind, point, (0.001, 0.001, 0.001), 0.0, 0.0, "")
                marker.parent_id = recep.object_id
                shut = recep.kind.openable and not recep.is_open  # nothing inside a closed door is in view
                if shut or recep.object_id in sim.hidden_ids() or not visibility.sees(sim, view, marker, blockers):
                    continue
            points.append({"x": point[0], "y": point[1], "z": point[2]})
    return points


@action("PlaceObjectAtPoint")
def place_object_at_point(
    sim: Simulation, agent: AgentState, objectId: Any, position: Any, rotation: Any = None, forceKinematic: bool = False
) -> None:
    """Put a pickupable or moveable object with its bottom at `position`, on the receptacle there."""
    o = sim.get(require_str("objectId", objectId))
    point = _vector("position", position)
    if not (o.kind.pickupable or o.kind.moveable):
        raise ActionFailed(f"{o.object_id} is not a pickupable or moveable object")
    if o.held_by is not None:
        raise ActionFailed(f"{o.object_id} is in an agent's hand: drop it first")
    target = (point[0], point[1] + o.size[1] / 2, point[2])
    old_parent, old_position = o.parent_id, o.position
    sim.detach(o)
    sim.move_with_contents(o, target)
    recep = _receptacle_under(sim, o, tolerance=0.02)
    footprint = Box(target[0] - o.size[0] / 2, 0, target[2] - o.size[2] / 2, target[0] + o.size[0] / 2, 0, target[2] + o.size[2] / 2)
    clash = None
    if recep is not None:
        s = surface_of(recep.object_type, recep.box)
        inside = s.min_x - 1e-6 <= footprint.min_x and footprint.max_x <= s.max_x + 1e-6 and s.min_z - 1e-6 <= footprint.min_z and footprint.max_z <= s.max_z + 1e-6
        if not inside and recep.object_type not in OVERHANG_RECEPTACLES:
            clash = f"{o.object_id} does not fit on {recep.object_id} at that point"
        for c in recep.children:
            if c != o.object_id and sim.objects[c].active and footprint.overlaps_xz(sim.objects[c].box, margin=-1e-6):
                clash = f"{c} is in the way at that point"
    if recep is None or clash is not None:
        sim.move_with_contents(o, old_position)
        if old_parent is not None:
            sim.attach(o, sim.objects[old_parent])
        raise ActionFailed(clash or f"no receptacle surface at ({point[0]:g}, {point[1]:g}, {point[2]:g}) to place {o.object_id} on")
    if isinstance(rotation, dict) and "y" in rotation:
        o.rotation_y = require_number("rotation.y", rotation["y"])
    sim.attach(o, recep)
    effects.apply(sim)
