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

from typing import TYPE_CHECKING, Callable, Iterable

from robocortex.sim.geometry import Box, View, iter_view_points, segment_hits_box, shrink

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


Occluder = tuple[str, Box, float, float, float, float]  # objectId, shrunk box, bounding-sphere centre and radius


def occluders(sim: Simulation) -> list[Occluder]:
    """Every object that can hide what lies behind it, with its shrunk box and bounding sphere."""
    out = []
    for o in sim.objects.values():
        if o.kind.pickupable or not o.active or o.object_type in SEE_THROUGH:
            continue
        if o.object_type in SEE_THROUGH_WHEN_OPEN and o.is_open:
            continue
        if max(o.size) < OCCLUDER_MIN_EXTENT:
            continue
        x, y, z = o.position
        out.append((o.object_id, shrink(o.box, _TOUCH_MARGIN), x, y, z, o.radius))
    return out


def near(view: View, boxes: Iterable[Occluder]) -> list[tuple[str, Box]]:
    """The occluders a line of sight of this view can cross (some point within range)."""
    reach = view.max_distance
    vx, vy, vz = view.x, view.y, view.z
    out = []
    for object_id, b, x, y, z, r in boxes:
        dx, dy, dz = x - vx, y - vy, z - vz
        if dx * dx + dy * dy + dz * dz <= (reach + r) * (reach + r):
            out.append((object_id, b))
    return out


def sees(sim: Simulation, view: View, obj: SimObject, blockers: list[tuple[str, Box]] | Callable[[], list[tuple[str, Box]]]) -> bool:
    """Whether `obj` (not hidden in a closed receptacle) is seen from `view` past `blockers`
    (or a function giving them, called only when some point of `obj` is in view)."""
    points = iter_view_points(view, obj.box, _through(obj), (obj.position, obj.radius))
    first = next(points, None)
    if first is None:
        return False
    if callable(blockers):
        blockers = blockers()
    if not blockers:
        return True
    own = {obj.object_id}
    parent_id = obj.parent_id
    while parent_id is not None:
        own.add(parent_id)
        parent_id = sim.objects[parent_id].parent_id
    cx, cy, cz = obj.position
    ob = obj.box  # lines of sight stay inside the box spanning the camera and the object
    lo_x, lo_y, lo_z = min(view.x, ob.min_x), min(view.y, ob.min_y), min(view.z, ob.min_z)
    hi_x, hi_y, hi_z = max(view.x, ob.max_x), max(view.y, ob.max_y), max(view.z, ob.max_z)
    relevant = [
        b for object_id, b in blockers
        if b.max_x > lo_x and b.min_x < hi_x and b.max_y > lo_y and b.min_y < hi_y and b.max_z > lo_z and b.min_z < hi_z
        and object_id not in own and not (b.min_x <= cx <= b.max_x and b.min_y <= cy <= b.max_y and b.min_z <= cz <= b.max_z)
    ]  # fmt: skip
    if not relevant:
        return True
    for px, py, pz in (first, *points):
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
