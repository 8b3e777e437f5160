"""What an agent sees: range, the camera's view frustum (horizontal and vertical field of view,
pitched by the camera horizon) and occlusion by furniture, closed doors and appliances.

AI2-THOR decides visibility by ray-casting from the camera to visibility points on each object.
The emulator does the same with boxes: an object is seen when one of a few points of its box
(`geometry.view_points`) is in range, inside the frustum, and the straight line to it crosses no
occluder. Occluders are the boxes of objects that cannot be picked up (counters, cabinets,
fridges, tables, appliances...), except see-through ones (windows, shower glass) and doors and
curtains while they are open. An object is never hidden by its own receptacles or by furniture
whose box contains it (a shelving unit around its shelves). Cabinets, drawers, fridges and
microwaves are seen through their fronts; objects under 8 cm through their centre.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from robocortex.sim.geometry import Box, View, segment_hits_box, shrink, view_points

if TYPE_CHECKING:
    from robocortex.sim.emulator.engine import Simulation
    from robocortex.sim.emulator.state import AgentState, SimObject

SEE_THROUGH = frozenset({"Floor", "Window", "ShowerGlass", "Mirror", "LightSwitch", "Painting", "Poster"})
SEE_THROUGH_WHEN_OPEN = frozenset({"ShowerDoor", "ShowerCurtain", "Blinds", "Curtains"})
# Furniture with doors or drawer fronts, seen through its front (never its top under a counter).
SEEN_THROUGH_FRONT = frozenset({"Cabinet", "Drawer", "Fridge", "Microwave", "Safe"})
SMALL_EXTENT = 0.08  # objects no bigger than this are seen through their centre
OCCLUDER_MIN_EXTENT = 0.2  # objects smaller than this in every dimension never hide anything
_TOUCH_MARGIN = 0.01  # occluders shrink by this so that what rests on or against them stays visible


def occluders(sim: Simulation) -> list[tuple[str, Box]]:
    """(objectId, shrunk box) of every object that can hide what lies behind it."""
    out = []
    for o in sim.objects.values():
        if o.kind.pickupable or not o.active or o.object_type in SEE_THROUGH:
            continue
        if o.object_type in SEE_THROUGH_WHEN_OPEN and o.is_open:
            continue
        if max(o.size) < OCCLUDER_MIN_EXTENT:
            continue
        out.append((o.object_id, shrink(o.box, _TOUCH_MARGIN)))
    return out


def near(view: View, boxes: Iterable[tuple[str, Box]]) -> list[tuple[str, Box]]:
    """The occluders a line of sight of this view can cross (some point within range)."""
    reach = view.max_distance * view.max_distance
    out = []
    for object_id, b in boxes:
        dx = max(b.min_x - view.x, 0.0, view.x - b.max_x)
        dy = max(b.min_y - view.y, 0.0, view.y - b.max_y)
        dz = max(b.min_z - view.z, 0.0, view.z - b.max_z)
        if dx * dx + dy * dy + dz * dz <= reach:
            out.append((object_id, b))
    return out


def sees(sim: Simulation, view: View, obj: SimObject, blockers: list[tuple[str, Box]]) -> bool:
    """Whether `obj` (not hidden in a closed receptacle) is seen from `view` past `blockers`."""
    points = view_points(view, obj.box, _through(obj))
    if not points:
        return False
    if not blockers:
        return True
    own = {obj.object_id}
    parent_id = obj.parent_id
    while parent_id is not None:
        own.add(parent_id)
        parent_id = sim.objects[parent_id].parent_id
    cx, cy, cz = obj.position
    relevant = [
        b for object_id, b in blockers
        if object_id not in own and not (b.min_x <= cx <= b.max_x and b.min_y <= cy <= b.max_y and b.min_z <= cz <= b.max_z)
    ]  # fmt: skip
    for px, py, pz in points:
        if not any(segment_hits_box(view.x, view.y, view.z, px, py, pz, b) for b in relevant):
            return True
    return False


def _through(obj: SimObject) -> str:
    if obj.object_type in SEEN_THROUGH_FRONT:
        return "front"
    return "centre" if max(obj.size) <= SMALL_EXTENT else "face"


def agent_view(sim: Simulation, agent: AgentState) -> View:
    return View.of(
        agent.x, agent.camera_y, agent.z, agent.yaw, agent.horizon,
        sim.field_of_view, sim.visibility_distance, sim.width / sim.height,
    )  # fmt: skip
