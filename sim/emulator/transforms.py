"""Object state changes: SliceObject, BreakObject, CookObject, DirtyObject, CleanObject,
FillObjectWithLiquid, EmptyLiquidFromObject, UseUpObject."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from robocortex.sim.emulator import effects
from robocortex.sim.emulator.registry import ActionFailed, action, interactable_target, require_str
from robocortex.sim.emulator.state import AgentState, SimObject
from robocortex.knowledge.object_types import FILL_LIQUIDS, SLICES, object_type

if TYPE_CHECKING:
    from robocortex.sim.emulator.engine import Simulation

SLICING_TOOLS = ("Knife", "ButterKnife")



@action("SliceObject")
def slice_object(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    obj = interactable_target(sim, agent, objectId, forceAction, "sliceable", "{name} Does not have the CanBeSliced property!")
    if obj.is_sliced:
        raise ActionFailed(f"{obj.object_id} is already sliced")
    if obj.held_by is not None:
        raise ActionFailed("You cannot slice something while it is being held.")
    held = sim.objects[agent.held_id] if agent.held_id else None
    if not forceAction and (held is None or held.object_type not in SLICING_TOOLS):
        raise ActionFailed("Slice: ObjectInteraction only supported for held object Knife")
    slice_into_pieces(sim, obj)


def piece_layout(
    type_name: str, position: tuple[float, float, float], size: tuple[float, float, float]
) -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    """(centre, size) of each piece a sliced object leaves, side by side in its footprint."""
    slice_type, count = SLICES[type_name]
    if slice_type == "EggCracked":
        return [(position, object_type(slice_type).size)]
    x0, y0, z0 = position
    along_x = size[0] >= size[2]
    length = size[0] if along_x else size[2]
    thickness = max(length / count, 0.005)
    piece = (thickness, size[1], size[2]) if along_x else (size[0], size[1], thickness)
    out = []
    for i in range(count):
        offset = -length / 2 + thickness * (i + 0.5)
        pos = (round(x0 + offset, 4), y0, z0) if along_x else (x0, y0, round(z0 + offset, 4))
        out.append((pos, piece))
    return out


def slice_into_pieces(sim: Simulation, obj: SimObject) -> list[SimObject]:
    """Replace a whole object by its slices, on the same receptacle and in its footprint."""
    slice_type, count = SLICES[obj.object_type]
    kind = object_type(slice_type)
    parent = sim.objects[obj.parent_id] if obj.parent_id else None
    sim.detach(obj)
    obj.is_sliced, obj.active = True, False
    obj.changed()
    pieces = []
    for i, (pos, size) in enumerate(piece_layout(obj.object_type, obj.position, obj.size)):
        piece = SimObject(
            object_id=f"{obj.object_id}|{slice_type}_{i}",
            object_type=slice_type,
            name=f"{slice_type}_{i}_{obj.name.rsplit('_', 1)[-1]}",
            kind=kind,
            position=pos,
            size=size,
            rotation_y=obj.rotation_y,
            mass=round(obj.mass / count, 5),
            asset_id=f"{slice_type}_1",
        )
        piece.is_cooked = obj.is_cooked and kind.cookable
        piece.temperature = obj.temperature
        piece.is_dirty = obj.is_dirty and kind.dirtyable
        sim.add_object(piece, parent)
        pieces.append(piece)
    effects.apply(sim)
    return pieces


def break_in_place(sim: Simulation, obj: SimObject) -> None:
    obj.is_broken = True
    obj.is_filled, obj.fill_liquid = False, None
    obj.changed()


@action("BreakObject")
def break_object(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    obj = interactable_target(sim, agent, objectId, forceAction, "breakable", "{id} is not breakable!")
    if obj.is_broken:
        raise ActionFailed(f"{obj.object_id} is already broken")
    break_in_place(sim, obj)


@action("CookObject")
def cook_object(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    obj = interactable_target(sim, agent, objectId, forceAction, "cookable", "{id} is not cookable")
    if obj.is_cooked:
        raise ActionFailed(f"{obj.object_id} is already cooked")
    obj.is_cooked, obj.temperature = True, "Hot"
    obj.changed()


def _set_dirty(sim: Simulation, agent: AgentState, object_id: Any, dirty: bool, force: Any) -> None:
    obj = sim.get(require_str("objectId", object_id))
    if not obj.kind.dirtyable:
        raise ActionFailed(f"{obj.object_id} is not dirtyable")
    sim.require_interactable(agent, obj, bool(force))
    if obj.is_dirty == dirty:
        raise ActionFailed(f"{obj.object_id} is already {'dirty' if dirty else 'clean'}")
    obj.is_dirty = dirty
    obj.changed()


@action("DirtyObject")
def dirty_object(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    _set_dirty(sim, agent, objectId, True, forceAction)


@action("CleanObject")
def clean_object(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    _set_dirty(sim, agent, objectId, False, forceAction)


@action("FillObjectWithLiquid")
def fill_object_with_liquid(
    sim: Simulation, agent: AgentState, objectId: Any, fillLiquid: Any, forceAction: bool = False
) -> None:
    if fillLiquid not in FILL_LIQUIDS:
        raise ValueError(f"fillLiquid must be one of {', '.join(FILL_LIQUIDS)}, got {fillLiquid!r}")
    obj = interactable_target(sim, agent, objectId, forceAction, "canFillWithLiquid", "{id} cannot be filled with liquid")
    if obj.is_broken:
        raise ActionFailed(f"{obj.object_id} is broken and cannot hold liquid")
    if obj.is_filled:
        raise ActionFailed(f"{obj.object_id} is already filled with {obj.fill_liquid}")
    obj.is_filled, obj.fill_liquid = True, fillLiquid
    obj.changed()


@action("EmptyLiquidFromObject")
def empty_liquid_from_object(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    obj = interactable_target(sim, agent, objectId, forceAction, "canFillWithLiquid", "{id} cannot be filled with liquid")
    if not obj.is_filled:
        raise ActionFailed(f"{obj.object_id} is not filled with liquid")
    obj.is_filled, obj.fill_liquid = False, None
    obj.changed()


@action("UseUpObject")
def use_up_object(sim: Simulation, agent: AgentState, objectId: Any, forceAction: bool = False) -> None:
    obj = interactable_target(sim, agent, objectId, forceAction, "canBeUsedUp", "{id} can not be used up")
    if obj.is_used_up:
        raise ActionFailed(f"{obj.object_id} is already used up")
    obj.is_used_up = True
    obj.changed()
