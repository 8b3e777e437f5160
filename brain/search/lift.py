"""A total-order plan lifted into a DAG by causal links.

The search plans for one abstract agent, so its plan is a sequence. Following it on the declared
preconditions and effects (logic.State) gives, for each step, the atoms it read and the atoms it
wrote; step j must come after an earlier step i when i wrote what j reads or writes, or read what j
writes (i achieves j's precondition, or one would undo the other's). The agent's own hand
(holding/handempty/near) is left out: which robot's hand is decided later, and a holding chain
(pick … put) stays on one robot (`hand_chains`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robocortex.cerebellum.skills import PREDICATES, SKILLS

from robocortex.brain.search.logic import Atom, State, Trace
from robocortex.brain.search.solve import GroundStep

HAND = frozenset({"holding", "handempty", "near"})
STATIC = frozenset(p for p, (_params, static, _meaning) in PREDICATES.items() if static)


@dataclass
class Followed:
    """A plan followed on the declarations: each step's trace, and the state after the last."""

    traces: list[Trace]
    final: State
    problems: list[str] = field(default_factory=list)


def follow(steps: list[GroundStep], state: State) -> Followed:
    state = state.copy()
    traces = []
    problems = []
    for n, step in enumerate(steps):
        sym = SKILLS[step.skill].symbolic
        ok, trace = state.step(sym.parameters, sym.precondition, sym.effect, step.values)
        if not ok:
            problems.append(f"step {n + 1} ({step.skill} {step.values}): precondition does not hold")
        traces.append(trace)
    return Followed(traces, state, problems)


def _shared(trace: Trace) -> tuple[set[Atom], set[Atom]]:
    """(reads, writes) over the world, not the agent's hand nor static facts."""
    keep = lambda atoms: {a for a in atoms if a[0] not in HAND and a[0] not in STATIC}  # noqa: E731
    return keep(trace.reads), keep(trace.adds | trace.deletes)


def causal_edges(traces: list[Trace]) -> set[tuple[int, int]]:
    """(i, j), i < j: step j must wait for step i."""
    rw = [_shared(t) for t in traces]
    edges = set()
    for j, (reads_j, writes_j) in enumerate(rw):
        for i in range(j):
            reads_i, writes_i = rw[i]
            if writes_i & (reads_j | writes_j) or reads_i & writes_j:
                edges.add((i, j))
    return edges


def hand_chains(steps: list[GroundStep], traces: list[Trace],
                held_at_start: str | None) -> tuple[list[list[int]], int | None]:
    """Steps grouped into units: each holding chain (from taking an object to letting it go, with every
    step that uses what is held) is one unit; every other step is a unit of its own. Also the index
    of the unit that carries on with what the agent held at the start (None if no step uses it)."""
    units: list[list[int]] = []
    chain: list[int] | None = [] if held_at_start else None
    held = held_at_start
    if chain is not None:
        units.append(chain)
    for n, (step, trace) in enumerate(zip(steps, traces)):
        grip = ("holding", step.values[0], held) if held is not None else None
        uses_hand = grip is not None and (grip in trace.reads or grip in trace.deletes)
        if step.skill == "pick_up":
            chain = [n]
            units.append(chain)
            held = step.values[1]
            continue
        if uses_hand and chain is not None:
            chain.append(n)
            if grip in trace.deletes:
                chain, held = None, None
            continue
        units.append([n])
    held_unit = 0 if held_at_start and units[0] else None
    return [u for u in units if u], held_unit


def justify(steps: list[GroundStep], state: State, goal: list) -> list[GroundStep]:
    """Drop the steps the plan does not need (greedy action elimination): the search is satisficing,
    and a step whose removal leaves every precondition and the goal holding is one no robot should do."""
    def works(candidate: list[GroundStep]) -> bool:
        followed = follow(candidate, state)
        return not followed.problems and followed.final.holds(["and", *goal], {})

    kept = list(steps)
    for i in reversed(range(len(kept))):
        trial = kept[:i] + kept[i + 1:]
        if works(trial):
            kept = trial
    return kept
