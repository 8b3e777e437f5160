"""Perception: turns what a robot observes (AI2-THOR metadata) into scene-graph deltas.

Only what the robot can see (plus what it holds and its own pose) is written: the scene graph is
the team's shared, partial knowledge of the world, not a copy of the simulator.
"""

from __future__ import annotations

from typing import Any, Iterable

from robocortex.memory.schemas import AFFORDANCES, STATE_FLAGS, NodePatch, RobotProfile, SceneDelta, SceneNode

from robocortex.knowledge.placement import IN_RECEPTACLES

_OBJECT_FIELDS = STATE_FLAGS + AFFORDANCES + ("temperature", "mass", "fillLiquid", "openness", "controlledObjects")


def object_fields(obj: dict[str, Any], types_by_id: dict[str, str]) -> dict[str, Any]:
    """The scene-graph fields of one AI2-THOR object record."""
    fields = {k: obj[k] for k in _OBJECT_FIELDS if k in obj}
    if "temperature" not in fields and "ObjectTemperature" in obj:
        fields["temperature"] = obj["ObjectTemperature"]
    fields.update(kind="object", objectType=obj["objectType"], position=obj.get("position"))
    relations = []
    for parent in obj.get("parentReceptacles") or []:
        rel = "in" if types_by_id.get(parent, parent.split("|")[0]) in IN_RECEPTACLES else "on"
        relations.append({"rel": rel, "target": parent})
    fields["relations"] = relations
    return fields


def robot_fields(metadata: dict[str, Any], profile: RobotProfile | None = None) -> dict[str, Any]:
    agent = metadata.get("agent", {})
    held = [o["objectId"] for o in metadata.get("inventoryObjects") or []]
    fields: dict[str, Any] = {
        "kind": "robot",
        "agent_id": metadata.get("agentId", profile.agent_id if profile else 0),
        "position": agent.get("position"),
        "rotation": (agent.get("rotation") or {}).get("y"),
        "horizon": agent.get("cameraHorizon"),
        "holding": held[0] if held else None,
        "relations": [{"rel": "holding", "target": h} for h in held],
    }
    if profile is not None:
        fields.update(
            embodiment=profile.embodiment, skills=profile.skills, payload_kg=profile.payload_kg,
            mobility=profile.mobility,
        )
    return fields


def observe(metadata: dict[str, Any], robot: str, profile: RobotProfile | None = None,
            everything: bool = False, also: Iterable[str] = (), acted_on: Iterable[str] = ()) -> SceneDelta:
    """The delta for one observation: visible and held objects, and the robot itself.

    `also` names objects the robot knows about without seeing them (what just left its hand: it
    knows where it put it). `acted_on` names objects the robot just handled: it knows their state,
    what is inside them and what they control (the potato in the microwave it switched on, the
    burner under the knob), and that they are gone when the world no longer lists them (sliced
    away in AI2-THOR). `everything=True` writes every object (seeding from a known scene).
    """
    objects = metadata.get("objects") or []
    by_id = {o["objectId"]: o for o in objects}
    types_by_id = {o["objectId"]: o["objectType"] for o in objects}
    acted = list(acted_on)
    known = {o["objectId"] for o in metadata.get("inventoryObjects") or []} | set(also) | _reached_from(acted, by_id)
    patches = [
        NodePatch(id=o["objectId"], set=object_fields(o, types_by_id))
        for o in objects
        if everything or o.get("visible") or o["objectId"] in known
    ]
    patches += [NodePatch(id=oid, remove=True) for oid in acted if oid not in by_id]
    patches.append(NodePatch(id=robot, set=robot_fields(metadata, profile)))
    return SceneDelta(patches=patches, source=f"perception:{robot}")


def _reached_from(roots: list[str], by_id: dict[str, dict[str, Any]]) -> set[str]:
    """The roots, their contents and what they control, transitively."""
    seen: set[str] = set()
    frontier = [r for r in roots if r in by_id]
    while frontier:
        oid = frontier.pop()
        if oid in seen:
            continue
        seen.add(oid)
        obj = by_id[oid]
        for nxt in (obj.get("receptacleObjectIds") or []) + (obj.get("controlledObjects") or []):
            if nxt in by_id:
                frontier.append(nxt)
    return seen


def nodes_from_metadata(metadata: dict[str, Any]) -> list[SceneNode]:
    """Every object of a full metadata dump as scene nodes (world seeding, ground-truth checks)."""
    objects = metadata.get("objects") or []
    types_by_id = {o["objectId"]: o["objectType"] for o in objects}
    return [SceneNode(id=o["objectId"], **object_fields(o, types_by_id)) for o in objects]


def changed_only(delta: SceneDelta, known: dict[str, dict[str, Any]]) -> SceneDelta:
    """Drop patches that would not change what the robot last wrote (keeps the change log lean)."""
    kept: list[NodePatch] = []
    for patch in delta.patches:
        if patch.remove:
            known.pop(patch.id, None)
            kept.append(patch)
        elif known.get(patch.id) != patch.set:
            kept.append(patch)
            known[patch.id] = patch.set
    return SceneDelta(patches=kept, source=delta.source)
