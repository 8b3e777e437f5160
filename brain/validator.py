"""Plan validation: structure checks, then a symbolic dry run with the skills' own declarations.

Every problem comes back as a sentence the planner (human or model) can act on.
"""

from __future__ import annotations

import networkx as nx

from robocortex.cerebellum.skills import SKILLS, SymbolicWorld, register_profiles
from robocortex.memory.schemas import STATE_FLAGS, RobotProfile, SceneSnapshot

from robocortex.brain.goal_language import piece_type
from robocortex.brain.goals import goal_holds, unmet_goals
from robocortex.brain.plan import Goal, Plan, PlannedSubtask

GOAL_STATES = frozenset(STATE_FLAGS) | {"temperature", "fillLiquid"}


def _robot_node(world: SymbolicWorld, profile: RobotProfile) -> dict:
    node = world.nodes.setdefault(profile.name, {"id": profile.name, "kind": "robot"})
    node.update(profile.model_dump(include={"skills", "payload_kg", "mobility"}), id=profile.name)
    return node


def _piece_of_known(world: SymbolicWorld, oid: str) -> bool:
    """`<whole id>|TomatoSliced_0`: a piece that slicing a known object creates (the dry run checks the
    slicing comes first)."""
    whole, _, piece = oid.rpartition("|")
    node = world.get(whole)
    return bool(node and node.get("sliceable") and piece.startswith(piece_type(str(node.get("objectType"))) + "_"))


def _step_problems(st: PlannedSubtask, robots: dict[str, RobotProfile], world: SymbolicWorld) -> list[str]:
    problems: list[str] = []
    if not st.steps:
        problems.append(f"subtask {st.id}: no steps; every subtask needs skill steps the robot can run")
    for step in st.steps:
        skill = SKILLS.get(step.skill)
        if skill is None:
            problems.append(f"subtask {st.id}: unknown skill {step.skill!r} (skills: {', '.join(SKILLS)})")
            continue
        if st.robot in robots and step.skill not in robots[st.robot].skills:
            problems.append(f"subtask {st.id}: robot {st.robot} lacks skill {step.skill}")
        try:
            skill.parse_args(step.args)
        except ValueError as exc:
            problems.append(f"subtask {st.id}: {exc}")
    for oid in st.object_ids():
        if world.get(oid) is None and not _piece_of_known(world, oid):
            problems.append(f"subtask {st.id}: unknown object {oid!r} (use objectIds from the scene list)")
    return problems


def _goal_problems(goal: Goal, world: SymbolicWorld) -> list[str]:
    refs = []
    for selector in filter(None, (goal.subject, goal.condition.target)):
        if selector.ids is not None:
            continue
        if selector.id:
            refs.append(selector.id)
        elif selector.type:
            refs.append(selector.type)
    problems = [f"goal {goal.describe()!r} names {ref!r}, which is not in the scene"
                for ref in refs if world.get(ref) is None and not world.objects_of_type(ref)]
    if goal.state is not None and goal.state not in GOAL_STATES:
        problems.append(f"goal {goal.describe()!r}: unknown state {goal.state!r} (states: {', '.join(sorted(GOAL_STATES))})")
    return problems


def structure_problems(plan: Plan, robots: dict[str, RobotProfile], world: SymbolicWorld) -> list[str]:
    problems: list[str] = []
    if not plan.goals:
        problems.append("the plan has no goals; state what must hold in the scene when the task is done")
    ids = [s.id for s in plan.subtasks]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"subtask id {dup!r} is used twice")
    dag = nx.DiGraph()
    dag.add_nodes_from(ids)
    for st in plan.subtasks:
        if st.robot not in robots:
            problems.append(f"subtask {st.id}: unknown robot {st.robot!r} (robots: {', '.join(robots)})")
        for dep in st.depends_on:
            if dep not in ids:
                problems.append(f"subtask {st.id}: depends on unknown subtask {dep!r}")
            else:
                dag.add_edge(dep, st.id)
        problems += _step_problems(st, robots, world)
    if not nx.is_directed_acyclic_graph(dag):
        cycle = nx.find_cycle(dag)
        problems.append("subtask dependencies form a cycle: " + " -> ".join(a for a, _ in cycle))
    for goal in plan.goals:
        problems += _goal_problems(goal, world)
    return problems


def dry_run(plan: Plan, robots: dict[str, RobotProfile], world: SymbolicWorld) -> list[str]:
    """Apply every step in dependency order on a copy of the scene graph; report unmet preconditions.

    Subtasks with no dependency between them may run in any order, so each is checked in a fixed
    (lexicographic) topological order: a plan that only works in another order must say so.
    """
    sim = world.copy()
    dag = nx.DiGraph()
    dag.add_nodes_from(s.id for s in plan.subtasks)
    dag.add_edges_from((d, s.id) for s in plan.subtasks for d in s.depends_on)
    last = max((g.stage for g in plan.goals), default=0)
    reached = {i for i, g in enumerate(plan.goals) if g.stage < last and goal_holds(sim.nodes, g, plan.goals)}
    for sid in nx.lexicographical_topological_sort(dag):
        st = plan.subtask(sid)
        robot = _robot_node(sim, robots[st.robot])
        for n, step in enumerate(st.steps, 1):
            skill = SKILLS[step.skill]
            args = skill.parse_args(step.args)
            reasons = skill.check(sim, robot, args)
            if reasons:
                return [f"subtask {sid} step {n}: {r}" for r in reasons]
            skill.apply(sim, robot, args)
        # A goal of an earlier stage keeps its own result even when a later stage undoes it ("open the
        # fridge, then close it"): it counts once it has held after some subtask.
        reached |= {i for i, g in enumerate(plan.goals) if g.stage < last and goal_holds(sim.nodes, g, plan.goals)}
    unmet = set(map(id, unmet_goals(sim.nodes, plan.goals)))
    return [f"after all steps, goal {goal.describe()!r} would still not hold"
            for i, goal in enumerate(plan.goals) if id(goal) in unmet and i not in reached]


def validate(plan: Plan, snapshot: SceneSnapshot, robots: list[RobotProfile]) -> list[str]:
    """Every reason to reject `plan` (empty when it is sound)."""
    register_profiles(robots)  # the robots' declared skills, as they registered them
    by_name = {r.name: r for r in robots}
    world = SymbolicWorld.from_snapshot(snapshot)
    problems = structure_problems(plan, by_name, world)
    if problems:
        return problems
    return dry_run(plan, by_name, world)
