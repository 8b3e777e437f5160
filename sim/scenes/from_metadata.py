"""Scenes imported from a recorded AI2-THOR `event.metadata` dump (e.g. after `Initialize`).

Objects keep their objectIds, names, boxes, containment and states. The dump has no reachable
grid, so free floor is derived from the footprints of floor-standing furniture, as for generated
scenes; the agent starts where the dump's agent stood.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from robocortex.sim.geometry import cell_of
from robocortex.knowledge.object_types import OBJECT_TYPES
from robocortex.sim.scenes.builder import SceneBuilder
from robocortex.sim.scenes.spec import AgentStart, SceneSpec

_STATE_FIELDS = {
    "isOpen": "isOpen", "openness": "openness", "isToggled": "isToggled", "isDirty": "isDirty",
    "isCooked": "isCooked", "isBroken": "isBroken", "isSliced": "isSliced", "isUsedUp": "isUsedUp",
    "isFilledWithLiquid": "isFilledWithLiquid", "fillLiquid": "fillLiquid", "mass": "mass",
}  # fmt: skip


def load_metadata_dump(path: str | Path, name: str | None = None) -> SceneSpec:
    return scene_from_metadata(json.loads(Path(path).read_text()), name=name)


def scene_from_metadata(metadata: dict[str, Any], name: str | None = None) -> SceneSpec:
    records = [o for o in metadata["objects"] if o["objectType"] in OBJECT_TYPES]
    known = {o["objectId"] for o in records}
    center, size = metadata["sceneBounds"]["center"], metadata["sceneBounds"]["size"]
    bounds = (center["x"] - size["x"] / 2, center["z"] - size["z"] / 2, center["x"] + size["x"] / 2, center["z"] + size["z"] / 2)
    scene_name = name or metadata.get("sceneName") or "Imported"
    b = SceneBuilder(scene_name, "Imported", bounds, random.Random(scene_name), height=size["y"])
    by_id = {o["objectId"]: o for o in records}
    parent_of = {o["objectId"]: _direct_parent(o, by_id, known) for o in records}
    for object_id in _parents_first(parent_of):
        o = by_id[object_id]
        box = o["axisAlignedBoundingBox"]
        c, s = box["center"], box["size"]
        state = {k: o[f] for f, k in _STATE_FIELDS.items() if f in o}
        state["temperature"] = o.get("temperature") or o.get("ObjectTemperature") or "RoomTemp"
        parent_id = parent_of[object_id]
        stands = not o["pickupable"] and o["objectType"] != "Floor" and c["y"] - s["y"] / 2 < 0.15 and s["y"] > 0.3
        spec = b.add(
            o["objectType"], (c["x"], c["y"], c["z"]), (s["x"], s["y"], s["z"]),
            yaw=float(o["rotation"]["y"]), parent=b.by_id.get(parent_id) if parent_id else None,
            blocks_floor=stands, object_id=object_id, **state,
        )  # fmt: skip
        spec.name = o["name"]
        spec.asset_id = o.get("assetId") or ""
        spec.controlled_ids = [c for c in o.get("controlledObjects") or [] if c in known] if o["toggleable"] else None
    spec_out = b.build()
    agent = metadata["agent"]
    start = AgentStart(agent["position"]["x"], agent["position"]["z"], float(agent["rotation"]["y"]), float(agent["cameraHorizon"]))
    spec_out.free_cells = spec_out.free_cells | {cell_of(start.x, start.z)}
    spec_out.agent_starts = [start, *spec_out.agent_starts]
    return spec_out


def _direct_parent(o: dict[str, Any], by_id: dict[str, dict[str, Any]], known: set[str]) -> str | None:
    """The innermost listed receptacle (AI2-THOR may list several); one parent per object here."""
    parents = [p for p in (o.get("parentReceptacles") or []) if p in known]
    if not parents:
        return None

    def volume(pid: str) -> float:
        s = by_id[pid]["axisAlignedBoundingBox"]["size"]
        return s["x"] * s["y"] * s["z"]

    return min(parents, key=volume)


def _parents_first(parent_of: dict[str, str | None]) -> list[str]:
    order: list[str] = []
    placed: set[str] = set()

    def visit(object_id: str, trail: frozenset[str]) -> None:
        if object_id in placed:
            return
        parent = parent_of[object_id]
        if parent is not None and parent not in trail:
            visit(parent, trail | {object_id})
        elif parent is not None:
            parent_of[object_id] = None  # break a containment cycle
        placed.add(object_id)
        order.append(object_id)

    for object_id in parent_of:
        visit(object_id, frozenset())
    return order

