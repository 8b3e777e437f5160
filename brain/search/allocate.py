"""The lifted plan given to robots: units of steps (a holding chain stays on one robot), each to the
robot that can do it (skills, payload, a fixed arm's reach, what failed before) and would finish it
earliest — list scheduling on the DAG, which keeps the makespan low. A unit no single robot can do
is split no further: its goals are reported infeasible. Steps of one job may land on different
robots (one opens the fridge, another puts the apple in): that is a coalition, held together by
`depends_on`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from robocortex.cerebellum.skills import INTERACTION_REACH_M, SKILLS, beyond_reach
from robocortex.memory.schemas import RobotProfile, SkillCall

from robocortex.brain.plan import PlannedSubtask
from robocortex.brain.search.lift import causal_edges, hand_chains
from robocortex.brain.search.logic import Trace
from robocortex.brain.search.problem import Exclusions, words
from robocortex.brain.search.solve import GroundStep

SPEED_M_S = 1.0  # travel, for comparing robots (the executor's real speed does not change the choice)
STEP_S = 1.0  # one skill, likewise
Pos = tuple[float, float]


@dataclass
class Unit:
    steps: list[int]  # indices into the plan's steps
    deps: set[int] = field(default_factory=set)  # indices of units that must finish first
    forced: str | None = None  # the robot already holding what this unit carries
    stage: int = 0


class Unassignable(Exception):
    def __init__(self, unit: Unit, reason: str):
        super().__init__(reason)
        self.unit = unit


def build_units(steps: list[GroundStep], traces: list[Trace], held: tuple[str, str] | None,
                first_unit: int = 0, skill_sets: list[set[str]] | None = None,
                step_stage: list[int] | None = None) -> list[Unit]:
    """Units of one plan (in plan order), with their dependencies; cycles between units are merged."""
    chains, held_unit = hand_chains(steps, traces, held[1] if held else None)
    edges = causal_edges(traces)
    anchors = [min(c) for c in chains]  # where each unit's hand work starts in the plan: the robot's order
    chains, held_unit = _fold_helpers(chains, held_unit, edges, steps, skill_sets or [], anchors,
                                      step_stage or [-1] * len(steps))
    unit_of = {s: u for u, chain in enumerate(chains) for s in chain}
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(chains)))
    graph.add_edges_from((unit_of[i], unit_of[j]) for i, j in edges if unit_of[i] != unit_of[j])
    merged = nx.condensation(graph)
    first_step = {c: min(anchors[u] for u in merged.nodes[c]["members"]) for c in merged.nodes}
    order = list(nx.lexicographical_topological_sort(merged, key=lambda c: first_step[c]))
    index = {c: first_unit + k for k, c in enumerate(order)}
    units = []
    for c in order:
        members = merged.nodes[c]["members"]
        ordered = [s for u in sorted(members, key=lambda u: min(chains[u])) for s in chains[u]]
        unit = Unit(ordered if len(members) == 1 else sorted(ordered), {index[p] for p in merged.predecessors(c)})
        if held is not None and held_unit in members:
            unit.forced = held[0]
        units.append(unit)
    return units


def _fold_helpers(chains: list[list[int]], held_unit: int | None, edges: set[tuple[int, int]],
                  steps: list[GroundStep], skill_sets: list[set[str]],
                  anchors: list[int], step_stage: list[int]) -> tuple[list[list[int]], int | None]:
    """A lone step that only serves one holding chain (opening the fridge the apple goes into, closing
    it after) joins that chain, where it is needed — when some robot can do both; otherwise it stays
    apart, for another robot (a coalition)."""
    def is_chain(u: int) -> bool:
        return u == held_unit or len(chains[u]) > 1 or steps[chains[u][0]].skill == "pick_up"

    changed = True
    while changed:
        changed = False
        unit_of = {s: u for u, chain in enumerate(chains) for s in chain}
        for b, chain in enumerate(chains):
            if is_chain(b):
                continue
            (step,) = chain
            after = {unit_of[j] for i, j in edges if i == step}
            before = {unit_of[i] for i, j in edges if j == step}
            served = {u for u in after | before if is_chain(u)}
            if len(served) != 1:
                continue
            a = next(iter(served))
            needs_it = [k for k, s in enumerate(chains[a]) if (step, s) in edges]
            at = min(needs_it) if needs_it else max(
                (k + 1 for k, s in enumerate(chains[a]) if (s, step) in edges), default=len(chains[a]))
            if step_stage[step] not in (-1, max(step_stage[s] for s in chains[a])):
                continue  # a helper of an earlier stage ("open the fridge, then …") stays before it
            skills = {steps[s].skill for s in chains[a]} | {steps[step].skill}
            if not any(skills <= have for have in skill_sets):
                continue
            chains[a].insert(at, step)
            del chains[b]
            del anchors[b]
            if held_unit is not None and held_unit > b:
                held_unit -= 1
            changed = True
            break
    return chains, held_unit


def skill_call(step: GroundStep, liquids: Mapping[str, str]) -> SkillCall:
    sym = SKILLS[step.skill].symbolic
    names = [v for v, _ in _params(sym.parameters)]
    args: dict[str, Any] = {arg: step.values[names.index(param)] for arg, param in sym.args.items()}
    if step.skill == "fill":
        args["liquid"] = liquids.get(args["object"], "water")
    return SkillCall(skill=step.skill, args=args)


def _params(spec: str) -> list[tuple[str, str]]:
    from robocortex.brain.search.logic import typed_vars

    return typed_vars(spec)


class Team:
    """The robots as allocation sees them: where they are, what they can do, when they are free."""

    def __init__(self, robots: list[RobotProfile], nodes: Mapping[str, Mapping[str, Any]], ex: Exclusions,
                 busy: Mapping[str, str]):
        self.robots = [r for r in robots if r.name not in ex.robots]
        self.nodes = nodes
        self.ex = ex
        self.busy = dict(busy)  # robot → what it holds that no unit takes over
        self.pos: dict[str, Pos | None] = {r.name: self._pos(r.name) for r in self.robots}
        self.free: dict[str, float] = {r.name: 0.0 for r in self.robots}

    def _node(self, oid: str) -> dict[str, Any] | None:
        """The object's node; for a slice not yet cut, the node of what it will be cut from."""
        node = self.nodes.get(oid)
        if (node is None or node.get("position") is None) and "|" in oid:
            return self.nodes.get(oid.rsplit("|", 1)[0])
        return node

    def _pos(self, oid: str) -> Pos | None:
        p = (self._node(oid) or {}).get("position")
        return (float(p["x"]), float(p["z"])) if p else None

    def why_not(self, robot: RobotProfile, calls: list[SkillCall], unit: Unit) -> str | None:
        missing = sorted({c.skill for c in calls} - set(robot.skills))
        if missing:
            return f"lacks skill {', '.join(missing)}"
        if unit.forced and unit.forced != robot.name:
            return f"{unit.forced} holds the object"
        picks = [c.args["object"] for c in calls if c.skill == "pick_up"]
        if picks and robot.name in self.busy:
            return f"its hand holds {self.busy[robot.name]}"
        for oid in picks:
            mass = float((self.nodes.get(oid) or {}).get("mass") or 0.0)
            if mass > robot.payload_kg:
                return f"{words((self.nodes.get(oid) or {}).get('objectType'))} weighs {mass} kg, over its payload of {robot.payload_kg} kg"
        for call in calls:
            for target in _targets(call):
                if (robot.name, call.skill, target) in self.ex.robot_steps:
                    return f"its {call.skill} on {target} failed before"
                if robot.mobility != "mobile":
                    base = self.pos[robot.name]
                    if base and beyond_reach(base, self._node(target)):
                        return f"{target} is out of its reach (fixed, {INTERACTION_REACH_M} m)"
        return None

    def duration(self, robot: RobotProfile, calls: list[SkillCall]) -> tuple[float, Pos | None]:
        here = self.pos[robot.name]
        travel = 0.0
        for call in calls:
            for target in _targets(call)[:1]:
                there = self._pos(target)
                if robot.mobility == "mobile" and here is not None and there is not None:
                    travel += math.dist(here, there)
                    here = there
        return travel / SPEED_M_S + STEP_S * len(calls), here


def _targets(call: SkillCall) -> list[str]:
    skill = SKILLS[call.skill]
    return [call.args[name] for name in skill.targets if isinstance(call.args.get(name), str)]


def assign(units: list[Unit], calls: list[SkillCall], team: Team) -> tuple[dict[int, str], float]:
    """Robot per unit (list scheduling: earliest finish first); raises Unassignable."""
    owner: dict[int, str] = {}
    finish: dict[int, float] = {}
    for k, unit in enumerate(units):
        mine = [calls[s] for s in unit.steps]
        able, why = [], []
        for robot in team.robots:
            reason = team.why_not(robot, mine, unit)
            (why.append(f"{robot.name}: {reason}") if reason else able.append(robot))
        if not able:
            raise Unassignable(unit, "; ".join(why) or "no robot")
        ready = max((finish[d] for d in unit.deps), default=0.0)
        best = None
        for robot in able:
            took, end_pos = team.duration(robot, mine)
            end = max(ready, team.free[robot.name]) + took
            if best is None or (end, robot.name) < best[0]:
                best = ((end, robot.name), robot, end_pos)
        assert best is not None
        (end, name), robot, end_pos = best
        owner[k], finish[k] = name, end
        team.free[name] = end
        team.pos[name] = end_pos
    return owner, max(finish.values(), default=0.0)


def subtasks(units: list[Unit], owner: dict[int, str], calls: list[SkillCall], team: Team,
             prefix: str) -> list[PlannedSubtask]:
    """Units grouped into subtasks: a robot's consecutive units share one subtask unless another
    robot waits on the first ones (then it would wait for them all)."""
    groups: list[list[int]] = []
    group_of: dict[int, int] = {}
    open_group: dict[str, int] = {}
    dependents: dict[int, set[int]] = {k: set() for k in range(len(units))}
    for k, unit in enumerate(units):
        for d in unit.deps:
            dependents[d].add(k)
    for k, unit in enumerate(units):
        robot = owner[k]
        g = open_group.get(robot)
        if g is not None:
            members = set(groups[g])
            outside = {d for d in unit.deps if d not in members}
            before = {d for m in members for d in units[m].deps} | _ancestors(units, members)
            waited_on = any(owner[x] != robot for m in members for x in dependents[m])
            same_stage = all(units[m].stage in (unit.stage, -1) or unit.stage == -1 for m in members)
            if outside <= before and not waited_on and same_stage:
                groups[g].append(k)
                group_of[k] = g
                continue
        groups.append([k])
        group_of[k] = len(groups) - 1
        open_group[robot] = len(groups) - 1
    ids = [f"{prefix}{n + 1}" for n in range(len(groups))]
    out: list[PlannedSubtask] = []
    last_of: dict[str, str] = {}
    near: dict[str, str | None] = {}
    held: dict[str, str | None] = {}
    robots = {r.name: r for r in team.robots}
    for g, members in enumerate(groups):
        robot = owner[members[0]]
        deps = {ids[group_of[d]] for m in members for d in units[m].deps} - {ids[g]}
        if robot in last_of:
            deps.add(last_of[robot])
        last_of[robot] = ids[g]
        steps: list[SkillCall] = []
        for m in members:
            for s in units[m].steps:
                call = calls[s]
                target = next((t for t in _targets(call) if t != held.get(robot)), None)
                profile = robots[robot]
                if (target and profile.mobility == "mobile" and "navigate_to" in profile.skills
                        and near.get(robot) != target):
                    steps.append(SkillCall(skill="navigate_to", args={"object": target}))
                    near[robot] = target
                steps.append(call)
                if call.skill == "pick_up":
                    held[robot] = call.args["object"]
                elif call.skill in ("put", "cook", "drop"):
                    held[robot] = None
        out.append(PlannedSubtask(id=ids[g], robot=robot, description=describe(steps, team.nodes),
                                  depends_on=sorted(deps, key=ids.index), steps=steps))
    return out


def _ancestors(units: list[Unit], members: set[int]) -> set[int]:
    seen: set[int] = set()
    frontier = [d for m in members for d in units[m].deps]
    while frontier:
        d = frontier.pop()
        if d not in seen:
            seen.add(d)
            frontier += units[d].deps
    return seen


def describe(steps: list[SkillCall], nodes: Mapping[str, Mapping[str, Any]]) -> str:
    def name(oid: str) -> str:
        return words((nodes.get(oid) or {}).get("objectType") or oid.split("|")[0])

    parts = []
    for call in steps:
        if call.skill == "navigate_to":
            continue
        if call.skill == "put":
            parts.append(f"put it in/on the {name(call.args['receptacle'])}")
        elif call.skill == "cook":
            parts.append(f"cook the {name(call.args['object'])} with the {name(call.args['appliance'])}")
        else:
            obj = call.args.get("object")
            parts.append(call.skill.replace("_", " ") + (f" the {name(obj)}" if obj else ""))
    return ", ".join(parts)
