"""Free-text subtasks: the model's bounded tool-calling loop, against the scripted OpenAI-compatible
server through the real `openai` client, with skills run in the emulator."""

from __future__ import annotations

import json

from robocortex.agents.robot_worker import RobotWorker
from robocortex.agents.settings import LLMSettings, Settings
from robocortex.cerebellum.profiles import BUILTIN_PROFILES
from robocortex.cerebellum.reasoner import Reasoner
from robocortex.memory.schemas import SubtaskMessage

from tests.cerebellum.robots import Team, events_of, run_steps
from tests.support.scripted_llm import ScriptedLLM, reply


def call(name: str, **arguments) -> dict:
    return {"name": name, "arguments": arguments}


def llm_settings(llm: ScriptedLLM, **kw) -> LLMSettings:
    return LLMSettings(base_url=llm.base_url, timeout_s=20, max_retries=0, **kw)


def test_the_model_calls_skills_as_tools_until_it_finishes(team: Team):
    apple = team.oid("Apple")
    script = [reply("The apple is on the counter; go there.", tool_calls=[call("navigate_to", object=apple)]),
              reply(tool_calls=[call("pick_up", object=apple)]),
              reply(tool_calls=[call("finish", success=True)])]
    with ScriptedLLM(script) as llm:
        robot = team.robot("r1", 0, reasoner=Reasoner(llm_settings(llm)))
        result = run_steps(robot, description="pick up the apple")
    assert result.success, result.error
    assert team.world.metadata(0)["inventoryObjects"][0]["objectId"] == apple
    tools = [t["function"]["name"] for t in llm.requests[0]["tools"]]
    assert tools == BUILTIN_PROFILES["mobile_manipulator"].skills + ["finish"]
    assert apple in llm.requests[0]["messages"][1]["content"], "the model is told about the apple it must find"
    answer = llm.requests[1]["messages"][-1]
    assert answer["role"] == "tool" and answer["content"].startswith("ok.")
    assert ("thought", "The apple is on the counter; go there.") in events_of(team, result)


def test_a_server_without_tool_calls_gets_json_in_text(team: Team):
    apple = team.oid("Apple")
    script = [reply(reject_tools=True),
              reply(json.dumps({"tool": "navigate_to", "arguments": {"object": apple}})),
              reply('<think>I am next to it.</think>```json\n{"tool": "pick_up", "arguments": {"object": "%s"}}\n```'
                    % apple),
              reply('{"tool": "finish", "arguments": {"success": true}}')]
    with ScriptedLLM(script) as llm:
        robot = team.robot("r1", 0, reasoner=Reasoner(llm_settings(llm)))
        result = run_steps(robot, description="pick up the apple")
    assert result.success, result.error
    assert team.world.metadata(0)["inventoryObjects"][0]["objectId"] == apple
    assert "tools" in llm.requests[0] and "tools" not in llm.requests[1]
    assert '{"tool": "<name>", "arguments": {...}}' in llm.requests[1]["messages"][0]["content"]
    assert llm.requests[2]["messages"][-1]["content"].startswith("Result of navigate_to: ok.")


def test_failures_go_back_to_the_model_and_its_verdict_is_classified(team: Team):
    fridge = team.oid("Fridge")
    script = [reply(tool_calls=[call("close", object=fridge)]),
              reply(tool_calls=[call("finish", success=False, reason="the fridge was already closed")])]
    with ScriptedLLM(script) as llm:
        robot = team.robot("r1", 0, reasoner=Reasoner(llm_settings(llm, structured_output="auto")))
        result = run_steps(robot, description="close the fridge")
    assert not result.success and result.failure_kind == "precondition"
    assert "the model gave up: the fridge was already closed" in result.error
    assert llm.requests[1]["messages"][-1]["content"].startswith("failed (precondition): close:")


def test_the_loop_is_bounded(team: Team):
    with ScriptedLLM([reply("let me think about it")], repeat_last=True) as llm:
        robot = team.robot("r1", 0, reasoner=Reasoner(llm_settings(llm, structured_output="none"), max_turns=3))
        result = run_steps(robot, description="ponder")
    assert not result.success and result.failure_kind == "timeout"
    assert len(llm.requests) == 3 and "tools" not in llm.requests[0]


def test_the_worker_gives_the_executor_the_brains_llm_settings(redis_url, r, keys, team: Team):
    apple = team.oid("Apple")
    script = [reply(tool_calls=[call("navigate_to", object=apple)]), reply(tool_calls=[call("finish", success=True)])]
    with ScriptedLLM(script) as llm:
        settings = Settings(redis_url=redis_url, key_prefix=keys.prefix, llm=llm_settings(llm))
        worker = RobotWorker(settings, BUILTIN_PROFILES["mobile_manipulator"].for_robot("r1", 0), team.world)
        message = SubtaskMessage(task_id="t1", subtask_id="s1", robot="r1", description="go to the apple",
                                 objects=[apple])
        worker.memory.dispatcher.send(message)
        result = worker.handle(worker.memory.dispatcher.receive("r1", "r1", block_ms=100))
    assert result is not None and result.success, result and result.error
    assert worker.memory.dispatcher.result_for(message) == result
    assert worker.memory.dispatcher.pending("r1") == 0
    assert worker.memory.reservations.owner(apple) is None, "reservations are released"


def test_with_no_model_name_set_the_server_s_own_name_is_used(team: Team):
    apple = team.oid("Apple")
    script = [reply(tool_calls=[call("navigate_to", object=apple)]), reply(tool_calls=[call("finish", success=True)])]
    with ScriptedLLM(script, models=[{"id": "/models/robobrain2-7b"}]) as llm:
        robot = team.robot("r1", 0, reasoner=Reasoner(llm_settings(llm, model="")))
        result = run_steps(robot, description="go to the apple")
    assert result.success, result.error
    assert {r["model"] for r in llm.requests} == {"/models/robobrain2-7b"}
