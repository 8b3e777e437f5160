"""Evaluation suites: tasks with ground-truth final-state conditions, written in YAML or JSON.

A suite is checked when it is loaded, against the scenes it names: a task whose goals or
instruction name an object its scene lacks, or whose goals ask for a placement AI2-THOR forbids or
for something already true, is rejected with the task id and the reason. A broken suite fails
before any run instead of showing up as a planner failure halfway through a benchmark.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from robocortex.memory.schemas import STATE_FLAGS
from robocortex.knowledge.object_types import OBJECT_TYPES, object_type
from robocortex.knowledge.placement import accepts
from robocortex.sim.initial_state import check_initial_state

from robocortex.evaluation.scenes import Nodes, agent_capacity, initial_nodes, room_of
from robocortex.agents.world_host import world_init
from robocortex.brain.goal_language import Selector, ancestors, categories, load_yaml, piece_type
from robocortex.brain.goals import goal_holds
from robocortex.brain.plan import Goal
from robocortex.cerebellum.profiles import ProfileSpec, resolve_profile

Category = Literal["elemental", "simple", "compound", "complex"]
CATEGORIES: tuple[str, ...] = ("elemental", "simple", "compound", "complex")
# How the instruction is phrased (the language corpus's classes, docs/language.md), for tasks that say.
Phrasing = Literal["list", "multi_verb", "ellipsis", "reference", "quantifier", "category", "outcome", "condition",
                   "polite", "synonym", "order", "negation", "pieces"]
PHRASINGS: tuple[str, ...] = Phrasing.__args__  # type: ignore[attr-defined]
# The affordance an object needs for a state goal on it to make sense.
STATE_NEEDS = {
    "isOpen": "openable", "isToggled": "toggleable", "isSliced": "sliceable", "isCooked": "cookable",
    "isDirty": "dirtyable", "isFilledWithLiquid": "canFillWithLiquid", "isBroken": "breakable",
    "isPickedUp": "pickupable", "isUsedUp": "canBeUsedUp",
}  # fmt: skip


class SuiteError(ValueError):
    """A suite that cannot be used as written; the message says which task and what to fix."""


SetupAction = Literal["InitialRandomSpawn", "SetObjectStates", "SetObjectPoses", "PlaceObjectAtPoint",
                      "GetSpawnCoordinatesAboveReceptacle"]


class SetupStep(BaseModel):
    """One AI2-THOR set-up action of a task's initial state: its name and ai2thor's own parameters,
    e.g. {action: SetObjectStates, SetObjectStates: {objectType: Fridge, stateChange: openable, isOpen: true}}."""

    model_config = ConfigDict(extra="allow")

    action: SetupAction


class TaskSpec(BaseModel):
    """One task: where, with which robots, what to ask, and what must hold in the world after."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    scene: str = Field(min_length=1)
    category: Category
    phrasing: Phrasing | None = Field(default=None, description="the instruction's phrasing class (docs/language.md)")
    robots: list[str] = Field(min_length=1, max_length=8, description="robot profile names; robots are robot1..N")
    instruction: str = Field(min_length=1)
    goals: list[Goal] = Field(min_length=1, description="ground truth, checked in the world's final state")
    timeout_s: float | None = Field(default=None, gt=0, description="default: the suite's timeout_s")
    initial_state: list[SetupStep] = Field(
        default_factory=list, description="AI2-THOR set-up actions run right after the scene is loaded")
    note: str = ""

    @property
    def room(self) -> str:
        return room_of(self.scene)

    def initial_steps(self) -> list[dict[str, Any]]:
        """The initial state as the plain dicts `apply_initial_state` and AI2-THOR take."""
        return [step.model_dump(mode="json") for step in self.initial_state]


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    timeout_s: float = Field(default=240.0, gt=0, description="per task, unless the task says otherwise")
    tasks: list[TaskSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Suite":
        seen: set[str] = set()
        twice = sorted({t.id for t in self.tasks if t.id in seen or seen.add(t.id)})  # type: ignore[func-returns-value]
        if twice:
            raise ValueError(f"task ids must be unique; repeated: {', '.join(twice)}")
        return self

    def timeout_for(self, task: TaskSpec) -> float:
        return task.timeout_s or self.timeout_s


# --------------------------------------------------------------------------- loading


def builtin_suites() -> list[str]:
    folder = resources.files("robocortex.evaluation") / "suites"
    return sorted(p.name.rsplit(".", 1)[0] for p in folder.iterdir() if p.name.endswith((".yaml", ".yml", ".json")))


def _source(ref: str) -> tuple[str, str]:
    """(text, name) of a suite given as a file path or a built-in suite name."""
    path = Path(ref)
    if path.is_file():
        return path.read_text(), path.name
    folder = resources.files("robocortex.evaluation") / "suites"
    for ext in (".yaml", ".yml", ".json"):
        candidate = folder / f"{ref}{ext}"
        if candidate.is_file():
            return candidate.read_text(), candidate.name
    raise SuiteError(f"unknown suite {ref!r}: give a .yaml or .json file, or one of: {', '.join(builtin_suites())}")


def parse_suite(text: str, name: str = "suite") -> Suite:
    """The suite in `text` (YAML, or JSON which is YAML too), checked for shape only."""
    try:
        data = json.loads(text) if name.endswith(".json") else load_yaml(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise SuiteError(f"{name}: not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        if where.startswith("tasks."):
            index = first["loc"][1]
            task_id = (data.get("tasks") or [{}])[index].get("id", f"#{index}") if isinstance(index, int) else ""
            where = f"task {task_id}: {'.'.join(str(p) for p in first['loc'][2:]) or 'task'}"
        raise SuiteError(f"{name}: {where}: {first['msg']}"
                         + (f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else "")) from None


def load_suite(ref: str, *, profiles: dict[str, ProfileSpec] | None = None, thor_data: str | None = None) -> Suite:
    """Load a suite by file path or built-in name and check every task against its scene."""
    text, name = _source(ref)
    suite = parse_suite(text, name)
    problems = [p for task in suite.tasks for p in task_problems(task, profiles, thor_data)]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise SuiteError(f"{name}: {problems[0]}{more}")
    return suite


# --------------------------------------------------------------------------- checking against the scene


def task_problems(task: TaskSpec, profiles: dict[str, ProfileSpec] | None = None,
                  thor_data: str | None = None) -> list[str]:
    """Everything wrong with `task` in its scene, one sentence each, starting with the task id."""
    problems: list[str] = []
    for name in task.robots:
        try:
            resolve_profile(name, profiles)
        except ValueError as exc:
            problems.append(str(exc))
    steps = task.initial_steps()
    if steps:  # the goals are judged on the scene as the steps leave it, so a refused state ends here
        layouts = world_init(task.scene, thor_data, "emulator").get("layouts_dir")
        try:
            refused = check_initial_state(task.scene, steps, layouts)
        except ValueError as exc:  # a scene that cannot be built
            refused = [str(exc)]
        if refused:
            return [f"task {task.id}: {p}" for p in [*problems, *(f"initial state: {r}" for r in refused)]]
    try:
        nodes = initial_nodes(task.scene, thor_data, steps)
        capacity = agent_capacity(task.scene, thor_data)
    except ValueError as exc:
        return [f"task {task.id}: {p}" for p in [*problems, str(exc)]]
    if len(task.robots) > capacity:
        problems.append(f"{len(task.robots)} robots but scene {task.scene} has room for {capacity}")
    problems += [p for g in task.goals for p in goal_problems(g, nodes, task.scene, task.goals)]
    problems += [f"the instruction names {w!r}, and scene {task.scene} has no {w}"
                 for w in absent_mentions(task.instruction, nodes)]
    if not problems:  # a goal true from the start would score work nobody did
        problems += [f"goal {g.describe()!r} already holds at the start" for g in task.goals
                     if not g.when and goal_holds(nodes, g, task.goals)]
        problems += [f"goal {g.describe()!r}: its condition does not hold at the start, so nothing would be asked"
                     for g in task.goals if g.when and not all(goal_holds(nodes, w, g.when) for w in g.when)]
    return [f"task {task.id}: {p}" for p in problems]


def _selected(sel: Selector, nodes: Nodes) -> list[dict[str, Any]]:
    """The objects `sel` picks (for a piece selector, the whole objects the pieces come from)."""
    whole = sel.model_copy(update={"piece": False}) if sel.piece else sel
    picked = [n for n in nodes.values() if whole.matches(n, nodes)]
    if not (sel.type or sel.category or sel.id or sel.ids is not None):
        picked = [n for n in picked if n.get("pickupable")]  # "everything": what can be carried
    return picked


def _selector_problem(sel: Selector, nodes: Nodes, scene: str) -> str | None:
    if sel.category is not None and sel.category not in categories():
        return f"unknown category {sel.category!r}; use one of {', '.join(sorted(categories()))}"
    for ref in [sel.id, sel.type, *(sel.ids or [])]:
        if ref and not any(n.get("id") == ref or n.get("objectType") == ref for n in nodes.values()):
            return f"scene {scene} has no {ref}"
    picked = _selected(sel, nodes)
    if not picked:
        return f"scene {scene} has no {sel.describe()}"
    if sel.piece and not all(n.get("sliceable") for n in picked):
        return f"a {picked[0]['objectType']} cannot be sliced, so it has no pieces"
    if sel.quantifier in ("exactly", "at_least") and (sel.count or 0) > len(picked):
        return f"{sel.describe()}: scene {scene} has only {len(picked)}"
    if sel.located is not None:
        return _selector_problem(sel.located.target, nodes, scene)
    return None


def _stuck(goal: Goal, picked: list[dict[str, Any]], targets: list[dict[str, Any]], nodes: Nodes,
           where: str) -> list[str]:
    """For "X not in/on Y": the objects now in Y that AI2-THOR allows nowhere else in the scene (a
    pillow in a room whose only pillow place is the bed) — only a robot holding them forever would do."""
    target_ids = {t["id"] for t in targets}
    sel = goal.subject
    if not (sel.type or sel.category or sel.id or sel.ids is not None):  # the world's check reads "anything"
        fixed = [n["objectType"] for n in sel.select(nodes) if not n.get("pickupable")
                 and any(a["id"] in target_ids for a in ancestors(nodes, n))]
        if fixed:
            return [f"{where}: the {_phrase(fixed[0])} there cannot be moved; say category 'pickupables' "
                    "for what can be carried"]
    elsewhere = [n for n in nodes.values() if n.get("receptacle") and n["id"] not in target_ids]
    inside = [n for n in picked if any(a["id"] in target_ids for a in ancestors(nodes, n))]
    stuck = [n["objectType"] for n in inside
             if n.get("pickupable") and not any(accepts(r["objectType"], n["objectType"]) for r in elsewhere)]
    if stuck and (goal.subject.quantifier == "all" or len(stuck) == len(inside)):
        return [f"{where}: AI2-THOR's placement rules allow a {stuck[0]} nowhere else in the scene"]
    return []


def goal_problems(goal: Goal, nodes: Nodes, scene: str, goals: list[Goal] | None = None) -> list[str]:
    """Why `goal` cannot be checked or achieved in `scene` (empty when it can).

    Selectors must pick something the scene has; a placement needs a receptacle that AI2-THOR's
    placement rules allow for every object `all` asks for (for one of them otherwise); a state needs
    the affordance; `held` a pickupable object."""
    where = f"goal {goal.describe()!r}"
    subject = goal.subject
    problem = _selector_problem(subject, nodes, scene)
    if problem:
        return [f"{where}: {problem}"]
    if subject.quantifier == "rest" and (subject.rest_of is None or subject.rest_of >= len(goals or [])):
        return [f"{where}: 'rest' refers to goal {subject.rest_of}, which the task does not have"]
    for w in goal.when:
        problems = goal_problems(w, nodes, scene, goal.when)
        if problems:
            return [f"{where}: condition {p}" for p in problems]
    picked = _selected(subject, nodes)
    types = sorted({piece_type(n["objectType"]) if subject.piece else n["objectType"] for n in picked})
    every = subject.quantifier == "all"
    cond = goal.condition
    if cond.relation is not None:
        assert cond.target is not None
        problem = _selector_problem(cond.target, nodes, scene)
        if problem:
            return [f"{where}: {problem}"]
        targets = [t for t in _selected(cond.target, nodes) if t.get("receptacle")]
        if not targets:
            return [f"{where}: nothing can be put in or on a {cond.target.describe()}"]
        if cond.negate:
            return _stuck(goal, picked, targets, nodes, where)
        allowed = [t for t in types if any(accepts(r["objectType"], t) for r in targets)]
        refused = [t for t in types if t not in allowed]
        if (every and refused) or not allowed:
            return [f"{where}: AI2-THOR's placement rules do not allow a {refused[0]} in or on a "
                    f"{targets[0]['objectType']}"]
        return []
    if cond.held is not None:
        if cond.held != cond.negate and not all(n.get("pickupable") for n in picked) and (every or not any(
                n.get("pickupable") for n in picked)):
            return [f"{where}: a {picked[0]['objectType']} cannot be picked up"]
        return []
    if cond.temperature is not None:
        return []
    if cond.state not in STATE_FLAGS:
        return [f"{where}: unknown state {cond.state!r}; use one of {', '.join(STATE_FLAGS)}"]
    need = STATE_NEEDS[cond.state]
    if subject.piece:
        able = [t for t in types if object_type(t).flags().get(need)] if need != "sliceable" else []
    else:
        able = [n["objectType"] for n in picked if n.get(need)]
    wants_change = cond.value != cond.negate
    if not able and (wants_change or subject.piece):
        return [f"{where}: a {types[0]} is not {need}"]
    if every and wants_change and len(set(able)) < len(set(types)):
        lacking = sorted(set(types) - set(able))
        return [f"{where}: a {lacking[0]} is not {need}"]
    return []


def crowded_placements(task: TaskSpec, thor_data: str | None = None) -> list[str]:
    """Placements whose receptacle has no free footprint left for the objects the goals move there,
    by the emulator's placement geometry (objects already on it and staying count as taken).

    Not a load error: a team can make room ("the dresser is full: move the watch first"), and one
    built-in task asks exactly that; a suite author checks their tasks with it."""
    from robocortex.agents.world_host import world_init
    from robocortex.sim.emulator import EmulatorWorld
    from robocortex.sim.geometry import Box
    from robocortex.sim.surfaces import find_spot, surface_of

    world = EmulatorWorld()
    world.reset(task.scene, len(task.robots), **world_init(task.scene, thor_data, "emulator"))
    sim = world.simulation
    assert sim is not None
    nodes = initial_nodes(task.scene, thor_data)
    wanted: list[tuple[list[str], list[str]]] = []
    for g in task.goals:
        cond = g.condition
        if cond.relation is None or cond.negate or g.subject.piece or cond.target is None:
            continue
        ids = sorted((str(n["id"]) for n in _selected(g.subject, nodes)),
                     key=lambda i: sim.objects[i].size[0] * sim.objects[i].size[2])
        q, n = g.subject.quantifier, g.subject.count
        take = ids if q in ("all", "rest") else ids[:n if q in ("exactly", "at_least") and n else 1]
        targets = [str(t["id"]) for t in _selected(cond.target, nodes) if t.get("receptacle")]
        wanted.append((take, targets))
    moving = {i for take, _ in wanted for i in take}
    placed: dict[str, list[Box]] = {}
    problems = []
    for take, targets in wanted:
        for oid in sorted(take, key=lambda i: -sim.objects[i].size[0] * sim.objects[i].size[2]):
            obj = sim.objects[oid]
            if any(oid in sim.objects[t].children for t in targets):
                continue
            for t in targets:
                recep = sim.objects[t]
                if not accepts(recep.object_type, obj.object_type):
                    continue
                taken = [sim.objects[c].box for c in recep.children if c not in moving and sim.objects[c].active]
                spot = find_spot(surface_of(recep.object_type, recep.box), obj.size, taken + placed.get(t, []),
                                 allow_oversize=recep.object_type in ("Mug", "Cup", "Bowl", "Pot", "Pan"))
                if spot is not None:
                    (x, _, z), (sx, _, sz) = spot, obj.size
                    placed.setdefault(t, []).append(Box(x - sx / 2, 0.0, z - sz / 2, x + sx / 2, 0.0, z + sz / 2))
                    break
            else:
                problems.append(f"task {task.id}: no room for the {_phrase(obj.object_type)} in or on the "
                                f"{_phrase(sim.objects[targets[0]].object_type) if targets else 'target'}")
    return problems


def _phrase(type_name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).lower()


_TYPE_PHRASES = {_phrase(t): t for t in OBJECT_TYPES}


def absent_mentions(instruction: str, nodes: Nodes) -> list[str]:
    """Object-type names in the instruction (singular or plural) that the scene does not hold.

    A name inside a longer one ("bottle" in "soap bottle") is not a mention of its own."""
    present = {n.get("objectType") for n in nodes.values()}
    text = instruction.lower()
    spans = [(m.start(), m.end(), phrase) for phrase in _TYPE_PHRASES
             for m in re.finditer(rf"\b{re.escape(phrase)}(e?s)?\b", text)]
    own = [(a, b, p) for a, b, p in spans if not any(x <= a and b <= y and (y - x) > (b - a) for x, y, _ in spans)]
    return sorted({p for _, _, p in own if _TYPE_PHRASES[p] not in present})
