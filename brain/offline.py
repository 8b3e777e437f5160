"""The offline planner: a rule-based parser over the scene's own vocabulary, and a makespan-aware
allocator. It needs no model, so RoboCortex runs anywhere; it must solve the built-in tasks.
"""

from __future__ import annotations

from robocortex.cerebellum.skills import SymbolicWorld

from robocortex.brain.allocation import allocate
from robocortex.brain.instructions import parse
from robocortex.brain.jobs import JobBuilder
from robocortex.brain.plan import Plan
from robocortex.brain.planner import FailedSubtask, PlanOutcome, PlanRequest

NO_ROOM = "No valid positions to place object found"  # AI2-THOR's answer when a receptacle is full


def failed_puts(failures: list[FailedSubtask]) -> dict[str, str]:
    """Receptacle → error, for every put that failed: the put of the object its robot still held after."""
    out: dict[str, str] = {}
    for failure in failures:
        if not failure.error.startswith("put failed"):
            continue
        still_held = failure.holding
        held = None
        for step in failure.steps:
            if step.skill == "pick_up":
                held = step.args.get("object")
            elif step.skill == "put":
                if held in (None, still_held) and isinstance(step.args.get("receptacle"), str):
                    out[step.args["receptacle"]] = failure.error
                held = None
    return out


class OfflinePlanner:
    name = "offline"

    def plan(self, request: PlanRequest) -> PlanOutcome:
        world = SymbolicWorld.from_snapshot(request.snapshot)
        refused = failed_puts(request.failures)
        builder = JobBuilder(world, full={r for r, error in refused.items() if NO_ROOM in error}, avoid=set(refused))
        jobs = [builder.build(clause) for clause in parse(request.instruction)]
        pending = [j for j in jobs if j.steps]
        subtasks = allocate(pending, request.robots, world, request.id_prefix)
        plan = Plan(
            goals=[j.goal for j in jobs],
            subtasks=subtasks,
            reasoning=f"{len(jobs)} goal(s), {len(jobs) - len(pending)} already true; "
            + "; ".join(f"{s.id}→{s.robot}: {s.description}" for s in subtasks),
        )
        return PlanOutcome(plan=plan)
