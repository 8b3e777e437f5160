"""The planning prompt: scene graph serialised compactly, robots, skills, and repair feedback."""

from __future__ import annotations

import json
from typing import Any

from cerebellum.skills import SKILLS
from memory.schemas import SceneSnapshot

from brain.planner import PlanRequest

_FLAGS = ("isOpen", "isToggled", "isSliced", "isCooked", "isDirty", "isFilledWithLiquid", "isBroken", "isPickedUp")
_AFFORD = {"pickupable": "pick", "receptacle": "recep", "openable": "open", "toggleable": "toggle",
           "sliceable": "slice", "cookable": "cook", "breakable": "break", "dirtyable": "dirty",
           "canFillWithLiquid": "fill"}

SYSTEM = (
    "You are the planner of a team of household robots. Turn the user's task into a JSON plan: "
    '{"goals": [...], "subtasks": [...], "reasoning": "..."}. A goal is either '
    '{"object": TYPE_OR_ID, "relation": "in"|"on", "target": TYPE_OR_ID} or '
    '{"object": TYPE_OR_ID, "state": FLAG, "value": true|false}. A subtask is '
    '{"id": str, "robot": ROBOT, "description": str, "depends_on": [ids], "steps": [{"skill": SKILL, "args": {...}}]}. '
    "Use only objectIds, robots and skills listed below; give each robot only skills it has; respect payloads; "
    "independent subtasks go to different robots with no dependency so they run in parallel; open closed "
    "receptacles before putting things in them. Answer with the JSON object only."
)


def compact_scene(snapshot: SceneSnapshot, relevant_types: set[str] | None = None) -> str:
    """One line per node: id, type, flags that are true, affordances, parent. Only task-relevant
    nodes (and their receptacles) when `relevant_types` is given, which keeps large scenes short."""
    nodes = snapshot.node_dicts()
    keep: set[str] = set()
    for nid, n in nodes.items():
        if n.get("kind") != "object":
            continue
        if relevant_types is None or n.get("objectType") in relevant_types:
            keep.add(nid)
            keep.update(r["target"] for r in n.get("relations") or [])
    lines = []
    for nid in sorted(keep):
        n = nodes.get(nid)
        if not n:
            continue
        flags = [f for f in _FLAGS if n.get(f)]
        aff = [a for k, a in _AFFORD.items() if n.get(k)]
        parent = ",".join(f"{r['rel']}:{r['target']}" for r in n.get("relations") or [] if r["rel"] in ("in", "on"))
        mass = f" {n['mass']:.2g}kg" if n.get("pickupable") and n.get("mass") else ""
        lines.append(f"{nid} [{'/'.join(aff)}]{mass}" + (f" {' '.join(flags)}" if flags else "")
                     + (f" {parent}" if parent else ""))
    return "\n".join(lines)


def relevant_types(instruction: str, snapshot: SceneSnapshot) -> set[str] | None:
    """Object types the instruction mentions (by words or synonyms); None = keep everything."""
    from brain.offline import SYNONYMS, _words

    text = instruction.lower()
    types = {n.objectType for n in snapshot.objects() if n.objectType}
    found = {t for t in types if _words(t) in text or t.lower() in text}
    for word, candidates in SYNONYMS.items():
        if word in text:
            found.update(c for c in candidates if c in types)
    return found or None


def build_messages(request: PlanRequest, large_scene: int = 60) -> list[dict[str, Any]]:
    snap = request.snapshot
    focus = relevant_types(request.instruction, snap) if len(snap.objects()) > large_scene else None
    robots = "\n".join(
        f"{r.name}: {r.embodiment}, {r.mobility}, payload {r.payload_kg} kg, skills {','.join(r.skills)}"
        + _pose(snap, r.name) for r in request.robots
    )
    skills = "\n".join(f"{s.name}({', '.join(s.args.model_fields)}): {s.description}" for s in SKILLS.values())
    user = (f"Task: {request.instruction}\n\nRobots:\n{robots}\n\nSkills:\n{skills}\n\n"
            f"Scene objects (id [affordances] mass flags parent):\n{compact_scene(snap, focus)}")
    if request.feedback:
        user += "\n\nYour previous plan was rejected:\n- " + "\n- ".join(request.feedback) + "\nFix it."
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _pose(snapshot: SceneSnapshot, robot: str) -> str:
    node = snapshot.nodes.get(robot)
    if node is None or node.position is None:
        return ""
    held = getattr(node, "holding", None)
    return f", at ({node.position.x:.2f}, {node.position.z:.2f})" + (f", holding {held}" if held else "")


def naive_prompt(snapshot: SceneSnapshot) -> str:
    """The baseline the compact prompt is measured against: the whole graph as JSON."""
    return json.dumps(snapshot.model_dump(mode="json"))
