"""The offline planner: the instruction understood offline (brain/understanding), then a plan searched
from its goals (brain/search: Fast Downward over the skills' own declarations, lifted into a DAG and
allocated across the robots). It needs no model, so RoboCortex runs anywhere.
"""

from __future__ import annotations

import time

from robocortex.brain.planner import PlanOutcome, PlanRequest
from robocortex.brain.search import plan_goals
from robocortex.brain.understanding import understand


class OfflinePlanner:
    name = "offline"

    def plan(self, request: PlanRequest) -> PlanOutcome:
        started = time.perf_counter()
        understood = understand(request.instruction, request.snapshot)
        parse_ms = (time.perf_counter() - started) * 1000
        outcome = plan_goals(understood.goals, request)
        if understood.notes:
            outcome.plan.reasoning = "; ".join(understood.notes) + "; " + outcome.plan.reasoning
        outcome.timing = {"parse_ms": round(parse_ms, 1), **outcome.timing}
        return outcome
