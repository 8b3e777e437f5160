"""The model-backed planner: RoboBrain 2.0 (or any OpenAI-compatible chat model) in one of two modes.

- `goals` (default): the model writes the task's goals in the goal language (brain/goal_language.py,
  JSON Schema enforced by the server where it can), and the search planner plans them — the same
  path the offline parser takes, so a plan is correct by construction. The answer is far smaller
  than a plan, which is what lets a small CPU model finish.
- `plan`: the model writes RoboBrain 2.0's native multi-robot plan; the brain's validator checks it.

The prompt is fitted to the model's context before sending (fewer objects, then object types only,
then a smaller completion budget). A reply that is not usable raises InvalidReply and the brain's
graph sends the reason back for a bounded number of repairs; a repair that gets the very same answer
back is asked again at once with a higher temperature and a shorter scene.
"""

from __future__ import annotations

import json
from typing import Any

from robocortex.brain.goal_language import goal_json_schema
from robocortex.brain.llm_client import ChatClient, ContextOverflow, Guard
from robocortex.brain.plan import Plan
from robocortex.brain.planner import InvalidReply, ModelCall, ModelCallFailed, PlanningError, PlanOutcome, PlanRequest
from robocortex.brain.prompt import build_messages, estimate_tokens
from robocortex.brain.replies import parse_goals, parse_plan, split_thinking, unknown_names

PLAN_SCHEMA = Plan.model_json_schema()
GOALS_SCHEMA = goal_json_schema()
LEVELS = {"goals": (0, 1, 2), "plan": (0, 1)}  # scene detail levels (brain/prompt.py), most detailed first
MIN_COMPLETION = {"goals": 192, "plan": 768}  # below this a completion budget is not worth sending


class LLMPlanner:
    name = "llm"

    def __init__(self, settings: Any):
        self.settings = settings
        self.mode: str = settings.mode
        self.client = ChatClient(settings)

    def plan(self, request: PlanRequest) -> PlanOutcome:
        guard = Guard(deadline=request.deadline, should_stop=request.should_stop, report=request.on_model_call)
        total = ModelCall(attempts=0, calls=0, output_format=self.client.mode())
        try:
            return self._plan(request, guard, total)
        except ModelCallFailed as exc:
            if exc.call is not None and exc.call is not total:
                _add(total, exc.call)
            exc.call = total
            raise

    # ------------------------------------------------------------------ asking

    def _plan(self, request: PlanRequest, guard: Guard, total: ModelCall) -> PlanOutcome:
        levels = list(LEVELS[self.mode])
        level, max_tokens = self._fit(request, levels)
        call = self._ask(request, levels, level, max_tokens, guard, total)
        if request.previous_reply and _same(call.raw, request.previous_reply):
            # The model gave the rejected answer again: vary the request (warmer, shorter scene) once.
            shorter = levels[min(levels.index(level) + 1, len(levels) - 1)]
            call = self._ask(request, levels, shorter, max_tokens, guard, total,
                             temperature=max(self.settings.repair_temperature, self.settings.temperature + 0.3))
        return self._read(call, request, total, max_tokens)

    def _fit(self, request: PlanRequest, levels: list[int]) -> tuple[int, int]:
        """The most detailed scene level, and completion budget, that fit the model's context."""
        budget = self.settings.completion_budget()
        context = self.client.context_length()
        if context is None:
            return levels[0], budget
        sizes = {lv: estimate_tokens(self._messages(request, lv)) for lv in levels}
        for lv in levels:
            if sizes[lv] + budget <= context:
                return lv, budget
        smallest = levels[-1]
        room = context - sizes[smallest]
        if room >= MIN_COMPLETION[self.mode]:
            return smallest, room
        raise ContextOverflow(f"the prompt needs about {sizes[smallest]} tokens even with the scene cut to its "
                              f"object types, and the model's context is {context} tokens (at least "
                              f"{MIN_COMPLETION[self.mode]} more are needed for the answer): serve the model "
                              "with a larger context")

    def _messages(self, request: PlanRequest, level: int) -> list[dict[str, Any]]:
        return build_messages(request, self.mode, level, think=self.settings.think)

    def _ask(self, request: PlanRequest, levels: list[int], level: int, max_tokens: int, guard: Guard,
             total: ModelCall, temperature: float | None = None) -> ModelCall:
        """One model call; a context overflow the server reports is met with a shorter scene."""
        schema, name = (GOALS_SCHEMA, "goals") if self.mode == "goals" else (PLAN_SCHEMA, "plan")
        while True:
            try:
                call = self.client.complete(self._messages(request, level), schema, guard=guard,
                                            temperature=temperature, max_tokens=max_tokens, schema_name=name)
            except ContextOverflow as exc:
                _add(total, exc.call)
                exc.call = total
                if level == levels[-1]:
                    raise
                level = levels[levels.index(level) + 1]
                continue
            _add(total, call)
            return call

    # ------------------------------------------------------------------ reading

    def _read(self, call: ModelCall, request: PlanRequest, total: ModelCall, max_tokens: int) -> PlanOutcome:
        thinking, answer = split_thinking(call.raw)
        call.thinking = total.thinking = "\n".join(filter(None, (call.thinking, thinking)))
        try:
            if self.mode == "plan":
                plan = parse_plan(answer)
            else:
                plan = self._plan_goals(answer, request)
        except ValueError as exc:
            if call.finish_reason == "length":
                raise InvalidReply(f"the reply was cut at the token limit ({max_tokens} tokens) before it was "
                                   "complete: answer with less", total) from None
            raise InvalidReply(f"the reply is not a valid {self.mode == 'plan' and 'plan' or 'goal list'}: {exc}",
                               total) from None
        if not plan.reasoning:
            plan.reasoning = call.thinking
        return PlanOutcome(plan=plan, call=total)

    def _plan_goals(self, answer: str, request: PlanRequest) -> Plan:
        spec = parse_goals(answer)
        problems = unknown_names(spec.goals, request.snapshot)
        if problems:
            raise ValueError("; ".join(problems))
        try:
            from robocortex.brain.search import plan_goals
        except ImportError:
            raise PlanningError("the goals mode needs the search planner (robocortex.brain.search), which is not "
                                "installed; set ROBOCORTEX_LLM__MODE=plan") from None
        try:
            outcome = plan_goals(spec.goals, request)
        except PlanningError as exc:
            raise ValueError(f"the goals cannot be planned: {exc}") from None
        plan = outcome.plan
        if spec.reasoning and not plan.reasoning:
            plan.reasoning = spec.reasoning
        return plan


def _add(total: ModelCall, call: ModelCall | None) -> None:
    """Fold one call into the plan's running total (the last call's text is the one kept)."""
    if call is None or call is total:
        return
    total.calls += call.calls
    total.attempts += call.attempts
    total.prompt_tokens += call.prompt_tokens
    total.completion_tokens += call.completion_tokens
    total.latency_s += call.latency_s
    total.raw, total.thinking = call.raw, call.thinking
    total.output_format, total.finish_reason = call.output_format, call.finish_reason


def _same(a: str, b: str) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except (ValueError, TypeError):
        return a.strip() == b.strip()
