"""The planning prompt: robots, skills and the scene graph, serialised compactly, plus repairs.

One line per object: `id [affordances] mass flags parent`. AI2-THOR objectIds already end with the
object's position (`Apple|+00.20|+00.95|-01.10`), so positions are written only for ids that do
not carry them. Once a scene is large, only the objects the task is about are listed (the types it
names, the tools its verbs need, what robots hold, and the receptacles holding all of those).
"""

from __future__ import annotations

import json
import re
from typing import Any

from robocortex.cerebellum.skills import SKILLS
from robocortex.memory.schemas import RobotProfile, SceneSnapshot

from robocortex.brain.planner import PlanRequest
from robocortex.brain.vocabulary import Vocabulary

LARGE_SCENE = 60  # objects; above this the scene list keeps only task-relevant ones
_FLAGS = ("isOpen", "isToggled", "isSliced", "isCooked", "isDirty", "isFilledWithLiquid", "isBroken", "isPickedUp")
_AFFORD = {"pickupable": "pick", "receptacle": "recep", "openable": "open", "toggleable": "toggle",
           "sliceable": "slice", "cookable": "cook", "breakable": "break", "dirtyable": "dirty",
           "canFillWithLiquid": "fill"}
_POSITIONED_ID = re.compile(r"\|[+-]\d+\.\d+\|[+-]\d+\.\d+\|[+-]\d+\.\d+$")

SYSTEM = (
    "You are the planner of a team of household robots. Turn the user's task into a JSON plan: "
    '{"goals": [...], "subtasks": [...], "reasoning": "..."}. A goal is either '
    '{"object": TYPE_OR_ID, "relation": "in"|"on", "target": TYPE_OR_ID} or '
    '{"object": TYPE_OR_ID, "state": FLAG, "value": true|false} with FLAG one of isOpen, isToggled, isSliced, '
    "isCooked, isDirty, isFilledWithLiquid, isBroken. A subtask is "
    '{"id": str, "robot": ROBOT, "description": str, "depends_on": [ids], "steps": [{"skill": SKILL, "args": {...}}]}. '
    "Use only objectIds, robots and skills listed below; give each robot only skills it has; respect payloads; "
    "independent subtasks go to different robots with no dependency so they run in parallel; a subtask that "
    "needs another's result depends on it; open closed receptacles before putting things in them; slicing needs "
    "a Knife in hand; cook puts held food in the appliance and runs it. Answer with the JSON object only."
)


def _keep(snapshot: SceneSnapshot, instruction: str) -> set[str] | None:
    """Ids of the task-relevant objects, or None to keep everything (small scene, or no match)."""
    nodes = snapshot.node_dicts()
    objects = [n for n in nodes.values() if n.get("kind") == "object"]
    if len(objects) <= LARGE_SCENE:
        return None
    types = Vocabulary({n["objectType"] for n in objects if n.get("objectType")}).mentioned(instruction)
    held = {n.get("holding") for n in nodes.values() if n.get("kind") == "robot"}
    keep = {n["id"] for n in objects if n.get("objectType") in types or n["id"] in held}
    if not keep:
        return None
    frontier = list(keep)
    while frontier:  # the receptacles holding them, transitively: where things are matters
        for r in nodes.get(frontier.pop(), {}).get("relations") or []:
            if r["rel"] in ("in", "on") and r["target"] not in keep:
                keep.add(r["target"])
                frontier.append(r["target"])
    return keep


def _object_line(n: dict[str, Any]) -> str:
    parts = [n["id"]]
    if n.get("position") and not _POSITIONED_ID.search(n["id"]):
        parts.append(f"@{n['position']['x']:.2f},{n['position']['z']:.2f}")
    aff = [a for k, a in _AFFORD.items() if n.get(k)]
    if aff:
        parts.append(f"[{'/'.join(aff)}]")
    if n.get("pickupable") and n.get("mass"):
        parts.append(f"{n['mass']:.2g}kg")
    parts += [f for f in _FLAGS if n.get(f)]
    parts += [f"{r['rel']}:{r['target']}" for r in n.get("relations") or [] if r["rel"] in ("in", "on")]
    return " ".join(parts)


def compact_scene(snapshot: SceneSnapshot, instruction: str = "") -> str:
    """The object list for the prompt; large scenes keep only what the instruction is about."""
    nodes = snapshot.node_dicts()
    keep = _keep(snapshot, instruction)
    objects = sorted((n for n in nodes.values() if n.get("kind") == "object"), key=lambda n: n["id"])
    lines = [_object_line(n) for n in objects if keep is None or n["id"] in keep]
    if keep is not None:
        others = sorted({n["objectType"] for n in objects if n["id"] not in keep})
        lines.append(f"({len(objects) - len(keep)} objects not listed, of types: {', '.join(others)})")
    return "\n".join(lines)


def _robot_line(profile: RobotProfile, snapshot: SceneSnapshot, status: str | None) -> str:
    node = snapshot.nodes.get(profile.name)
    skills = "all" if set(SKILLS) <= set(profile.skills) else ",".join(profile.skills)
    line = f"{profile.name}: {profile.embodiment}, {profile.mobility}, payload {profile.payload_kg:g}kg"
    if node is not None and node.position is not None:
        line += f", at {node.position.x:.2f},{node.position.z:.2f}"
    held = node.flag("holding") if node is not None else None
    line += f", holding {held}" if held else ""
    line += f", {status}" if status else ""
    return line + f"; skills: {skills}"


def _skill_line(name: str) -> str:
    skill = SKILLS[name]
    props = skill.args.model_json_schema().get("properties", {})
    args = [f"{arg}={'|'.join(p['enum'])}" if "enum" in p else arg for arg, p in props.items()]
    return f"{name}({', '.join(args)}): {skill.description}"


def task_message(request: PlanRequest) -> str:
    snap = request.snapshot
    robots = "\n".join(_robot_line(r, snap, request.robot_status.get(r.name)) for r in request.robots)
    skills = "\n".join(_skill_line(name) for name in SKILLS)
    text = (f"Task: {request.instruction}\n\nRobots:\n{robots}\n\nSkills:\n{skills}\n\n"
            f"Scene objects at revision {snap.rev} (objectId ends with x|y|z in metres; [affordances], mass, "
            f"true flags, parent):\n{compact_scene(snap, request.instruction)}")
    if request.feedback and not request.previous_reply:  # a replan after execution: say what happened
        text += "\n\nThis is a replan. What happened so far:\n- " + "\n- ".join(request.feedback)
    return text


def build_messages(request: PlanRequest) -> list[dict[str, Any]]:
    """System + task; a repair adds the rejected answer and the reasons, as a conversation."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": task_message(request)}]
    if request.previous_reply:
        messages += [
            {"role": "assistant", "content": request.previous_reply},
            {"role": "user", "content": "That plan was rejected:\n- " + "\n- ".join(request.feedback)
             + "\nAnswer with the corrected JSON plan only."},
        ]
    return messages


def naive_scene(snapshot: SceneSnapshot) -> str:
    """The baseline the compact scene is measured against: the whole graph as JSON."""
    return json.dumps(snapshot.model_dump(mode="json"))
