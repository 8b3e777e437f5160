"""The model-backed planner in the brain's closed loop, against the scripted OpenAI-compatible
server over real HTTP with the real `openai` client: formats, repairs, retries, failure."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from robocortex.agents.brain_service import create_app
from robocortex.agents.settings import LLMSettings, Settings
from robocortex.brain.llm import LLMPlanner
from robocortex.brain.llm_client import forget_endpoints
from robocortex.memory.schemas import TaskStatus

from tests.brain.conftest import run
from tests.support.scripted_llm import ScriptedLLM, reply

APPLE_TO_FRIDGE = [
    {"skill": "navigate_to", "args": {"object": "Apple|1"}}, {"skill": "pick_up", "args": {"object": "Apple|1"}},
    {"skill": "navigate_to", "args": {"object": "Fridge|1"}}, {"skill": "open", "args": {"object": "Fridge|1"}},
    {"skill": "put", "args": {"receptacle": "Fridge|1"}}, {"skill": "close", "args": {"object": "Fridge|1"}},
]
VALID = {"goals": [{"object": "Apple", "relation": "in", "target": "Fridge"}],
         "subtasks": [{"id": "a", "robot": "robot1", "description": "put the apple in the fridge",
                       "depends_on": [], "steps": APPLE_TO_FRIDGE}],
         "reasoning": "robot1 stands by the apple"}
HALLUCINATED = json.loads(json.dumps(VALID).replace("Apple|1", "Banana|9"))
TASK = "put the apple in the fridge"


def settings_for(base_url: str, **kw) -> LLMSettings:
    kw.setdefault("mode", "plan")
    return LLMSettings(base_url=base_url, timeout_s=kw.pop("timeout_s", 10), backoff_s=0.05, **kw)


@pytest.fixture(autouse=True)
def _fresh_endpoints():
    forget_endpoints()  # what was learned about a server is kept per endpoint; ports are reused
    yield
    forget_endpoints()


@pytest.fixture
def llm_brain(brain):
    deps, start_robots, saver = brain
    start_robots()

    def go(llm: ScriptedLLM | str, **kw):
        deps.planner = LLMPlanner(settings_for(llm if isinstance(llm, str) else llm.base_url, **kw))
        return run(deps, saver, TASK)

    return go, deps


def events(deps, task_id, kind):
    return [e for _, e in deps.tasks.events(task_id, count=1000) if e.kind == kind]


def test_valid_plan_runs_and_usage_is_recorded(llm_brain):
    go, deps = llm_brain
    with ScriptedLLM([reply(VALID, usage=(321, 45))]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    assert llm.requests[0]["response_format"]["type"] == "json_schema"
    assert record.metrics["prompt_tokens"] == 321 and record.metrics["completion_tokens"] == 45
    assert record.metrics["model_calls"] == 1 and record.metrics["model_latency_s"] > 0
    plan_event = events(deps, record.id, "plan")[0]
    assert plan_event.data["usage"] == {"prompt_tokens": 321, "completion_tokens": 45}
    assert plan_event.data["latency_s"] > 0


def test_invalid_json_is_repaired(llm_brain):
    go, deps = llm_brain
    with ScriptedLLM([reply("Here you go: {goals: [oops"), reply(VALID)]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    repair = llm.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": "Here you go: {goals: [oops"}
    assert "holds no JSON object" in repair[-1]["content"]
    assert record.metrics["model_calls"] == 2


def test_hallucinated_object_is_repaired(llm_brain):
    go, deps = llm_brain
    with ScriptedLLM([reply(HALLUCINATED), reply(VALID)]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    assert "unknown object 'Banana|9'" in llm.requests[1]["messages"][-1]["content"]
    assert "Banana|9" in events(deps, record.id, "plan_invalid")[0].message


def test_timeout_is_retried(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([reply(VALID, delay_s=3), reply(VALID)]) as llm:
        record = go(llm, timeout_s=0.5)
    assert record.status == TaskStatus.succeeded, record.reason
    assert len(llm.requests) == 2 and record.metrics["model_attempts"] == 2


def test_rate_limit_and_server_errors_are_retried(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([reply(status=429), reply(status=503), reply(VALID)]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    assert record.metrics["model_attempts"] == 3 and record.metrics["model_calls"] == 1


def test_tool_call_format(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([reply(tool_calls=[{"name": "submit_plan", "arguments": VALID}])]) as llm:
        record = go(llm, structured_output="tools")
    assert record.status == TaskStatus.succeeded, record.reason
    assert llm.requests[0]["tool_choice"]["function"]["name"] == "submit_plan"
    assert "goals" in llm.requests[0]["tools"][0]["function"]["parameters"]["properties"]


def test_thinking_then_answer_keeps_the_thinking(llm_brain):
    go, deps = llm_brain
    text = ("<think>The apple is on the counter; the fridge is closed, so open it first.</think>"
            f"<answer>```json\n{json.dumps({**VALID, 'reasoning': ''})}\n```</answer>")
    with ScriptedLLM([reply(text)]) as llm:
        record = go(llm, structured_output="none")
    assert record.status == TaskStatus.succeeded, record.reason
    assert "response_format" not in llm.requests[0]
    plan_event = events(deps, record.id, "plan")[0]
    assert "fridge is closed" in plan_event.data["thinking"]
    assert "fridge is closed" in record.plan["reasoning"]


def test_llama_cpp_json_object_mode(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([reply(VALID)]) as llm:
        record = go(llm, structured_output="json_object")
    assert record.status == TaskStatus.succeeded, record.reason
    fmt = llm.requests[0]["response_format"]
    assert fmt["type"] == "json_object" and "subtasks" in fmt["schema"]["properties"]


@pytest.mark.parametrize("accepted, used", [(("json_object",), ["json_schema", "json_object"]),
                                            ((), ["json_schema", "json_object", None])])
def test_auto_mode_steps_down_to_what_the_server_takes(llm_brain, accepted, used):
    go, _ = llm_brain
    with ScriptedLLM([reply(VALID, accept_formats=accepted)]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    assert [(r.get("response_format") or {}).get("type") for r in llm.requests] == used


def test_unreachable_model_fails_the_task_with_the_reason(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([]) as llm:
        dead = llm.base_url  # nothing listens here once the server has stopped
    record = go(dead, max_retries=1)
    assert record.status == TaskStatus.failed
    assert "planning failed" in record.reason and "after 2 attempt(s)" in record.reason


def wait_terminal(client: TestClient, task_id: str, timeout_s: float = 60) -> dict:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        record = client.get(f"/tasks/{task_id}").json()
        if record["status"] in ("succeeded", "failed", "cancelled"):
            return record
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not end: {record}")


def test_model_that_never_plans_fails_the_task_and_the_service_carries_on(brain, redis_url, keys):
    deps, start_robots, _ = brain
    start_robots()
    never = reply(HALLUCINATED)
    with ScriptedLLM([never] * 7 + [reply(VALID)]) as llm:
        settings = Settings(redis_url=redis_url, key_prefix=keys.prefix, brain_id="brain-test", brain_workers=2,
                            max_repairs=3, llm=settings_for(llm.base_url))
        with TestClient(create_app(settings)) as client:
            first = client.post("/tasks", json={"instruction": TASK}).json()["id"]
            failed = wait_terminal(client, first)
            assert failed["status"] == "failed"
            assert "no valid plan after 3 repairs" in failed["reason"] and "Banana|9" in failed["reason"]
            assert len(llm.requests) == 7, "one plan and three repairs (each asked again, varied), then it stops"
            assert [r["temperature"] for r in llm.requests] == [0.0] + [0.0, 0.7] * 3
            varied = llm.requests[2]
            assert "seed" in varied and "seed" not in llm.requests[1]
            assert varied["messages"][-1]["content"].endswith("You gave exactly this rejected answer again: "
                                                              "give a different one.")
            assert failed["metrics"]["model_calls"] == 7
            assert client.get("/robots").status_code == 200
            second = client.post("/tasks", json={"instruction": TASK}).json()["id"]
            assert wait_terminal(client, second)["status"] == "succeeded"


def test_a_replan_that_numbers_its_subtasks_again_still_runs(brain):
    """Models number every plan s1, s2… (here: "a" again); a reused id gets the round's prefix, so the
    new subtask is dispatched instead of being taken for the old, failed one."""
    deps, start_robots, saver = brain
    start_robots(robot1={"fail_once": {"a"}})
    with ScriptedLLM([reply(VALID), reply(VALID)]) as llm:
        deps.planner = LLMPlanner(settings_for(llm.base_url))
        record = run(deps, saver, TASK)
    assert record.status == TaskStatus.succeeded, record.reason
    assert record.replans == 1
    assert [(s.id, s.status.value) for s in record.subtasks] == [("a", "failed"), ("r1.a", "succeeded")]
    assert "This is a replan" in llm.requests[1]["messages"][1]["content"]


# --------------------------------------------------------------------------- real-server behaviour (issue 11)

LLAMA_CPP_PYTHON_500 = ("[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                        "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}]")
CONTEXT_400 = "This model's maximum context length is 2048 tokens. However, you requested 2300 tokens."


def test_a_500_naming_response_format_steps_down_once_for_the_endpoint(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([reply(status=500, error_message=LLAMA_CPP_PYTHON_500), reply(VALID)]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    assert [r["response_format"]["type"] for r in llm.requests] == ["json_schema", "json_object"], \
        "not retried as a server error: a format refusal"
    # a new planner on the same endpoint starts where the first one ended; another endpoint does not
    assert LLMPlanner(settings_for(llm.base_url)).client.mode() == "json_object"
    assert LLMPlanner(settings_for("http://127.0.0.1:9/v1")).client.mode() == "json_schema"


def test_a_context_overflow_never_downgrades_the_format_and_shortens_the_scene(llm_brain):
    go, deps = llm_brain
    with ScriptedLLM([reply(status=400, error_message=CONTEXT_400), reply(VALID)]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    first, second = llm.requests
    assert first["response_format"]["type"] == second["response_format"]["type"] == "json_schema"
    assert len(second["messages"][1]["content"]) < len(first["messages"][1]["content"])
    assert record.metrics["model_calls"] == 2, "the refused call is counted too"


def test_the_prompt_is_fitted_to_the_context_the_server_reports(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([reply(VALID)], models=[{"id": "robobrain", "max_model_len": 2500}]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    sent = llm.requests[0]
    assert sent["model"] == "robobrain", "the model name comes from /v1/models when unset"
    assert sent["max_tokens"] < 4096, "the completion budget shrinks to what the context leaves"
    assert sum(len(m["content"]) for m in sent["messages"]) // 3 + sent["max_tokens"] <= 2500


def test_a_prompt_that_cannot_fit_fails_before_anything_is_sent(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([], models=[{"id": "tiny", "max_model_len": 512}]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.failed
    assert "model's context is 512 tokens" in record.reason and llm.requests == []


def test_an_unknown_model_name_is_answered_with_the_servers_names(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([reply(VALID)], models=[{"id": "/models/robobrain-7b"}], model="/models/robobrain-7b",
                     strict_model=True) as llm:
        record = go(llm, model="BAAI/RoboBrain2.0-7B")
    assert record.status == TaskStatus.failed
    assert "does not serve model 'BAAI/RoboBrain2.0-7B'; it serves: /models/robobrain-7b" in record.reason


def test_a_reply_cut_at_the_token_limit_is_reported_as_such(llm_brain):
    go, deps = llm_brain
    cut = json.dumps(VALID)[:200]
    with ScriptedLLM([reply(cut, finish_reason="length"), reply(VALID)]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    assert "cut at the token limit" in events(deps, record.id, "plan_invalid")[0].message
    assert "cut at the token limit" in llm.requests[1]["messages"][-1]["content"]


def test_repairs_restate_the_shape(llm_brain):
    go, _ = llm_brain
    with ScriptedLLM([reply(HALLUCINATED), reply(VALID)]) as llm:
        go(llm)
    assert '"subtasks": [{"id": str, "robot": ROBOT' in llm.requests[1]["messages"][-1]["content"]


def test_every_attempt_is_an_event_and_failed_calls_are_in_the_metrics(llm_brain):
    go, deps = llm_brain
    with ScriptedLLM([]) as llm:
        dead = llm.base_url
    record = go(dead, max_retries=1)
    assert record.status == TaskStatus.failed
    calls = events(deps, record.id, "model_call")
    assert [e.data["phase"] for e in calls] == ["start", "end", "start", "end"]
    assert calls[-1].data["ok"] is False and calls[-1].data["error"]
    assert record.metrics["model_calls"] == 1 and record.metrics["model_attempts"] == 2


def _cancel_when_generating(deps, llm: ScriptedLLM):
    def watch():
        deadline = time.time() + 10
        while time.time() < deadline:
            for record in deps.tasks.list():
                if any(e.kind == "model_call" for _, e in deps.tasks.events(record.id, count=100)):
                    time.sleep(0.3)
                    deps.tasks.request_cancel(record.id)
                    return
            time.sleep(0.05)

    import threading

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


def test_cancel_during_a_model_call_stops_generation_on_the_server(llm_brain):
    go, deps = llm_brain
    slow = reply(VALID, chunk_delay_s=0.2)  # ~100 chunks: 20 s if nobody hangs up
    with ScriptedLLM([slow]) as llm:
        watcher = _cancel_when_generating(deps, llm)
        started = time.time()
        record = go(llm, timeout_s=30)
        watcher.join()
        time.sleep(0.5)
        assert llm.disconnects == 1, "the client hung up, so the server stopped generating"
    assert record.status == TaskStatus.cancelled, record.reason
    assert time.time() - started < 8
    assert record.metrics["model_calls"] == 1


def test_the_task_deadline_ends_a_model_call(llm_brain):
    go, deps = llm_brain
    deps.config.task_timeout_s = 2.0
    with ScriptedLLM([reply(VALID, chunk_delay_s=0.2)]) as llm:
        started = time.time()
        record = go(llm, timeout_s=30)
        time.sleep(0.5)
        assert llm.disconnects == 1
    assert record.status == TaskStatus.failed
    assert "deadline passed during a model call" in record.reason
    assert time.time() - started < 6


def test_vllm_reasoning_content_is_kept_when_streamed(llm_brain):
    go, deps = llm_brain
    with ScriptedLLM([reply(VALID, reasoning="robot1 is next to the apple")]) as llm:
        record = go(llm)
    assert record.status == TaskStatus.succeeded, record.reason
    assert llm.requests[0]["stream"] is True
    assert events(deps, record.id, "plan")[0].data["thinking"] == "robot1 is next to the apple"


def test_think_asks_for_think_and_answer_and_reads_text(llm_brain):
    go, deps = llm_brain
    text = f"<think>open the fridge first</think><answer>{json.dumps(VALID)}</answer>"
    with ScriptedLLM([reply(text)]) as llm:
        record = go(llm, think=True)
    assert record.status == TaskStatus.succeeded, record.reason
    assert "<think>" in llm.requests[0]["messages"][0]["content"]
    assert "response_format" not in llm.requests[0], "a constrained decoder could not write <think> first"
    assert events(deps, record.id, "plan")[0].data["thinking"] == "open the fridge first"


# --------------------------------------------------------------------------- goals mode (issue 10 part 4)

APPLE_IN_FRIDGE_GOALS = {"goals": [{"subject": {"type": "Apple"},
                                    "condition": {"relation": "in", "target": {"type": "Fridge"}}}],
                         "reasoning": "the apple belongs in the fridge"}


def _goals_request(kitchen, two_robots, **kw):
    from robocortex.brain.planner import PlanRequest

    return PlanRequest(TASK, kitchen, two_robots, **kw)


def test_goals_mode_asks_for_the_goal_language_and_names_what_the_scene_lacks(kitchen, two_robots):
    from robocortex.brain.goal_language import goal_json_schema
    from robocortex.brain.llm import scene_goal_schema
    from robocortex.brain.planner import InvalidReply

    wrong = {"goals": [{"subject": {"type": "Aple"}, "condition": {"relation": "in", "target": {"type": "Fridge"}}}]}
    with ScriptedLLM([reply(wrong)]) as llm:
        planner = LLMPlanner(settings_for(llm.base_url, mode="goals"))
        with pytest.raises(InvalidReply, match=r"goals\.0\.subject: no object of type 'Aple' in the scene "
                                               r"\(did you mean 'Apple'\?\)") as caught:
            planner.plan(_goals_request(kitchen, two_robots))
    sent = llm.requests[0]
    assert sent["response_format"] == {"type": "json_schema", "json_schema": {"name": "goals",
                                                                              "schema": scene_goal_schema(kitchen)}}
    assert goal_json_schema()["$defs"].keys() == sent["response_format"]["json_schema"]["schema"]["$defs"].keys()
    system, user = sent["messages"][0]["content"], sent["messages"][1]["content"]
    assert "Examples:" in system and '"condition": {"relation": "in"' in system
    assert "Apple|1" in user and "robot2: mobile_manipulator" in user
    assert "Skills:" not in user, "the search planner picks the skills; the model is not told them"
    assert caught.value.call.raw == json.dumps(wrong) and caught.value.call.calls == 1


def test_goals_mode_repairs_restate_the_schema_and_the_error(kitchen, two_robots):
    from robocortex.brain.planner import InvalidReply
    from robocortex.brain.prompt import GOALS_SHAPE

    with ScriptedLLM([reply('{"goals": []}')]) as llm:
        planner = LLMPlanner(settings_for(llm.base_url, mode="goals", structured_output="json_object"))
        request = _goals_request(kitchen, two_robots, previous_reply='{"goals": [{"subject": "Aple"}]}',
                                 feedback=["goals.0.condition: Field required"])
        with pytest.raises(InvalidReply, match="the answer has no goals"):
            planner.plan(request)
    repair = llm.requests[0]["messages"]
    assert repair[-2]["role"] == "assistant" and "Aple" in repair[-2]["content"]
    assert "goals.0.condition: Field required" in repair[-1]["content"] and GOALS_SHAPE in repair[-1]["content"]
    fmt = llm.requests[0]["response_format"]
    assert fmt["type"] == "json_object" and fmt["schema"]["$defs"]["Goal"], "llama.cpp's form: a schema to enforce"


def _search_available() -> bool:
    try:
        from robocortex.brain.search import plan_goals  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _search_available(), reason="the search planner (robocortex.brain.search) is not on main yet")
def test_goals_from_the_model_are_planned_by_the_search_planner_and_run(llm_brain):
    go, deps = llm_brain
    with ScriptedLLM([reply(APPLE_IN_FRIDGE_GOALS)]) as llm:
        record = go(llm, mode="goals")
    assert record.status == TaskStatus.succeeded, record.reason
    assert len(llm.requests) == 1
    plan = events(deps, record.id, "plan")[0].data["plan"]
    assert plan["goals"][0]["subject"]["type"] == "Apple" and plan["subtasks"]
    assert record.metrics["model_calls"] == 1


def test_cancel_while_the_server_is_still_reading_the_prompt(llm_brain):
    """No chunk has come yet (a slow prompt, or only keep-alives): the task ends at once all the same."""
    go, deps = llm_brain
    with ScriptedLLM([reply(VALID, delay_s=6)]) as llm:
        watcher = _cancel_when_generating(deps, llm)
        started = time.time()
        record = go(llm, timeout_s=30)
        took = time.time() - started
        watcher.join()
    assert record.status == TaskStatus.cancelled, record.reason
    assert took < 4, "not held until the server's first byte"


def test_plan_mode_sends_a_schema_a_grammar_can_enforce(kitchen, two_robots):
    """Each step is one skill with its own typed arguments (no untyped `args` a grammar cannot
    constrain), robots and objectIds enumerated; the prompt's goal form is the schema's."""
    import jsonschema

    from robocortex.brain.goal_language import GoalSpec
    from robocortex.brain.llm import scene_plan_schema
    from robocortex.brain.prompt import system_message

    schema = scene_plan_schema(_goals_request(kitchen, two_robots))
    full = {**VALID, "goals": [{"subject": {"type": "Apple"},
                                "condition": {"relation": "in", "target": {"type": "Fridge"}}}]}
    jsonschema.validate(full, schema)
    for bad in (json.loads(json.dumps(full).replace("Apple|1", "Banana|9")), {**full, "subtasks": [{**full["subtasks"][0], "robot": "robot9"}]},
                {**full, "subtasks": [{**full["subtasks"][0], "steps": [{"skill": "put", "args": {"object": "Apple|1"}}]}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
    example = system_message("plan").split("A goal is either ")[1]
    assert example.startswith('{"subject": {"type": TYPE}')
    GoalSpec.model_validate({"goals": full["goals"]})
