"""The model-backed planner: RoboBrain 2.0 (or any OpenAI-compatible chat model) writes the plan.

The prompt carries the scene graph, robots and skills (brain/prompt.py); the reply is read in
whatever shape it comes (brain/replies.py). A reply that is not a valid plan raises InvalidReply,
and the brain's graph sends the reason back for a bounded number of repairs.
"""

from __future__ import annotations

from typing import Any

from robocortex.brain.llm_client import ChatClient
from robocortex.brain.plan import Plan
from robocortex.brain.planner import InvalidReply, PlanOutcome, PlanRequest
from robocortex.brain.prompt import build_messages
from robocortex.brain.replies import parse_plan, split_thinking

PLAN_SCHEMA = Plan.model_json_schema()


class LLMPlanner:
    name = "llm"

    def __init__(self, settings: Any):
        self.client = ChatClient(settings)

    def plan(self, request: PlanRequest) -> PlanOutcome:
        call = self.client.complete(build_messages(request), PLAN_SCHEMA)
        thinking, answer = split_thinking(call.raw)
        call.thinking = "\n".join(filter(None, (call.thinking, thinking)))
        try:
            plan = parse_plan(answer)
        except ValueError as exc:
            raise InvalidReply(f"the reply is not a valid plan: {exc}", call) from None
        if not plan.reasoning:
            plan.reasoning = call.thinking
        return PlanOutcome(plan=plan, call=call)
