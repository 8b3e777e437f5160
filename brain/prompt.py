"""The planning prompts: robots, skills and the scene graph, serialised compactly, plus repairs.

Two modes: `goals` (the default) asks only for the goals of the task in the goal language
(brain/goal_language.py) — a search planner plans them; `plan` asks for RoboBrain 2.0's native
multi-robot plan. The scene can be written at three levels of detail, so the prompt can be fitted to
a small context: 0 every object of a small scene (task-relevant ones of a large scene), 1 the
task-relevant objects only, 2 the object types and how many of each.

One line per object: `id [affordances] mass flags parent`. AI2-THOR objectIds already end with the
object's position (`Apple|+00.20|+00.95|-01.10`), so positions are written only for ids that do
not carry them. Once a scene is large, only the objects the task is about are listed (the types it
names, the tools its verbs need, what robots hold, and the receptacles holding all of those).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from robocortex.cerebellum.skills import SKILLS
from robocortex.memory.schemas import RobotProfile, SceneSnapshot

from robocortex.brain.goal_language import categories
from robocortex.brain.planner import PlanRequest
from robocortex.brain.vocabulary import Vocabulary

LARGE_SCENE = 60  # objects; above this the scene list keeps only task-relevant ones
SHORT_HISTORY = 4  # a replan's events kept when the prompt must be shortened
_FLAGS = ("isOpen", "isToggled", "isSliced", "isCooked", "isDirty", "isFilledWithLiquid", "isBroken", "isPickedUp")
_AFFORD = {"pickupable": "pick", "receptacle": "recep", "openable": "open", "toggleable": "toggle",
           "sliceable": "slice", "cookable": "cook", "breakable": "break", "dirtyable": "dirty",
           "canFillWithLiquid": "fill"}
_POSITIONED_ID = re.compile(r"\|[+-]\d+\.\d+\|[+-]\d+\.\d+\|[+-]\d+\.\d+$")

SYSTEM = (
    "You are the planner of a team of household robots. Turn the user's task into a JSON plan: "
    '{"goals": [...], "subtasks": [...], "reasoning": "..."}. A goal is either '
    '{"subject": {"type": TYPE} or {"id": ID}, "condition": {"relation": "in"|"on", "target": {"type": TYPE} or '
    '{"id": ID}}} or {"subject": ..., "condition": {"state": FLAG, "value": true|false}} with FLAG one of isOpen, '
    "isToggled, isSliced, isCooked, isDirty, isFilledWithLiquid, isBroken. A subtask is "
    '{"id": str, "robot": ROBOT, "description": str, "depends_on": [ids], "steps": [{"skill": SKILL, "args": {...}}]}. '
    "Use only objectIds, robots and skills listed below; give each robot only skills it has; respect payloads; "
    "independent subtasks go to different robots with no dependency so they run in parallel; a subtask that "
    "needs another's result depends on it; open closed receptacles before putting things in them; slicing needs "
    "a Knife in hand; cook puts held food in the appliance and runs it. Answer with the JSON object only."
)


PLAN_SHAPE = ('{"goals": [...], "subtasks": [{"id": str, "robot": ROBOT, "description": str, "depends_on": [ids], '
              '"steps": [{"skill": SKILL, "args": {...}}]}], "reasoning": str}')
GOALS_SHAPE = ('{"goals": [{"subject": SELECTOR, "condition": CONDITION, "stage": 0}], "reasoning": str} with '
               'SELECTOR {"type": TYPE} or {"id": OBJECT_ID} or {"category": CATEGORY} (+ "quantifier") and CONDITION '
               'exactly one of {"relation": "in"|"on"|"in_or_on", "target": SELECTOR}, {"state": FLAG, "value": bool}, '
               '{"held": true}, {"temperature": "Hot"|"Cold"|"RoomTemp"} (+ "negate": true)')
GOALS_SYSTEM = (
    "You turn a household task into goals: conditions on the scene that must hold when the task is done. "
    "A planner then finds the robots' actions, so never write actions.\n"
    "Answer with one JSON object: {\"goals\": [GOAL, ...], \"reasoning\": \"one short sentence\"}.\n"
    "GOAL = {\"subject\": SELECTOR, \"condition\": CONDITION, \"stage\": 0}. stage 1 = only after the stage-0 goals "
    "hold (\"then\").\n"
    "SELECTOR = {\"type\": OBJECT_TYPE} or {\"id\": OBJECT_ID} or {\"category\": CATEGORY}; add \"quantifier\": "
    "\"all\" (every one), \"a\" (any one), \"exactly\" / \"at_least\" with \"count\": N; \"piece\": true for a slice; "
    "\"states\": {FLAG: bool} to pick e.g. the dirty ones.\n"
    "CONDITION = exactly one of {\"relation\": \"in\"|\"on\"|\"in_or_on\", \"target\": SELECTOR}, "
    "{\"state\": FLAG, \"value\": true|false}, {\"held\": true}, {\"temperature\": \"Hot\"|\"Cold\"|\"RoomTemp\"}; "
    "add \"negate\": true for \"not\" / \"nothing\".\n"
    "FLAG = isOpen, isToggled (switched on), isSliced, isCooked, isDirty, isFilledWithLiquid, isBroken, isUsedUp.\n"
    "Use only object types and ids of the scene below (categories: " + "{categories}" + ").\n"
    "Examples:\n"
    "Task: put the apple in the fridge\n"
    '{"goals": [{"subject": {"type": "Apple"}, "condition": {"relation": "in", "target": {"type": "Fridge"}}, '
    '"stage": 0}], "reasoning": "the apple goes in the fridge"}\n'
    "Task: switch off all the lights, then put a slice of tomato on a plate\n"
    '{"goals": [{"subject": {"category": "lights", "quantifier": "all"}, "condition": {"state": "isToggled", '
    '"value": false}, "stage": 0}, {"subject": {"type": "Tomato", "piece": true, "quantifier": "a"}, "condition": '
    '{"relation": "on", "target": {"type": "Plate"}}, "stage": 1}], "reasoning": "lights off first"}\n'
    "Task: clear the dining table\n"
    '{"goals": [{"subject": {"quantifier": "all"}, "condition": {"relation": "on", "target": {"type": "DiningTable"}, '
    '"negate": true}, "stage": 0}], "reasoning": "nothing may stay on the table"}'
)
THINK = ("\nFirst think step by step inside <think>…</think>, then give the JSON object inside "
         "<answer>…</answer>.")


def _keep(snapshot: SceneSnapshot, instruction: str, large: int = LARGE_SCENE) -> set[str] | None:
    """Ids of the task-relevant objects, or None to keep everything (small scene, or no match)."""
    nodes = snapshot.node_dicts()
    objects = [n for n in nodes.values() if n.get("kind") == "object"]
    if len(objects) <= large:
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


def compact_scene(snapshot: SceneSnapshot, instruction: str = "", level: int = 0) -> str:
    """The object list for the prompt; large scenes (any scene from level 1) keep only what the
    instruction is about; level 2 names only the types, with counts."""
    nodes = snapshot.node_dicts()
    if level >= 2:
        counts = Counter(n.get("objectType") for n in nodes.values() if n.get("kind") == "object")
        return ", ".join(f"{t}×{c}" if c > 1 else str(t) for t, c in sorted(counts.items()))
    keep = _keep(snapshot, instruction, LARGE_SCENE if level == 0 else 0)
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


def _scene_section(request: PlanRequest, level: int) -> str:
    snap = request.snapshot
    if level >= 2:
        return f"Object types in the scene (×count):\n{compact_scene(snap, request.instruction, level)}"
    return (f"Scene objects at revision {snap.rev} (objectId ends with x|y|z in metres; [affordances], mass, "
            f"true flags, parent):\n{compact_scene(snap, request.instruction, level)}")


def _robots(request: PlanRequest) -> str:
    return "\n".join(_robot_line(r, request.snapshot, request.robot_status.get(r.name)) for r in request.robots)


def task_message(request: PlanRequest, level: int = 0, mode: str = "plan") -> str:
    if mode == "goals":
        text = f"Task: {request.instruction}\n\nRobots:\n{_robots(request)}\n\n{_scene_section(request, level)}"
    else:
        skills = "\n".join(_skill_line(name) for name in SKILLS)
        text = (f"Task: {request.instruction}\n\nRobots:\n{_robots(request)}\n\nSkills:\n{skills}\n\n"
                f"{_scene_section(request, level)}")
    if request.feedback and not request.previous_reply:  # a replan after execution: say what happened
        feedback = request.feedback if level == 0 else request.feedback[-SHORT_HISTORY:]  # shorter history to fit
        skipped = len(request.feedback) - len(feedback)
        text += ("\n\nThis is a replan. What happened so far:\n- " + (f"({skipped} earlier events left out)\n- "
                 if skipped else "") + "\n- ".join(feedback))
    return text


def system_message(mode: str = "plan", think: bool = False) -> str:
    text = GOALS_SYSTEM.replace("{categories}", ", ".join(sorted(categories()))) if mode == "goals" else SYSTEM
    return text + (THINK if think else "")


def build_messages(request: PlanRequest, mode: str = "plan", level: int = 0, think: bool = False) -> list[dict[str, Any]]:
    """System + task; a repair adds the rejected answer and the reasons, as a conversation, and
    restates the shape of the answer."""
    messages = [{"role": "system", "content": system_message(mode, think)},
                {"role": "user", "content": task_message(request, level, mode)}]
    if request.previous_reply:
        shape = GOALS_SHAPE if mode == "goals" else PLAN_SHAPE
        messages += [
            {"role": "assistant", "content": request.previous_reply},
            {"role": "user", "content": "That answer was rejected:\n- " + "\n- ".join(request.feedback)
             + f"\nAnswer again with one JSON object of this shape: {shape}"
             + ("\nThink inside <think>…</think>, then give the JSON inside <answer>…</answer>." if think else
                "\nThe JSON object only.")},
        ]
    return messages


def estimate_tokens(messages: list[dict[str, Any]]) -> int:
    """A cautious token count without the model's tokenizer: ids and JSON run about 3 characters a
    token in BPE vocabularies; each message costs a few tokens of chat template."""
    return sum(len(m.get("content") or "") // 3 + 8 for m in messages)


def naive_scene(snapshot: SceneSnapshot) -> str:
    """The baseline the compact scene is measured against: the whole graph as JSON."""
    return json.dumps(snapshot.model_dump(mode="json"))
