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
