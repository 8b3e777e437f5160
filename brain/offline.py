"""The offline planner: a rule-based parser over the scene's own vocabulary, and a makespan-aware
allocator. It needs no model, so RoboCortex runs anywhere; it must solve the built-in tasks.
"""

from __future__ import annotations

from cerebellum.skills import SymbolicWorld

from brain.allocation import allocate
from brain.instructions import parse
from brain.jobs import JobBuilder
from brain.plan import Plan
from brain.planner import PlanOutcome, PlanRequest


class OfflinePlanner:
    name = "offline"

    def plan(self, request: PlanRequest) -> PlanOutcome:
        world = SymbolicWorld.from_snapshot(request.snapshot)
        builder = JobBuilder(world)
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
