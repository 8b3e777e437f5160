"""The PDDL domain, generated from the skill declarations (cerebellum/skills.py: PREDICATES and each
skill's `symbolic` form) — the skills stay the one source of truth for what an action needs and does.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from robocortex.cerebellum.skills import PREDICATES, SKILLS

from robocortex.brain.search.logic import Expr, parsed, typed_vars

REQUIREMENTS = (":strips :typing :negative-preconditions :disjunctive-preconditions :equality "
                ":existential-preconditions :universal-preconditions :conditional-effects")


def searched_skills(skills: Iterable[str]) -> list[str]:
    """The skills the search may use, of those some robot has (navigation is added later)."""
    have = set(skills)
    return [name for name, skill in SKILLS.items() if name in have and skill.symbolic.search]


def action_name(skill: str) -> str:
    return skill.replace("_", "-")


def skill_of(action: str) -> str:
    return action.replace("-", "_")


def domain_pddl(skills: Iterable[str], name: str = "robocortex") -> str:
    """The domain for the skills named (an abstract agent may use every skill some robot has)."""
    predicates = "\n    ".join(f"({p} {params})" for p, (params, _static, _meaning) in PREDICATES.items())
    actions = []
    for skill in searched_skills(skills):
        sym = SKILLS[skill].symbolic
        actions.append(f"  (:action {action_name(skill)}\n    :parameters ({sym.parameters})\n"
                       f"    :precondition {sym.precondition}\n    :effect {sym.effect})")
    return (f"(define (domain {name})\n  (:requirements {REQUIREMENTS})\n  (:types robot object)\n"
            f"  (:predicates\n    {predicates})\n" + "\n".join(actions) + ")\n")


# --------------------------------------------------------------------------- the same, as unified-planning objects
# Built straight from the declarations (no PDDL text to parse: unified-planning's PDDL reader costs more than
# the search on these problems); Fast Downward still receives PDDL, written by unified-planning.


def up_name(name: str) -> str:
    return name.replace("-", "_")


def up_domain(skills: frozenset[str]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """(a unified-planning Problem holding the domain, its fluents by predicate, its types), cached by the
    skills and their PDDL forms (a declared skill's form changes when its robot re-registers)."""
    forms = tuple((n, s.parameters, s.precondition, s.effect, s.search)
                  for n in sorted(skills) if n in SKILLS for s in [SKILLS[n].symbolic])
    return _up_domain(skills, forms)


@lru_cache(maxsize=16)
def _up_domain(skills: frozenset[str], forms: tuple[Any, ...]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    import unified_planning.model as upm
    from unified_planning.shortcuts import BoolType, UserType

    types = {"robot": UserType("robot"), "object": UserType("object")}
    problem = upm.Problem("robocortex")
    fluents: dict[str, Any] = {}
    for pred, (params, _static, _meaning) in PREDICATES.items():
        signature = {up_name(v[1:]): types[t] for v, t in typed_vars(params)}
        fluents[pred] = upm.Fluent(up_name(pred), BoolType(), **signature)
        problem.add_fluent(fluents[pred], default_initial_value=False)
    for skill in searched_skills(skills):
        sym = SKILLS[skill].symbolic
        params = typed_vars(sym.parameters)
        action = upm.InstantaneousAction(skill, **{up_name(v[1:]): types[t] for v, t in params})
        env = {v: action.parameter(up_name(v[1:])) for v, _ in params}
        action.add_precondition(_formula(parsed(sym.precondition), env, fluents, types))
        _effects(action, parsed(sym.effect), env, fluents, types, [], [])
        problem.add_action(action)
    return problem, fluents, types


def _formula(expr: Expr, env: dict[str, Any], fluents: dict[str, Any], types: dict[str, Any]) -> Any:
    from unified_planning.shortcuts import And, Equals, Exists, Forall, Implies, Not, Or

    op = expr[0]
    if op == "and":
        return And(*(_formula(e, env, fluents, types) for e in expr[1:])) if len(expr) > 1 else True
    if op == "or":
        return Or(*(_formula(e, env, fluents, types) for e in expr[1:]))
    if op == "not":
        return Not(_formula(expr[1], env, fluents, types))
    if op == "imply":
        return Implies(_formula(expr[1], env, fluents, types), _formula(expr[2], env, fluents, types))
    if op in ("forall", "exists"):
        inner, variables = _bind(expr[1], env, types)
        body = _formula(expr[2], inner, fluents, types)
        return (Forall if op == "forall" else Exists)(body, *variables)
    if op == "=":
        return Equals(env[expr[1]], env[expr[2]])
    return fluents[op](*(env.get(a, a) for a in expr[1:]))


def _bind(spec: Expr, env: dict[str, Any], types: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    import unified_planning.model as upm

    inner = dict(env)
    variables = []
    for var, typ in typed_vars(spec):
        inner[var] = upm.Variable(f"{up_name(var[1:])}_{len(env)}", types[typ])
        variables.append(inner[var])
    return inner, variables


def _effects(action: Any, expr: Expr, env: dict[str, Any], fluents: dict[str, Any], types: dict[str, Any],
             conditions: list[Any], variables: list[Any]) -> None:
    from unified_planning.shortcuts import And

    op = expr[0]
    if op == "and":
        for e in expr[1:]:
            _effects(action, e, env, fluents, types, conditions, variables)
    elif op == "forall":
        inner, new = _bind(expr[1], env, types)
        _effects(action, expr[2], inner, fluents, types, conditions, variables + new)
    elif op == "when":
        cond = _formula(expr[1], env, fluents, types)
        _effects(action, expr[2], env, fluents, types, conditions + [cond], variables)
    else:
        value = op != "not"
        atom = expr[1] if op == "not" else expr
        condition = And(*conditions) if conditions else True
        action.add_effect(_formula(atom, env, fluents, types), value, condition, forall=variables)
