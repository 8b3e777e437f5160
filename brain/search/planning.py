"""plan_goals: goals in, a Plan out — search, lifting, allocation, and a report on every goal."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from robocortex.cerebellum.skills import SKILLS, SymbolicWorld

from robocortex.brain.goal_language import Goal, goal_holds, ground
from robocortex.brain.plan import GoalReport, Plan
from robocortex.brain.planner import FailedSubtask, PlanningError, PlanOutcome, PlanRequest
from robocortex.brain.search.allocate import Team, Unassignable, Unit, assign, build_units, skill_call, subtasks
from robocortex.brain.search.lift import follow, justify
from robocortex.brain.search.problem import (AGENT, Compiled, Exclusions, Infeasible, Scene, build_problem,
                                             compile_goal)
from robocortex.brain.search.solve import GroundStep, SearchFailed, solve
from robocortex.memory.schemas import SkillCall


ACCESS_SKILLS = frozenset({"open", "close", "pick_up", "put"})  # getting at things and putting them down


def exclusions(failures: list[FailedSubtask]) -> Exclusions:
    """What the failures so far rule out, read from their typed fields: the robot that failed a step
    does not get that step again; a missing object is not chosen again; a receptacle a put failed on
    is replaced by another of its kind; a lost robot gets nothing."""
    ex = Exclusions()
    for f in failures:
        if f.code == "robot_lost":
            ex.robots.add(f.robot)
            continue
        step = f.failed_step
        if step is None or step.skill not in SKILLS:
            continue
        why = f"{step.skill} by {f.robot}: {f.code}" + (f", {f.details['world_code']}" if f.details.get("world_code") else "")
        refused_put = step.skill == "put" and f.code in ("action_failed", "blocked")
        for name in SKILLS[step.skill].targets:
            target = step.args.get(name)
            if isinstance(target, str) and not refused_put:  # a refused put excludes the receptacle instead
                ex.robot_steps.add((f.robot, step.skill, target))
        if refused_put:
            receptacle = f.details.get("receptacle") or step.args.get("receptacle")
            if isinstance(receptacle, str):
                ex.receptacles[receptacle] = why
                if f.details.get("world_code") == "no_room":
                    ex.full.add(receptacle)
        elif f.code in ("object_missing", "blocked"):
            obj = f.details.get("object") or step.args.get("object")
            if isinstance(obj, str):
                ex.objects[obj] = why
    return ex


@dataclass
class Stage:
    compiled: dict[int, Compiled]
    steps: list[GroundStep]
    calls: list[SkillCall]
    units: list[Unit]


@dataclass
class _Run:
    goals: list[Goal]
    request: PlanRequest
    ex: Exclusions
    reports: dict[int, GoalReport] = field(default_factory=dict)
    solves: int = 0
    keep_open: set[str] = field(default_factory=set)  # objects some goal (any stage) wants open
    base_ex: Exclusions = field(default_factory=Exclusions)

    def infeasible(self, i: int, reason: str) -> None:
        self.reports[i] = GoalReport(goal=self.goals[i], status="infeasible", reason=reason)


def _holders(nodes: Mapping[str, Mapping[str, Any]], robots: list[str]) -> list[tuple[str, str]]:
    return [(name, str(nodes[name]["holding"])) for name in robots
            if (nodes.get(name) or {}).get("holding")]


def _opened_in(formula: Any) -> set[str]:
    """Objects a goal formula wants open."""
    if isinstance(formula, list):
        if formula and formula[0] == "is-open":
            return {formula[1]}
        return {o for part in formula for o in _opened_in(part)}
    return set()


def _search(run: _Run, scene: Scene, compiled: dict[int, Compiled], holder: tuple[str, str] | None,
            keep_hand: bool, closed_to: frozenset[str] = frozenset()) -> tuple[list[GroundStep], Any]:
    problem = build_problem(scene, list(compiled.values()), holder)
    problem.init = {a for a in problem.init if not (a[0] == "can-contain" and a[1] in closed_to)}  # being cleared
    if not keep_hand:
        problem.goal.append(["handempty", AGENT])  # nobody is left holding a knife
    # What had to be opened is closed again, unless a goal is about it being open (or cooking in it).
    about = {oid for c in compiled.values() for f in c.formula for oid in _opened_in(f)} | run.keep_open
    problem.goal += [["not", ["is-open", oid]] for oid in problem.objects
                     if ("must-open", oid) in problem.init and ("is-open", oid) not in problem.init and oid not in about]
    # Only the skills the goals call for, and what reaching things takes: a smaller domain grounds faster.
    have = {s for r in scene.robots for s in r.skills}
    skills = have & ({s for c in compiled.values() for s in c.skills} | ACCESS_SKILLS)
    run.solves += 1
    steps = solve(skills, problem.objects, problem.init, problem.goal, AGENT)
    return steps, problem


def _plan_stage(run: _Run, nodes: dict[str, dict[str, Any]], indices: list[int],
                holder: tuple[str, str] | None, chosen: dict[int, list[str]]) -> tuple[list[GroundStep], Any, dict[int, Compiled]]:
    scene = Scene(copy.deepcopy(nodes), run.request.robots, run.ex)
    compiled: dict[int, Compiled] = {}
    for i in indices:
        try:
            compiled[i] = compile_goal(run.goals[i], scene, run.goals, chosen)
            chosen[i] = compiled[i].chosen
        except Infeasible as exc:
            run.infeasible(i, str(exc))
    keep_hand = any(run.goals[i].condition.held for i in compiled)
    if any(c.make_room for c in compiled.values()):  # first only clear the full receptacle (see _attempt)
        clearing = {i: Compiled(c.goal, c.extra, c.objects, c.skills | {"pick_up", "put"}, [])
                    for i, c in compiled.items() if c.extra}
        try:
            full = frozenset(r for c in compiled.values() for r in c.make_room)
            steps, problem = _search(run, scene, clearing, holder, False, closed_to=full)
            return steps, problem, {i: compiled[i] for i in clearing}
        except SearchFailed:
            for i in clearing:
                run.infeasible(i, "no room can be made: what rests there cannot all be moved elsewhere")
                del compiled[i]
    while compiled:
        try:
            steps, problem = _search(run, scene, compiled, holder, keep_hand)
            return steps, problem, compiled
        except SearchFailed:
            alone = {}
            for i in list(compiled):
                try:
                    _search(run, scene, {i: compiled[i]}, holder, keep_hand)
                except SearchFailed:
                    alone[i] = "no sequence of the robots' skills reaches it from the scene as it is"
            if not alone:  # each is possible, not all together: give up the last
                last = max(compiled)
                alone[last] = "it conflicts with the other goals"
            for i, reason in alone.items():
                run.infeasible(i, reason)
                del compiled[i]
    return [], None, {}


def _advance(nodes: dict[str, dict[str, Any]], calls: list[SkillCall], holder: tuple[str, str] | None) -> dict:
    """The scene after the stage's steps (the skills' own effects), for the next stage."""
    world = SymbolicWorld(copy.deepcopy(nodes))
    agent = world.nodes.setdefault(AGENT, {"id": AGENT, "kind": "robot"})
    agent["holding"] = holder[1] if holder else None
    if holder:
        world.nodes[holder[0]]["holding"] = None
    for call in calls:
        skill = SKILLS[call.skill]
        skill.apply(world, agent, skill.parse_args(call.args))
    return world.nodes


def _attempt(run: _Run) -> tuple[list[Stage], dict[int, Compiled]]:
    nodes = run.request.snapshot.node_dicts()
    robots = [r.name for r in run.request.robots if r.name not in run.ex.robots]
    holders = _holders(nodes, robots)
    holder = holders[0] if holders else None
    pending = [i for i in range(len(run.goals)) if i not in run.reports]
    run.ex = copy.deepcopy(run.base_ex)  # room made on a full receptacle in one attempt is not made in the next
    if len({run.goals[i].stage for i in pending}) > 1 and not run.ex.full:
        joint = _joint(run, nodes, pending, holder)
        if joint is not None:
            return joint
    stages: list[Stage] = []
    chosen: dict[int, list[str]] = {}
    every: dict[int, Compiled] = {}
    first_unit = 0
    for stage in sorted({run.goals[i].stage for i in pending}):
        indices = [i for i in pending if run.goals[i].stage == stage]
        if stages:  # a later stage starts from where the earlier ones leave the scene
            indices = [i for i in indices if not _holds_now(run, nodes, i)]
        steps, problem, compiled = _plan_stage(run, nodes, indices, holder, chosen)
        clearing = [c for c in compiled.values() if c.make_room]
        if clearing and steps:  # room made on a full receptacle: it may be used again, from the cleared scene
            for c in clearing:
                for full in c.make_room:
                    run.ex.receptacles.pop(full, None)
                    run.ex.full.discard(full)
        elif clearing:
            continue
        every.update(compiled)
        if not steps:
            continue
        held = holder if problem.held_by else None
        stages.append(_stage(run, steps, problem, compiled, held, first_unit, stage))
        first_unit += len(stages[-1].units)
        nodes = _advance(nodes, stages[-1].calls, held)
        holder = None
        if clearing:  # then the stage's goals themselves, on the cleared receptacle
            notes = {i: c.note for i, c in compiled.items() if c.make_room}
            steps, problem, compiled = _plan_stage(run, nodes, indices, None, chosen)
            for i, note in notes.items():
                if i in compiled:
                    compiled[i].note = note
            every.update(compiled)
            if not steps:
                continue
            stages.append(_stage(run, steps, problem, compiled, None, first_unit, stage))
            first_unit += len(stages[-1].units)
            nodes = _advance(nodes, stages[-1].calls, None)
    return stages, every


def _stage(run: _Run, steps: list[GroundStep], problem: Any, compiled: dict[int, Compiled],
           held: tuple[str, str] | None, first_unit: int, stage: int) -> Stage:
    """One stage's found steps as skill calls and units of work, each waiting for every earlier unit."""
    steps = justify(steps, problem.state(), problem.goal)
    followed = follow(steps, problem.state())
    liquids = {k: v for c in compiled.values() for k, v in c.liquids.items()}
    calls = [skill_call(s, liquids) for s in steps]
    units = build_units(steps, followed.traces, held, first_unit,
                        [set(r.skills) for r in run.request.robots if r.name not in run.ex.robots])
    for unit in units:
        unit.deps |= set(range(first_unit))
        unit.stage = stage
    return Stage(compiled, steps, calls, units)


def _joint(run: _Run, nodes: dict[str, dict[str, Any]], pending: list[int],
           holder: tuple[str, str] | None) -> tuple[list[Stage], dict[int, Compiled]] | None:
    """Every stage in one search, ordered afterwards: a unit moving a later stage's objects waits for
    every unit of the earlier stages. None when that does not work out (goals of different stages
    that contradict each other, a goal only reachable once an earlier stage is done, an order the
    plan's own dependencies contradict): the stages are then searched one after the other."""
    import networkx as nx

    trial = _Run(run.goals, run.request, run.ex, dict(run.reports), keep_open=run.keep_open)
    scene = Scene(copy.deepcopy(nodes), run.request.robots, run.ex)
    compiled: dict[int, Compiled] = {}
    chosen: dict[int, list[str]] = {}
    try:
        for i in pending:
            compiled[i] = compile_goal(run.goals[i], scene, run.goals, chosen)
            chosen[i] = compiled[i].chosen
        steps, problem = _search(trial, scene, compiled, holder, any(run.goals[i].condition.held for i in compiled))
    except (Infeasible, SearchFailed):
        run.solves += trial.solves
        return None
    run.solves += trial.solves
    steps = justify(steps, problem.state(), problem.goal)
    followed = follow(steps, problem.state())
    liquids = {k: v for c in compiled.values() for k, v in c.liquids.items()}
    calls = [skill_call(s, liquids) for s in steps]
    def stage_of(ids: set[str]) -> int:  # the latest stage whose objects these are
        return max((run.goals[i].stage for i, c in compiled.items() if set(c.chosen) & ids), default=-1)

    args = [{v for v in c.args.values() if isinstance(v, str)} for c in calls]
    units = build_units(steps, followed.traces, holder if problem.held_by else None, 0,
                        [set(r.skills) for r in run.request.robots if r.name not in run.ex.robots],
                        [stage_of(a) for a in args])
    for unit in units:
        unit.stage = stage_of({v for s in unit.steps for v in args[s]})
    for k, unit in enumerate(units):
        if unit.stage > 0:
            unit.deps |= {j for j, other in enumerate(units) if 0 <= other.stage < unit.stage}
    graph = nx.DiGraph((d, k) for k, u in enumerate(units) for d in u.deps)
    graph.add_nodes_from(range(len(units)))
    if not nx.is_directed_acyclic_graph(graph):
        return None
    order = list(nx.lexicographical_topological_sort(graph))
    if order != sorted(order):  # allocation walks units in list order: keep it topological
        renumber = {old: new for new, old in enumerate(order)}
        units = [units[old] for old in order]
        for unit in units:
            unit.deps = {renumber[d] for d in unit.deps}
    return [Stage(compiled, steps, calls, units)], compiled


def _holds_now(run: _Run, nodes: Mapping[str, Any], i: int) -> bool:
    if goal_holds(nodes, run.goals[i], run.goals):
        run.reports[i] = GoalReport(goal=run.goals[i], status="already_holds",
                                    reason="earlier stages make it hold")
        return True
    return False


def plan_goals(goals: list[Goal], request: PlanRequest) -> PlanOutcome:
    """Plan for `goals` on `request.snapshot` with `request.robots`; every goal gets a report. Raises
    PlanningError (with every goal's reason) only when no goal can be pursued and none holds already."""
    started = time.perf_counter()
    nodes = request.snapshot.node_dicts()
    run = _Run(goals, request, exclusions(request.failures))
    run.base_ex = copy.deepcopy(run.ex)
    for goal in goals:
        if goal.condition.state == "isOpen" and goal.condition.value != goal.condition.negate:
            run.keep_open |= {str(n["id"]) for n in goal.subject.select(nodes)}
    first_stage = min((g.stage for g in goals), default=0)
    for i, goal in enumerate(goals):
        if goal.when and not all(goal_holds(nodes, w, goal.when) for w in goal.when):
            run.reports[i] = GoalReport(goal=goal, status="condition_false",
                                        reason="; ".join(w.describe() for w in goal.when) + " does not hold now")
        elif goal.stage == first_stage and goal_holds(nodes, goal, goals):  # later stages: once reached
            run.reports[i] = GoalReport(goal=goal, status="already_holds")
    for _ in range(len(goals) + 1):
        stages, compiled = _attempt(run)
        units = [u for st in stages for u in st.units]
        calls = [c for st in stages for c in st.calls]
        offset = 0
        for st in stages:  # unit steps index the stage's steps: make them global
            for u in st.units:
                u.steps = [s + offset for s in u.steps]
            offset += len(st.calls)
        team = Team(request.robots, nodes, run.ex, busy=dict(_holders(nodes, [r.name for r in request.robots])[1:]))
        try:
            owner, makespan = assign(units, calls, team)
        except Unassignable as exc:
            touched = {v for s in exc.unit.steps for v in calls[s].args.values() if isinstance(v, str)}
            blamed = ([i for i, c in compiled.items() if set(c.chosen) & touched]
                      or [i for i, c in compiled.items() if c.objects & touched] or list(compiled))
            what = ", ".join(_phrase(calls[s]) for s in exc.unit.steps)
            for i in blamed:
                run.infeasible(i, f"no robot can {what} ({exc})")
            continue
        for i, c in compiled.items():
            run.reports.setdefault(i, GoalReport(goal=goals[i], status="planned", reason=c.note))
        team = Team(request.robots, nodes, run.ex, busy=dict(_holders(nodes, [r.name for r in request.robots])[1:]))
        plan_subtasks = subtasks(units, owner, calls, team, request.id_prefix)
        break
    else:  # pragma: no cover - every round marks at least one goal infeasible
        plan_subtasks, makespan = [], 0.0
    reports = [run.reports.get(i) or GoalReport(goal=g, status="infeasible", reason="not planned")
               for i, g in enumerate(goals)]
    if not plan_subtasks and not any(r.status in ("already_holds", "condition_false") for r in reports):
        raise PlanningError("nothing to do that can be done: " + "; ".join(
            f"{r.goal.describe()}: {r.reason}" for r in reports))
    elapsed_ms = (time.perf_counter() - started) * 1000
    kept = [_checkable(r.goal, compiled.get(i), nodes) for i, r in enumerate(reports)
            if r.status in ("planned", "already_holds")]
    plan = Plan(goals=kept, subtasks=plan_subtasks, reports=reports, reasoning=_reasoning(reports, plan_subtasks, makespan))
    return PlanOutcome(plan=plan, timing={"plan_ms": round(elapsed_ms, 1), "searches": float(run.solves)})


def _checkable(goal: Goal, compiled: Compiled | None, nodes: Mapping[str, Any]) -> Goal:
    """The goal as the plan keeps it: filters on the scene as it is now, and "the rest", resolved to
    objectIds (the goals the plan leaves out would shift the index "the rest" refers to)."""
    goal = ground(goal.model_copy(update={"when": []}), nodes)
    if goal.subject.quantifier == "rest" or (compiled is not None and compiled.partial):
        ids = compiled.chosen if compiled else []
        goal = goal.model_copy(update={"subject": goal.subject.model_copy(
            update={"ids": ids, "quantifier": "all", "rest_of": None})})
    return goal


def _phrase(call: SkillCall) -> str:
    args = " ".join(str(v) for v in call.args.values())
    return f"{call.skill.replace('_', ' ')} {args}".strip()


def _reasoning(reports: list[GoalReport], plan_subtasks: list, makespan: float) -> str:
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.status] = counts.get(r.status, 0) + 1
    head = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())
    lines = [f"{len(reports)} goal(s): {head}; estimated makespan {makespan:.1f}"]
    lines += [f"{r.goal.describe()}: {r.status}" + (f" — {r.reason}" if r.reason else "") for r in reports
              if r.status != "planned"]
    lines += [f"{s.id}→{s.robot}: {s.description}" + (f" (after {', '.join(s.depends_on)})" if s.depends_on else "")
              for s in plan_subtasks]
    return "; ".join(lines)
