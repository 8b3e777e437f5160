"""AI2-THOR `event.metadata` dicts built from emulator state.

Built per step, so it has to be cheap: each object's pose- and agent-independent fields are
cached on the object until its state changes; only `distance`, `visible` and `isInteractable` are
computed per agent and step. Records report the union of the fields of AI2-THOR's metadata
schema and of a recorded AI2-THOR dump (`temperature` and `ObjectTemperature`, `obstructed`,
`isInteractable`, `openness`, `assetId`, `controlledObjects`; top-level `colorBounds` and `arm`).
Nested dicts may be shared between events: treat metadata as read-only.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from robocortex.sim.emulator import visibility
from robocortex.sim.geometry import box_corner_points, forward_vector
from robocortex.sim.emulator.state import AgentState, SimObject

if TYPE_CHECKING:
    from robocortex.sim.emulator.engine import Simulation


def _xyz(x: float, y: float, z: float) -> dict[str, float]:
    return {"x": x, "y": y, "z": z}


def static_record(o: SimObject) -> dict[str, Any]:
    """Every field of an object record that does not depend on the observing agent."""
    if o.record is not None:
        return o.record
    k = o.kind
    box = o.box
    aabb = {
        "center": _xyz(*o.position),
        "cornerPoints": box_corner_points(box),
        "size": _xyz(box.max_x - box.min_x, box.max_y - box.min_y, box.max_z - box.min_z),
    }
    oobb = {"cornerPoints": box_corner_points(box)} if (k.pickupable or k.moveable) else None
    record = {
        "name": o.name,
        "position": _xyz(*o.position),
        "rotation": _xyz(0.0, o.rotation_y, 0.0),
        "visible": False,
        "isInteractable": False,
        "obstructed": False,
        "receptacle": k.receptacle,
        "toggleable": k.toggleable,
        "isToggled": o.is_toggled,
        "breakable": k.breakable,
        "isBroken": o.is_broken,
        "canFillWithLiquid": k.canFillWithLiquid,
        "isFilledWithLiquid": o.is_filled,
        "fillLiquid": o.fill_liquid,
        "dirtyable": k.dirtyable,
        "isDirty": o.is_dirty,
        "canBeUsedUp": k.canBeUsedUp,
        "isUsedUp": o.is_used_up,
        "cookable": k.cookable,
        "isCooked": o.is_cooked,
        "temperature": o.temperature,
        "ObjectTemperature": o.temperature,
        "isHeatSource": k.isHeatSource,
        "isColdSource": k.isColdSource,
        "sliceable": k.sliceable,
        "isSliced": o.is_sliced,
        "openable": k.openable,
        "isOpen": o.is_open,
        "openness": o.openness,
        "pickupable": k.pickupable,
        "isPickedUp": o.held_by is not None,
        "moveable": k.moveable,
        "mass": o.mass,
        "salientMaterials": list(k.materials) if k.materials else None,
        "receptacleObjectIds": list(o.children) if k.receptacle else None,
        "distance": 0.0,
        "objectType": o.object_type,
        "objectId": o.object_id,
        "assetId": o.asset_id,
        "parentReceptacles": [o.parent_id] if o.parent_id else None,
        "controlledObjects": list(o.controlled_ids) if o.controlled_ids is not None else None,
        "isMoving": False,
        "axisAlignedBoundingBox": aabb,
        "objectOrientedBoundingBox": oobb,
    }
    o.record = record
    return record


def object_records(sim: Simulation, agent: AgentState) -> list[dict[str, Any]]:
    """Per-agent object records; the hot loop of every step, hence the inlined arithmetic."""
    cam_y = agent.camera_y
    view = visibility.agent_view(sim, agent)
    vis_d = sim.visibility_distance
    hidden = sim.hidden_ids()
    ax, ay, az = agent.x, agent.y, agent.z
    me = agent.agent_id
    blockers: list[Any] | None = None

    def near() -> list[Any]:  # the occluders around this camera, found once per step when needed
        nonlocal blockers
        if blockers is None:
            blockers = visibility.near(view, sim.occluders())
        return blockers

    out = []
    append = out.append
    sqrt = math.sqrt
    for o in sim.objects.values():
        rec = (o.record or static_record(o)).copy()
        px, py, pz = o.position
        dx, dy, dz = px - ax, py - ay, pz - az
        rec["distance"] = sqrt(dx * dx + dy * dy + dz * dz)
        if o.held_by is not None:
            seen = o.held_by == me
        elif o.object_id in hidden:
            seen = False
        else:
            dy = py - cam_y
            # Bounding-sphere rejection first: most objects are out of range.
            reach = vis_d + o.radius
            if dx * dx + dy * dy + dz * dz > reach * reach:
                seen = False
            else:
                seen = visibility.sees(sim, view, o, near)
        if seen:
            rec["visible"] = rec["isInteractable"] = True
        append(rec)
    return out


def agent_metadata(sim: Simulation, agent: AgentState) -> dict[str, Any]:
    """The complete metadata dict AI2-THOR would return for `agent` after its last action."""
    held = sim.objects.get(agent.held_id) if agent.held_id else None
    fx, fz = forward_vector(agent.yaw)
    cam = _xyz(agent.x, agent.camera_y, agent.z)
    hand = _xyz(agent.x + fx * 0.38, agent.camera_y - 0.16, agent.z + fz * 0.38)
    min_x, min_z, max_x, max_z = sim.spec.bounds
    h = sim.spec.height
    scene_box = sim.scene_box
    return {
        "objects": object_records(sim, agent),
        "isSceneAtRest": True,
        "agent": {
            "name": "agent",
            "position": _xyz(agent.x, agent.y, agent.z),
            "rotation": _xyz(0.0, agent.yaw, 0.0),
            "cameraHorizon": agent.horizon,
            "isStanding": agent.standing,
            "inHighFrictionArea": False,
        },
        "heldObjectPose": {
            "position": hand,
            "rotation": _xyz(0.0, agent.yaw, 0.0),
            "localPosition": _xyz(0.0, -0.16, 0.38),
            "localRotation": _xyz(0.0, 0.0, 0.0),
        },
        "arm": None,
        "fov": sim.field_of_view,
        "cameraPosition": cam,
        "cameraOrthSize": 0.0,
        "thirdPartyCameras": [],
        "collided": False,
        "collidedObjects": [],
        "inventoryObjects": [{"objectId": held.object_id, "objectType": held.object_type}] if held else [],
        "sceneName": sim.spec.name,
        "lastAction": agent.last_action,
        "errorMessage": agent.error_message,
        "errorCode": None,
        "lastActionSuccess": agent.last_success,
        "screenWidth": sim.width,
        "screenHeight": sim.height,
        "agentId": agent.agent_id,
        "colors": None,
        "colorBounds": None,
        "flatSurfacesOnGrid": [],
        "distances": [],
        "normals": [],
        "isOpenableGrid": [],
        "segmentedObjectIds": [],
        "objectIdsInBox": [],
        "actionIntReturn": 0,
        "actionFloatReturn": 0.0,
        "actionStringsReturn": [],
        "actionFloatsReturn": [],
        "actionVector3sReturn": [],
        "visibleRange": None,
        "actionReturn": agent.action_return,
        "currentTime": sim.current_time,
        "sceneBounds": {
            "center": _xyz((min_x + max_x) / 2, h / 2, (min_z + max_z) / 2),
            "cornerPoints": box_corner_points(scene_box),
            "size": _xyz(max_x - min_x, h, max_z - min_z),
        },
    }
