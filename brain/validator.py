"""Plan validation: structure checks, then a symbolic dry run with the skills' own declarations.

Every problem comes back as a sentence the planner (human or model) can act on.
"""

from __future__ import annotations

import networkx as nx

from cerebellum.skills import SKILLS, SymbolicWorld
from memory.schemas import RobotProfile, SceneSnapshot

from brain.goals import unmet_goals
from brain.plan import Plan


def _robot_node(world: SymbolicWorld, profile: RobotProfile) -> dict:
    node = world.nodes.setdefault(profile.name, {"id": profile.name, "kind": "robot"})
    node.update(profile.model_dump(include={"skills", "payload_kg", "mobility"}), id=profile.name)
    return node


def structure_problems(plan: Plan, robots: dict[str, RobotProfile], world: SymbolicWorld) -> list[str]:
    problems: list[str] = []
    ids = [s.id for s in plan.subtasks]
    if not plan.subtasks:
        problems.append("the plan has no subtasks")
    for dup in {i for i in ids if ids.count(i) > 1}:
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
        for step in st.steps:
            skill = SKILLS.get(step.skill)
            if skill is None:
                problems.append(f"subtask {st.id}: unknown skill {step.skill!r} (skills: {', '.join(SKILLS)})")
                continue
            if st.robot in robots and step.skill not in robots[st.robot].skills:
                problems.append(f"subtask {st.id}: robot {st.robot} lacks skill {step.skill}")
            try:
                args = skill.parse_args(step.args)
            except ValueError as exc:
                problems.append(f"subtask {st.id}: {exc}")
                continue
            for oid in skill.target_ids(args):
                if world.get(oid) is None:
                    problems.append(f"subtask {st.id}: {step.skill} names unknown object {oid!r}")
    if not nx.is_directed_acyclic_graph(dag):
        cycle = nx.find_cycle(dag)
        problems.append("subtask dependencies form a cycle: " + " -> ".join(a for a, _ in cycle))
    for goal in plan.goals:
        for ref in filter(None, (goal.object, goal.target)):
            if world.get(ref) is None and not world.objects_of_type(ref):
                problems.append(f"goal {goal.describe()!r} names {ref!r}, which is not in the scene")
    return problems


def dry_run(plan: Plan, robots: dict[str, RobotProfile], world: SymbolicWorld) -> list[str]:
    """Apply every step in dependency order on a copy of the scene graph; report unmet preconditions."""
    sim = world.copy()
    dag = nx.DiGraph()
    dag.add_nodes_from(s.id for s in plan.subtasks)
    dag.add_edges_from((d, s.id) for s in plan.subtasks for d in s.depends_on)
    problems: list[str] = []
    for sid in nx.lexicographical_topological_sort(dag):
        st = plan.subtask(sid)
        robot = _robot_node(sim, robots[st.robot])
        for n, step in enumerate(st.steps, 1):
            skill = SKILLS[step.skill]
            args = skill.parse_args(step.args)
            reasons = skill.check(sim, robot, args)
            if reasons:
                problems += [f"subtask {sid} step {n}: {r}" for r in reasons]
                return problems
            skill.apply(sim, robot, args)
    if all(st.steps for st in plan.subtasks):
        for goal in unmet_goals(sim.nodes, plan.goals):
            problems.append(f"after all steps, goal {goal.describe()!r} would still not hold")
    return problems


def validate(plan: Plan, snapshot: SceneSnapshot, robots: list[RobotProfile]) -> list[str]:
    """Every reason to reject `plan` (empty when it is sound)."""
    by_name = {r.name: r for r in robots}
    world = SymbolicWorld.from_snapshot(snapshot)
    problems = structure_problems(plan, by_name, world)
    if problems:
        return problems
    return dry_run(plan, by_name, world)
