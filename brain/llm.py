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

import copy
import json
import random
from typing import Any

from robocortex.cerebellum.skills import SKILLS
from robocortex.memory.schemas import SceneSnapshot

from robocortex.brain.goal_language import categories, goal_json_schema
from robocortex.brain.llm_client import ChatClient, ContextOverflow, Guard
from robocortex.brain.plan import Plan
from robocortex.brain.planner import InvalidReply, ModelCall, ModelCallFailed, PlanningError, PlanOutcome, PlanRequest
from robocortex.brain.prompt import build_messages, estimate_tokens
from robocortex.brain.replies import parse_goals, parse_plan, split_thinking, unknown_names

PLAN_SCHEMA = Plan.model_json_schema()
GOALS_SCHEMA = goal_json_schema()
LEVELS = {"goals": (0, 1, 2), "plan": (0, 1)}  # scene detail levels (brain/prompt.py), most detailed first
MIN_COMPLETION = {"goals": 192, "plan": 768}  # below this a completion budget is not worth sending
SAME_AGAIN = "\nYou gave exactly this rejected answer again: give a different one."
MAX_GOALS = 12  # goals one answer may hold
MAX_ID_ENUM = 150  # objectIds are enumerated in the schema up to this many (a grammar per id costs)


def scene_goal_schema(snapshot: SceneSnapshot) -> dict[str, Any]:
    """The goal language's schema narrowed to this scene, for the server to enforce: types, categories
    (and ids, in scenes of modest size) are enumerated, and a condition is one of its four kinds —
    what the pydantic model checks after the fact, a grammar-constrained decoder now enforces while
    the model writes. Every answer valid here is valid GoalSpec."""
    schema = copy.deepcopy(GOALS_SCHEMA)
    _narrow_goals(schema["$defs"], snapshot)
    # Bounds that keep a small model from rambling until the token limit (grammar converters take them).
    schema["properties"]["goals"]["maxItems"] = MAX_GOALS
    schema["properties"]["reasoning"]["maxLength"] = 300
    return schema


def scene_plan_schema(request: PlanRequest) -> dict[str, Any]:
    """The plan's schema narrowed the same way for plan mode: robots enumerated, and each step one of
    the skills with that skill's own typed arguments (objectIds enumerated in scenes of modest size)
    instead of an untyped `args` object a grammar cannot constrain."""
    schema = copy.deepcopy(PLAN_SCHEMA)
    schema["properties"].pop("reports", None)  # the planner's own bookkeeping, not the model's
    defs = schema["$defs"]
    _narrow_goals(defs, request.snapshot)
    robots = [r.name for r in request.robots]
    if robots:
        defs["PlannedSubtask"]["properties"]["robot"] = {"enum": robots, "type": "string"}
    ids = _object_ids(request.snapshot)
    steps = []
    for name, skill in SKILLS.items():
        args = skill.args.model_json_schema()
        args.pop("title", None)
        if "$defs" not in args:
            for prop in args.get("properties", {}).values():
                if prop.get("type") == "string" and "enum" not in prop and ids:
                    prop["enum"] = ids
            args["additionalProperties"] = False
        steps.append({"type": "object", "additionalProperties": False, "required": ["skill", "args"],
                      "properties": {"skill": {"const": name, "type": "string"}, "args": args}})
    defs["SkillCall"] = {"description": "one skill call with that skill's arguments", "anyOf": steps}
    return schema


def _object_ids(snapshot: SceneSnapshot) -> list[str]:
    """The scene's objectIds, when few enough to enumerate in a schema."""
    ids = sorted(str(n["id"]) for n in snapshot.node_dicts().values() if n.get("kind", "object") == "object")
    return ids if len(ids) <= MAX_ID_ENUM else []


def _narrow_goals(defs: dict[str, Any], snapshot: SceneSnapshot) -> None:
    objects = [n for n in snapshot.node_dicts().values() if n.get("kind", "object") == "object"]
    sel = defs["Selector"]["properties"]
    _enum(sel, "type", sorted({str(n["objectType"]) for n in objects if n.get("objectType")}))
    _enum(sel, "category", sorted(categories()))
    _enum(sel, "id", _object_ids(snapshot))
    sel.pop("ids", None)  # filled in when goals are grounded, never by the model
    defs["Goal"]["properties"]["when"]["maxItems"] = 2
    props = defs["Condition"]["properties"]

    def kind(*required: str, optional: tuple[str, ...] = ()) -> dict[str, Any]:
        fields = {k: _not_null(props[k]) for k in required}
        fields.update({k: props[k] for k in optional + ("negate",)})
        return {"type": "object", "additionalProperties": False, "required": list(required), "properties": fields}

    defs["Condition"] = {"description": defs["Condition"].get("description", ""), "anyOf": [
        kind("relation", "target"), kind("state", "value", optional=("liquid",)), kind("held"), kind("temperature")]}


def _enum(props: dict[str, Any], name: str, values: list[str]) -> None:
    if values:
        props[name] = {**{k: v for k, v in props[name].items() if k != "anyOf"},
                       "anyOf": [{"enum": values, "type": "string"}, {"type": "null"}]}


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A property's schema without its null alternative (and default): required in this kind."""
    options = [o for o in prop.get("anyOf", []) if o.get("type") != "null"]
    base = {k: v for k, v in prop.items() if k not in ("anyOf", "default")}
    return {**base, **options[0]} if len(options) == 1 else base


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
            call = self._ask(request, levels, shorter, max_tokens, guard, total, vary=True)
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
             total: ModelCall, vary: bool = False) -> ModelCall:
        """One model call; a context overflow the server reports is met with a shorter scene. `vary`: the
        same rejected answer came back, so ask warmer, with another seed, saying so."""
        schema, name = ((scene_goal_schema(request.snapshot), "goals") if self.mode == "goals"
                        else (scene_plan_schema(request), "plan"))
        temperature = max(self.settings.repair_temperature, self.settings.temperature + 0.3) if vary else None
        while True:
            messages = self._messages(request, level)
            if vary:
                messages[-1] = {**messages[-1], "content": messages[-1]["content"] + SAME_AGAIN}
            try:
                call = self.client.complete(messages, schema, guard=guard, temperature=temperature,
                                            max_tokens=max_tokens, schema_name=name,
                                            seed=random.randrange(2**31) if vary else None)
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
