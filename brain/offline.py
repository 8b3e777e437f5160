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

def failed_puts(failures: list[FailedSubtask]) -> dict[str, str]:
    """Receptacle → the world's code for why a put on it failed (`no_room` when it was full), for every
    put that failed with the object still in hand. Read from the typed failure, not the error text."""
    out: dict[str, str] = {}
    for failure in failures:
        step = failure.failed_step
        if failure.code != "action_failed" or step is None or step.skill != "put":
            continue
        receptacle = step.args.get("receptacle")
        if isinstance(receptacle, str):
            out[receptacle] = str(failure.details.get("world_code") or "other")
    return out


class OfflinePlanner:
    name = "offline"

    def plan(self, request: PlanRequest) -> PlanOutcome:
        world = SymbolicWorld.from_snapshot(request.snapshot)
        refused = failed_puts(request.failures)
        builder = JobBuilder(world, full={r for r, code in refused.items() if code == "no_room"}, avoid=set(refused))
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
