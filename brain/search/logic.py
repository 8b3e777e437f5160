"""The skills' symbolic declarations, read: PDDL s-expressions parsed and evaluated on a set of
ground atoms.

The search planner hands the same declarations to Fast Downward (as PDDL text); this module lets
the brain follow a found plan step by step itself — to know what each step reads and writes (for
lifting the plan into a DAG), to carry the state from one stage to the next, and to check that the
declarations agree with the skills' Python checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

Atom = tuple[str, ...]
Expr = Any  # a token (str) or a list of Expr


def parse(text: str) -> Expr:
    """One s-expression: '(and (p ?x) (not (q ?x)))' → ['and', ['p', '?x'], ['not', ['q', '?x']]]."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").split()
    expr, rest = _read(tokens, 0)
    if rest != len(tokens):
        raise ValueError(f"trailing text in {text!r}")
    return expr


def _read(tokens: list[str], i: int) -> tuple[Expr, int]:
    if tokens[i] != "(":
        return tokens[i].lower(), i + 1
    out: list[Expr] = []
    i += 1
    while tokens[i] != ")":
        item, i = _read(tokens, i)
        out.append(item)
    return out, i + 1


@lru_cache(maxsize=None)
def parsed(text: str) -> Expr:
    return parse(text)


def typed_vars(spec: Expr) -> list[tuple[str, str]]:
    """'(?p ?v - object)' (parsed) or '?r - robot ?o - object' → [('?p', 'object'), ('?v', 'object')]."""
    items = spec if isinstance(spec, list) else parse(f"({spec})")
    out: list[tuple[str, str]] = []
    pending: list[str] = []
    i = 0
    while i < len(items):
        if items[i] == "-":
            out += [(v, items[i + 1]) for v in pending]
            pending = []
            i += 2
        else:
            pending.append(items[i])
            i += 1
    return out + [(v, "object") for v in pending]


@dataclass
class Trace:
    """What evaluating a step consulted and changed."""

    reads: set[Atom] = field(default_factory=set)
    adds: set[Atom] = field(default_factory=set)
    deletes: set[Atom] = field(default_factory=set)


class State:
    """Ground atoms that hold, and the typed objects quantifiers range over."""

    def __init__(self, atoms: set[Atom], objects: dict[str, list[str]]):
        self.atoms = atoms
        self.objects = objects  # type → names

    def copy(self) -> "State":
        return State(set(self.atoms), self.objects)

    def holds(self, expr: Expr, env: dict[str, str], trace: Trace | None = None) -> bool:
        op = expr[0]
        if op == "and":
            return all(self.holds(e, env, trace) for e in expr[1:])
        if op == "or":
            return any(self.holds(e, env, trace) for e in expr[1:])
        if op == "not":
            return not self.holds(expr[1], env, trace)
        if op == "imply":
            return not self.holds(expr[1], env, trace) or self.holds(expr[2], env, trace)
        if op in ("forall", "exists"):
            test = all if op == "forall" else any
            return test(self.holds(expr[2], b, trace) for b in self._bindings(expr[1], env))
        if op == "=":
            return env.get(expr[1], expr[1]) == env.get(expr[2], expr[2])
        atom = ground(expr, env)
        if trace is not None:
            trace.reads.add(atom)
        return atom in self.atoms

    def _bindings(self, spec: Expr, env: dict[str, str]) -> list[dict[str, str]]:
        out = [dict(env)]
        for var, typ in typed_vars(spec):
            out = [{**b, var: o} for b in out for o in self.objects.get(typ, [])]
        return out

    def effects(self, expr: Expr, env: dict[str, str], trace: Trace) -> None:
        op = expr[0]
        if op == "and":
            for e in expr[1:]:
                self.effects(e, env, trace)
        elif op == "forall":
            for b in self._bindings(expr[1], env):
                self.effects(expr[2], b, trace)
        elif op == "when":
            if self.holds(expr[1], env, trace):
                self.effects(expr[2], env, trace)
        elif op == "not":
            trace.deletes.add(ground(expr[1], env))
        else:
            trace.adds.add(ground(expr, env))

    def step(self, parameters: str, precondition: str, effect: str, values: list[str]) -> tuple[bool, Trace]:
        """Apply one ground action: (whether its precondition held, what it read and wrote)."""
        env = {v: x for (v, _), x in zip(typed_vars(parameters), values)}
        trace = Trace()
        ok = self.holds(parsed(precondition), env, trace)
        self.effects(parsed(effect), env, trace)
        self.atoms -= trace.deletes
        self.atoms |= trace.adds  # PDDL: adds win over deletes of the same atom
        return ok, trace


def ground(expr: Expr, env: dict[str, str]) -> Atom:
    return tuple([expr[0], *(env.get(a, a) for a in expr[1:])])
