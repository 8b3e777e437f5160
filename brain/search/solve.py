"""Search: the generated PDDL handed to Fast Downward through unified-planning.

Fast Downward runs as a subprocess (up-fast-downward ships the binary), with its satisficing
configuration (LAMA's first iteration): plans are found in well under a second on pruned problems.
The found plan is read back as (skill, objectIds) steps.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from robocortex.brain.search.domain import _formula, skill_of, up_domain
from robocortex.brain.search.logic import Atom, Expr

SEARCH_TIME_LIMIT_S = 20
# unified-planning's environment (expression manager, name registry) is process-wide and not made for
# threads; the brain plans tasks in threads, so one search is built and run at a time.
_LOCK = threading.Lock()
# Found plans by canonical problem (objectIds replaced by their position in the problem's object
# list). Fast Downward is deterministic, so an identical problem gets the identical plan: the same
# goal on another object of the same standing, or a fleet's many "open the cabinet", search once.
PLAN_CACHE_SIZE = 1024
_PLANS: OrderedDict[tuple, tuple[str, ...] | list[tuple[str, tuple[int | str, ...]]]] = OrderedDict()
_COUNTS = {"hits": 0, "misses": 0}


def clear_plan_cache() -> None:
    with _LOCK:
        _PLANS.clear()


def plan_cache_info() -> dict[str, int]:
    """Searches answered from the plan cache (`hits`) and run by Fast Downward (`misses`)."""
    return {**_COUNTS, "size": len(_PLANS)}


class SearchFailed(Exception):
    """Fast Downward found no plan (the goals are unreachable from the scene as the search sees it).
    `proven`: the search proved it (the same problem fails again); not after a timeout or an error."""

    def __init__(self, message: str, proven: bool = False):
        super().__init__(message)
        self.proven = proven


@dataclass
class GroundStep:
    skill: str
    values: list[str]  # the action's arguments: objectIds (and the abstract agent)


def _planner():
    """Fast Downward through unified-planning, its intermediate SAS file kept in the engine's own
    temporary directory (by default the driver writes `output.sas` to the working directory, where
    concurrent searches overwrite each other's)."""
    import os

    import unified_planning.shortcuts as ups
    from up_fast_downward import FastDownwardPDDLPlanner

    ups.get_environment().credits_stream = None

    class Planner(FastDownwardPDDLPlanner):
        def _base_cmd(self, plan_filename: str):
            sas = os.path.join(os.path.dirname(plan_filename), "output.sas")
            return super()._base_cmd(plan_filename) + ["--sas-file", sas]

        def _plan_from_str(self, problem, plan_str, get_item_named):
            # The stock driver builds a new PDDLReader (its whole pyparsing grammar, ~70 ms) to read
            # a few plan lines; its plan reader is plain regular expressions and keeps no state.
            return _plan_reader(problem.environment).parse_plan_string(problem, plan_str, get_item_named)

    planner = Planner(fast_downward_search_time_limit=f"{SEARCH_TIME_LIMIT_S}s")
    planner.error_on_failed_checks = False
    return planner


@lru_cache(maxsize=1)
def _plan_reader(environment: Any) -> Any:
    from unified_planning.io import PDDLReader

    return PDDLReader(environment)


def solve(skills: Iterable[str], objects: list[str], init: Iterable[Atom], goal: list[Expr],
          agent: str) -> list[GroundStep]:
    """The steps of a plan reaching `goal` from `init` (atoms over objectIds) with the skills named."""
    skills = frozenset(skills)
    init = list(init)
    index = {oid: i for i, oid in enumerate(objects)}
    key = (tuple(sorted(skills)), len(objects), agent,
           tuple(sorted(_canonical(atom, index) for atom in init)), _canonical(goal, index))
    with _LOCK:
        known = _PLANS.get(key)
        _COUNTS["misses" if known is None else "hits"] += 1
        if known is None:
            try:
                steps = _solve(skills, objects, init, goal, agent)
                known = [(s.skill, tuple(index.get(v, v) for v in s.values)) for s in steps]
            except SearchFailed as exc:
                if not exc.proven:  # a timeout under load is no answer to remember
                    raise
                known = (str(exc),)
            _PLANS[key] = known
            while len(_PLANS) > PLAN_CACHE_SIZE:
                _PLANS.popitem(last=False)
        else:
            _PLANS.move_to_end(key)
    if isinstance(known, tuple):
        raise SearchFailed(known[0], proven=True)
    return [GroundStep(skill, [objects[v] if isinstance(v, int) else v for v in values]) for skill, values in known]


def _canonical(expr: Any, index: dict[str, int]) -> Any:
    """An atom or goal formula with each objectId replaced by its position (hashable)."""
    if isinstance(expr, (list, tuple)):
        return tuple(_canonical(e, index) for e in expr)
    return index.get(expr, expr)


def _solve(skills: Iterable[str], objects: list[str], init: Iterable[Atom], goal: list[Expr],
           agent: str) -> list[GroundStep]:
    import unified_planning.model as upm
    from unified_planning.engines import PlanGenerationResultStatus as Status
    from unified_planning.exceptions import UPException
    from unified_planning.shortcuts import And

    template, fluents, types = up_domain(frozenset(skills))
    problem = template.clone()
    env: dict[str, Any] = {}
    for i, oid in enumerate(objects):
        env[oid] = upm.Object(f"o{i}", types["object"])
    env[agent] = upm.Object(agent, types["robot"])
    problem.add_objects(env.values())
    for atom in init:
        problem.set_initial_value(fluents[atom[0]](*(env[a] for a in atom[1:])), True)
    problem.add_goal(And(*(_formula(g, env, fluents, types) for g in goal)))
    with _planner() as planner:
        try:
            result = planner.solve(problem)
        except UPException as exc:  # e.g. a goal that simplifies to false: goals that contradict each other
            raise SearchFailed(f"unsolvable ({type(exc).__name__})", proven=True) from None
    if result.status not in (Status.SOLVED_SATISFICING, Status.SOLVED_OPTIMALLY) or result.plan is None:
        raise SearchFailed(str(result.status.name).lower(), proven=result.status == Status.UNSOLVABLE_PROVEN)
    ids = {obj.name: oid for oid, obj in env.items()}
    return [GroundStep(action.action.name, [ids[str(p)] for p in action.actual_parameters])
            for action in result.plan.actions]


def solve_pddl(domain: str, problem: str, ids: dict[str, str]) -> list[GroundStep]:
    """The same from PDDL text (what `domain_pddl` and `Problem.pddl` write), for inspection and tests."""
    from unified_planning.engines import PlanGenerationResultStatus as Status
    from unified_planning.io import PDDLReader

    with _LOCK, _planner() as planner:
        result = planner.solve(PDDLReader().parse_problem_string(domain, problem))
    if result.status not in (Status.SOLVED_SATISFICING, Status.SOLVED_OPTIMALLY) or result.plan is None:
        raise SearchFailed(str(result.status.name).lower())
    return [GroundStep(skill_of(a.action.name), [ids.get(str(p), str(p)) for p in a.actual_parameters])
            for a in result.plan.actions]
