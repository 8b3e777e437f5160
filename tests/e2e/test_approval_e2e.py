"""Plan approval and the safety constitution with real processes (world host, two robot workers, the
brain service) on Kitchen-0, with a rule file given in the settings:

- a plan that opens the fridge (an escalating rule) waits in awaiting_approval, survives a brain killed
  with SIGKILL and started again, then is approved over REST and succeeds in the world;
- rejected, the task fails with who and why; edited (the robot reassigned), it runs as edited;
- a rejecting rule (a forbidden object) fails the task with the rule's name before anything is dispatched;
- the same constitution applies to a model's plan (the brain restarted on a scripted OpenAI-compatible
  server in plan mode).
"""

from __future__ import annotations

import os
import uuid

import httpx
import pytest

from robocortex.agents.follow import events, submit, world_check
from robocortex.agents.launcher import Stack

from tests.support.processes import until
from tests.support.scripted_llm import ScriptedLLM, reply

pytestmark = pytest.mark.e2e
BRAIN_ID = "brain-approval-e2e"
RULES = """
rules:
  - name: ask-before-opening-the-fridge
    kind: ask_human
    skills: [open]
    objects: {types: [Fridge]}
  - name: hands-off-the-tomatoes
    kind: forbidden_objects
    effect: reject
    objects: {types: [Tomato]}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    logs = tmp_path_factory.mktemp("approval-e2e")
    (logs / "rules.yaml").write_text(RULES)
    s = Stack(scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
              key_prefix=f"e2e-{uuid.uuid4().hex[:8]}", log_dir=logs,
              extra_env={"ROBOCORTEX_BRAIN_ID": BRAIN_ID, "ROBOCORTEX_CONSTITUTION": str(logs / "rules.yaml")})
    with s:
        yield s


def task(stack: Stack, task_id: str) -> dict:
    return httpx.get(f"{stack.api_url}/tasks/{task_id}", timeout=10).json()


def status_is(stack: Stack, task_id: str, status: str):
    return lambda: task(stack, task_id)["status"] == status


def finished(stack: Stack, task_id: str) -> tuple[dict, list[tuple[str, dict]]]:
    seen = list(events(stack.api_url, task_id, timeout_s=240))
    return task(stack, task_id), seen


def restart_brain(stack: Stack, **env: str) -> None:
    stack.procs["brain"].kill()  # no goodbye
    stack.procs["brain"].wait(10)
    stack.extra_env.update(env)
    port = stack.api_url.rsplit(":", 1)[1]
    stack.spawn("brain", "serve", "--port", port)  # same ROBOCORTEX_BRAIN_ID: it takes its own queue entries
    stack._wait_http("brain", stack.api_url + "/health")


def test_waits_for_approval_across_a_brain_restart_then_succeeds(stack):
    task_id = submit(stack.api_url, "open the fridge")
    until(status_is(stack, task_id, "awaiting_approval"), 120, "awaiting_approval")
    pending = httpx.get(f"{stack.api_url}/tasks/{task_id}/plan", timeout=10).json()
    assert pending["reasons"] == ["rule:ask-before-opening-the-fridge"]
    assert [v["rule"] for v in pending["violations"]] == ["ask-before-opening-the-fridge"]

    restart_brain(stack)
    assert task(stack, task_id)["status"] == "awaiting_approval"
    assert httpx.get(f"{stack.api_url}/tasks/{task_id}/plan", timeout=10).json()["round"] == 1

    resp = httpx.post(f"{stack.api_url}/tasks/{task_id}/approve", json={"by": "alice", "reason": "go"}, timeout=10)
    assert resp.status_code == 202, resp.text
    final, seen = finished(stack, task_id)
    assert final["status"] == "succeeded", (final["reason"], stack.tail("brain", 60))
    assert world_check(stack.world_url, final["plan"]) == []
    assert [(a["decision"], a["by"]) for a in final["approvals"]] == [("approve", "alice")]
    kinds = [k for k, _ in seen]
    assert kinds.count("approval_requested") == 1, "the restarted brain did not ask twice"
    assert kinds.index("approval") < kinds.index("dispatch")
    assert "resuming with the operator's decision" in stack.tail("brain", 200)


def test_rejected_plan_fails_with_who_and_why(stack):
    task_id = submit(stack.api_url, "close the fridge then open the fridge")  # whether it is open now or not
    until(status_is(stack, task_id, "awaiting_approval"), 120, "awaiting_approval")
    resp = httpx.post(f"{stack.api_url}/tasks/{task_id}/reject", json={"by": "bob", "reason": "defrosting"}, timeout=10)
    assert resp.status_code == 202, resp.text
    final, seen = finished(stack, task_id)
    assert final["status"] == "failed" and final["reason"] == "rejected by bob: defrosting"
    assert "dispatch" not in [k for k, _ in seen]


def test_edited_plan_runs_as_edited(stack):
    task_id = submit(stack.api_url, "close the fridge then open the fridge")
    until(status_is(stack, task_id, "awaiting_approval"), 120, "awaiting_approval")
    plan = httpx.get(f"{stack.api_url}/tasks/{task_id}/plan", timeout=10).json()["plan"]
    planned = {s["robot"] for s in plan["subtasks"]}
    other = "robot2" if "robot1" in planned else "robot1"
    edited = {**plan, "subtasks": [{**s, "robot": other} for s in plan["subtasks"]]}
    resp = httpx.post(f"{stack.api_url}/tasks/{task_id}/plan", json={"plan": edited, "by": "carol"}, timeout=10)
    assert resp.status_code == 202, resp.text
    final, seen = finished(stack, task_id)
    assert final["status"] == "succeeded", (final["reason"], stack.tail("brain", 60))
    assert {s["robot"] for s in final["subtasks"]} == {other}
    assert {d["robot"] for k, d in seen if k == "dispatch"} == {other}
    assert final["approvals"][0]["decision"] == "edit"


def test_a_forbidden_object_fails_the_task_by_rule_before_dispatch(stack):
    task_id = submit(stack.api_url, "slice the tomato")
    final, seen = finished(stack, task_id)
    assert final["status"] == "failed"
    assert final["reason"].startswith("rejected by the constitution: rule 'hands-off-the-tomatoes'"), final["reason"]
    assert "dispatch" not in [k for k, _ in seen]
    assert {v["rule"] for v in final["violations"]} == {"hands-off-the-tomatoes"}


def test_the_constitution_judges_a_models_plan_too(stack):
    scene = httpx.get(f"{stack.api_url}/scene", timeout=10).json()["nodes"]
    fridge = next(n for n, v in scene.items() if v.get("objectType") == "Fridge")
    tomato = next(n for n, v in scene.items() if v.get("objectType") == "Tomato")
    steps = [{"skill": "navigate_to", "args": {"object": fridge}}]
    if scene[fridge].get("isOpen"):  # earlier tests leave it open: close it first, so this plan opens it
        steps.append({"skill": "close", "args": {"object": fridge}})
    opens = {"goals": [{"object": "Fridge", "state": "isOpen", "value": True}],
             "subtasks": [{"id": "a", "robot": "robot1", "description": "open the fridge", "depends_on": [],
                           "steps": steps + [{"skill": "open", "args": {"object": fridge}}]}],
             "reasoning": "robot1 opens it"}
    takes = {"goals": [{"object": "Tomato", "held": True}],
             "subtasks": [{"id": "a", "robot": "robot1", "description": "take the tomato", "depends_on": [],
                           "steps": [{"skill": "navigate_to", "args": {"object": tomato}},
                                     {"skill": "pick_up", "args": {"object": tomato}}]}],
             "reasoning": "robot1 takes it"}
    with ScriptedLLM([reply(takes), reply(opens)]) as llm:
        restart_brain(stack, ROBOCORTEX_LLM__BASE_URL=llm.base_url, ROBOCORTEX_LLM__MODE="plan")
        rejected = submit(stack.api_url, "hold the tomato")
        final, seen = finished(stack, rejected)
        assert final["status"] == "failed" and "rule 'hands-off-the-tomatoes'" in final["reason"], final["reason"]
        assert "dispatch" not in [k for k, _ in seen] and len(llm.requests) == 1

        asked = submit(stack.api_url, "open the fridge")
        until(status_is(stack, asked, "awaiting_approval"), 120, "awaiting_approval")
        assert httpx.get(f"{stack.api_url}/tasks/{asked}/plan", timeout=10).json()["reasons"] == [
            "rule:ask-before-opening-the-fridge"]
        httpx.post(f"{stack.api_url}/tasks/{asked}/approve", json={"by": "dana"}, timeout=10).raise_for_status()
        final, _ = finished(stack, asked)
        assert final["status"] == "succeeded", final["reason"]
        assert final["metrics"]["model_calls"] == 1
