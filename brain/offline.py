"""The offline planner: a rule-based parser over the scene's own vocabulary, and a makespan-aware
allocator. It needs no model, so RoboCortex runs anywhere; it must solve the built-in tasks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from cerebellum.skills import IN_RECEPTACLES, SymbolicWorld
from memory.schemas import RobotProfile, SkillCall

from brain.goals import goal_holds
from brain.plan import Goal, Plan, PlannedSubtask
from brain.planner import PlanningError, PlanOutcome, PlanRequest

# Words people use → AI2-THOR object types, in order of preference.
SYNONYMS: dict[str, list[str]] = {
    "fridge": ["Fridge"], "refrigerator": ["Fridge"],
    "light": ["LightSwitch", "FloorLamp", "DeskLamp"], "lights": ["LightSwitch", "FloorLamp", "DeskLamp"],
    "light switch": ["LightSwitch"], "lamp": ["FloorLamp", "DeskLamp"],
    "trash": ["GarbageCan"], "trash can": ["GarbageCan"], "garbage": ["GarbageCan"], "bin": ["GarbageCan"],
    "garbage can": ["GarbageCan"], "rubbish bin": ["GarbageCan"],
    "counter": ["CounterTop"], "countertop": ["CounterTop"], "kitchen counter": ["CounterTop"],
    "table": ["DiningTable", "CoffeeTable", "SideTable", "Desk"], "stove": ["StoveBurner"],
    "cooker": ["StoveBurner"], "burner": ["StoveBurner"], "sink": ["SinkBasin", "Sink"],
    "tv": ["Television"], "telly": ["Television"], "couch": ["Sofa"], "sofa": ["Sofa"],
    "cupboard": ["Cabinet"], "tap": ["Faucet"], "coffee maker": ["CoffeeMachine"],
    "bath": ["BathtubBasin", "Bathtub"], "bathtub": ["BathtubBasin", "Bathtub"],
    "phone": ["CellPhone"], "mobile": ["CellPhone"], "remote": ["RemoteControl"],
}
_ARTICLES = re.compile(r"\b(the|a|an|some|my|your|its|this|that|please)\b")
# Separators between clauses; the captured text tells whether the next clause must wait ("then").
_SPLIT = re.compile(r"(\s*(?:,?\s*\band then\b|,?\s*\bthen\b|,?\s*\bafter that\b|,\s*and\b|\band\b|[,;.])\s*)")


def _words(type_name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).lower()


@dataclass
class Clause:
    verb: str
    obj: str
    dest: str | None = None
    sequential: bool = False


@dataclass
class _Job:
    """One clause made concrete: its goal, its steps, the objects it touches."""

    goal: Goal
    steps: list[SkillCall]
    touches: set[str]
    description: str
    sequential: bool
    skills: set[str] = field(default_factory=set)
    heaviest: float = 0.0
    places: list[dict[str, float]] = field(default_factory=list)


class Vocabulary:
    """Maps phrases to object types present in the scene."""

    def __init__(self, types: set[str]):
        self.types = types
        self.by_words = {_words(t): t for t in types} | {t.lower(): t for t in types}

    def resolve(self, phrase: str) -> str | None:
        phrase = _ARTICLES.sub(" ", phrase.lower())
        phrase = re.sub(r"\s+", " ", phrase).strip()
        for candidate in (phrase, phrase.rstrip("s"), phrase[:-2] if phrase.endswith("es") else phrase):
            if candidate in self.by_words:
                return self.by_words[candidate]
            for t in SYNONYMS.get(candidate, []):
                if t in self.types:
                    return t
        return None


_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("put", re.compile(r"^(?:put|place|bring|move|set|take|carry|store)\s+(?P<obj>.+?)\s+(?:in|into|inside|on|onto|on top of|to|in to)\s+(?P<dest>.+)$")),
    ("throw", re.compile(r"^(?:throw away|throw out|discard|bin|dispose of)\s+(?P<obj>.+)$")),
    ("throw", re.compile(r"^(?:throw)\s+(?P<obj>.+?)\s+(?:away|out)$")),
    ("toggle_on", re.compile(r"^(?:turn|switch|power)\s+on\s+(?P<obj>.+)$")),
    ("toggle_off", re.compile(r"^(?:turn|switch|power)\s+off\s+(?P<obj>.+)$")),
    ("toggle_on", re.compile(r"^(?:turn|switch|power)\s+(?P<obj>.+?)\s+on$")),
    ("toggle_off", re.compile(r"^(?:turn|switch|power)\s+(?P<obj>.+?)\s+off$")),
    ("open", re.compile(r"^open\s+(?P<obj>.+)$")),
    ("close", re.compile(r"^(?:close|shut)\s+(?P<obj>.+)$")),
]


def parse(instruction: str) -> list[Clause]:
    """Split an instruction into clauses; raise PlanningError naming the words not understood."""
    text = instruction.strip().lower()
    if not text:
        raise PlanningError("the instruction is empty")
    pieces = _SPLIT.split(text)
    clauses: list[Clause] = []
    not_understood: list[str] = []
    sequential = False
    for k, piece in enumerate(pieces):
        if k % 2 == 1:  # a separator
            sequential = sequential or bool(re.search(r"then|after that", piece))
            continue
        part = re.sub(r"\s+", " ", _ARTICLES.sub(" ", piece)).strip()
        if not part:
            continue
        for verb, pattern in _PATTERNS:
            m = pattern.match(part)
            if m:
                clauses.append(Clause(verb, m.group("obj").strip(), m.groupdict().get("dest"), sequential=sequential))
                break
        else:
            not_understood.append(part)
        sequential = False
    if not_understood:
        raise PlanningError("could not understand: " + "; ".join(repr(p) for p in not_understood)
                            + " (try e.g. 'put the apple in the fridge', 'open the fridge', 'turn off the light')")
    if not clauses:
        raise PlanningError(f"no instruction found in {instruction!r}")
    return clauses


class OfflinePlanner:
    name = "offline"

    def plan(self, request: PlanRequest) -> PlanOutcome:
        world = SymbolicWorld.from_snapshot(request.snapshot)
        vocab = Vocabulary({n["objectType"] for n in world.nodes.values() if n.get("kind") == "object"})
        jobs = [self._job(c, vocab, world) for c in parse(request.instruction)]
        pending = [j for j in jobs if not goal_holds(world.nodes, j.goal)]
        subtasks = allocate(pending, request.robots, world, request.id_prefix)
        plan = Plan(
            goals=[j.goal for j in jobs],
            subtasks=subtasks,
            reasoning=f"{len(jobs)} goal(s), {len(jobs) - len(pending)} already true; "
            + "; ".join(f"{s.id}→{s.robot}: {s.description}" for s in subtasks),
        )
        return PlanOutcome(plan=plan)

    # ------------------------------------------------------------------ clause → job

    def _pick(self, world: SymbolicWorld, vocab: Vocabulary, phrase: str, role: str) -> dict[str, Any]:
        t = vocab.resolve(phrase)
        if t is None:
            raise PlanningError(f"no {phrase!r} in this scene to {role} (scene has: "
                                + ", ".join(sorted(_words(x) for x in vocab.types)[:40]) + ")")
        instances = world.objects_of_type(t)
        # Prefer instances not hidden in closed receptacles, then by id for determinism.
        instances.sort(key=lambda n: (world.enclosed_by_closed(n["id"]) is not None, n["id"]))
        return instances[0]

    def _job(self, clause: Clause, vocab: Vocabulary, world: SymbolicWorld) -> _Job:
        if clause.verb in ("put", "throw"):
            obj = self._pick(world, vocab, clause.obj, "move")
            dest_phrase = clause.dest if clause.verb == "put" else "garbage can"
            dest = self._pick(world, vocab, dest_phrase or "", "put things in")
            if not obj.get("pickupable"):
                raise PlanningError(f"the {_words(obj['objectType'])} cannot be picked up")
            if not dest.get("receptacle"):
                raise PlanningError(f"nothing can be put in or on the {_words(dest['objectType'])}")
            steps: list[SkillCall] = []
            container = world.enclosed_by_closed(obj["id"])
            if container:
                steps += [SkillCall(skill="navigate_to", args={"object": container}),
                          SkillCall(skill="open", args={"object": container})]
            steps += [SkillCall(skill="navigate_to", args={"object": obj["id"]}),
                      SkillCall(skill="pick_up", args={"object": obj["id"]}),
                      SkillCall(skill="navigate_to", args={"object": dest["id"]})]
            opened = dest.get("objectType") in IN_RECEPTACLES and not dest.get("isOpen")
            if opened:
                steps.append(SkillCall(skill="open", args={"object": dest["id"]}))
            steps.append(SkillCall(skill="put", args={"receptacle": dest["id"]}))
            if opened:
                steps.append(SkillCall(skill="close", args={"object": dest["id"]}))
            rel = "in" if dest.get("objectType") in IN_RECEPTACLES else "on"
            goal = Goal(object=obj["objectType"], relation=rel, target=dest["objectType"])
            desc = f"put the {_words(obj['objectType'])} {rel} the {_words(dest['objectType'])}"
            return _Job(goal, steps, {obj["id"], dest["id"]} | ({container} if container else set()), desc,
                        clause.sequential, {s.skill for s in steps}, float(obj.get("mass") or 0.0),
                        [p for p in (obj.get("position"), dest.get("position")) if p])
        obj = self._pick(world, vocab, clause.obj, clause.verb.replace("_", " "))
        flag, value, need = {
            "open": ("isOpen", True, "openable"), "close": ("isOpen", False, "openable"),
            "toggle_on": ("isToggled", True, "toggleable"), "toggle_off": ("isToggled", False, "toggleable"),
        }[clause.verb]
        if not obj.get(need):
            raise PlanningError(f"the {_words(obj['objectType'])} cannot be {clause.verb.replace('toggle_', 'turned ')}")
        steps = [SkillCall(skill="navigate_to", args={"object": obj["id"]}),
                 SkillCall(skill=clause.verb, args={"object": obj["id"]})]
        words = {"open": "open", "close": "close", "toggle_on": "turn on", "toggle_off": "turn off"}[clause.verb]
        return _Job(Goal(object=obj["objectType"], state=flag, value=value), steps, {obj["id"]},
                    f"{words} the {_words(obj['objectType'])}", clause.sequential, {s.skill for s in steps},
                    0.0, [obj["position"]] if obj.get("position") else [])


def _can_do(robot: RobotProfile, job: _Job, start: dict[str, float] | None) -> bool:
    if not job.skills <= set(robot.skills):
        return False
    if job.heaviest > robot.payload_kg:
        return False
    if robot.mobility == "fixed" and start is not None:
        return all(math.dist((start["x"], start["z"]), (p["x"], p["z"])) <= 1.5 for p in job.places)
    return True


def _travel(start: dict[str, float] | None, places: list[dict[str, float]]) -> float:
    cost, here = 0.0, start
    for p in places:
        if here is not None:
            cost += abs(here["x"] - p["x"]) + abs(here["z"] - p["z"])
        here = p
    return cost


def allocate(jobs: list[_Job], robots: list[RobotProfile], world: SymbolicWorld, prefix: str) -> list[PlannedSubtask]:
    """Give each job to a capable robot, minimising the makespan (longest job first, earliest finish).

    Independent jobs run in parallel; a 'then' job waits for the one before it; two jobs on
    different robots that touch the same object (one robot at a time at the fridge) are serialised.
    """
    if jobs and not robots:
        raise PlanningError("no robots are online to do this")
    position = {r.name: (world.get(r.name) or {}).get("position") for r in robots}
    load = {r.name: 0.0 for r in robots}
    owner: dict[int, str] = {}
    order = sorted(range(len(jobs)), key=lambda i: -(_travel(None, jobs[i].places) + len(jobs[i].steps)))
    for i in order:
        job = jobs[i]
        able = [r for r in robots if _can_do(r, job, position[r.name])]
        if not able:
            raise PlanningError(
                f"no robot can {job.description}: it needs skills {sorted(job.skills)}"
                + (f" and a payload of {job.heaviest} kg" if job.heaviest else "")
            )
        best = min(able, key=lambda r: (load[r.name] + _travel(position[r.name], job.places) + len(job.steps), r.name))
        owner[i] = best.name
        load[best.name] += _travel(position[best.name], job.places) + len(job.steps)
        if job.places:
            position[best.name] = job.places[-1]
    subtasks: list[PlannedSubtask] = []
    for i, job in enumerate(jobs):
        deps: list[str] = []
        if job.sequential and i > 0:
            deps.append(f"{prefix}{i}")
        for j in range(i):
            if owner[j] != owner[i] and jobs[j].touches & job.touches and f"{prefix}{j + 1}" not in deps:
                deps.append(f"{prefix}{j + 1}")
            elif owner[j] == owner[i] and f"{prefix}{j + 1}" not in deps:
                deps.append(f"{prefix}{j + 1}")  # one robot does its own jobs in order
        subtasks.append(PlannedSubtask(id=f"{prefix}{i + 1}", robot=owner[i], description=job.description,
                                       depends_on=deps, steps=job.steps))
    return subtasks
