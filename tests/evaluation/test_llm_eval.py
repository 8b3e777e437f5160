"""`robocortex eval --planner llm` end to end: the suite's runs plan through the model client, against
the scripted OpenAI-compatible server over real HTTP, from worker processes, and the model calls and
tokens reach results.json. The server answers each task with a plan built from that task's scene."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from robocortex.evaluation.harness import team
from robocortex.brain.offline import OfflinePlanner
from robocortex.brain.planner import PlanRequest
from robocortex.cerebellum.perception import nodes_from_metadata
from robocortex.memory.schemas import SceneSnapshot
from robocortex.sim.emulator import EmulatorWorld

from tests.support.scripted_llm import Reply, ScriptedLLM

SUITE = """
name: llm-mini
timeout_s: 120
tasks:
  - id: fridge-and-light
    scene: Kitchen-0
    category: simple
    robots: [mobile_manipulator, light_manipulator]
    instruction: put the apple in the fridge and turn off the light
    goals:
      - {object: Apple, relation: in, target: Fridge}
      - {object: LightSwitch, state: isToggled, value: false}
  - id: bathroom-light
    scene: Bathroom-0
    category: elemental
    robots: [mobile_manipulator]
    instruction: turn off the light
    goals:
      - {object: LightSwitch, state: isToggled, value: false}
"""
USAGE = (900, 150)


def plan_for(scene: str, robots: list[str], instruction: str) -> str:
    """A plan for the scene as the emulator builds it: objectIds the model could only read from the prompt."""
    snapshot = SceneSnapshot(rev=1, nodes={n.id: n for n in nodes_from_metadata(EmulatorWorld().reset(scene, 1)[0])})
    plan = OfflinePlanner().plan(PlanRequest(instruction, snapshot, team(robots))).plan
    return plan.model_dump_json()


def test_eval_with_the_llm_planner_counts_model_calls_and_tokens(tmp_path, redis_url):
    answers = {
        "put the apple in the fridge and turn off the light": plan_for(
            "Kitchen-0", ["mobile_manipulator", "light_manipulator"], "put the apple in the fridge and turn off the light"),
        "turn off the light": plan_for("Bathroom-0", ["mobile_manipulator"], "turn off the light"),
    }

    def respond(body: dict) -> Reply:
        task = body["messages"][1]["content"].split("\n", 1)[0].removeprefix("Task: ")
        # RoboBrain 2.0's shape: thinking, then the answer in a fenced block
        return Reply(content=f"<think>Plan for {task!r} from the listed objectIds.</think>"
                             f"<answer>```json\n{answers[task]}\n```</answer>", usage=USAGE)

    suite = tmp_path / "llm-mini.yaml"
    suite.write_text(SUITE)
    with ScriptedLLM([], respond=respond) as llm:
        env = {**os.environ, "ROBOCORTEX_LLM__BASE_URL": llm.base_url, "ROBOCORTEX_REDIS_URL": redis_url,
               "ROBOCORTEX_LLM__MODE": "plan",  # RoboBrain's native plans (the default mode asks for goals)
               "ROBOCORTEX_KEY_PREFIX": f"test:{uuid.uuid4().hex[:8]}", "ROBOCORTEX_WORLD_BACKEND": "emulator"}
        done = subprocess.run([sys.executable, "-m", "robocortex.agents.cli", "eval", str(suite), "--planner", "llm",
                               "--workers", "2", "--out", str(tmp_path / "out")],
                              capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "planner llm" in done.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["planner"] == "llm"
    assert len(llm.requests) == 2, "one model call per run: both plans were valid"
    assert all(r["response_format"]["type"] == "json_schema" for r in llm.requests)
    for run in results["runs"]:
        assert run["success"], run
        assert (run["model_calls"], run["tokens"]) == (1, sum(USAGE))
    assert results["overall"]["success_rate"] == 1.0
    assert (results["overall"]["model_calls"], results["overall"]["tokens"]) == (1.0, sum(USAGE))
    trace = json.loads((tmp_path / "out" / "traces" / "fridge-and-light.1.json").read_text())
    assert trace["planner"] == "llm"
    plan_event = next(e for e in trace["events"] if e["kind"] == "plan")
    assert "from the listed objectIds" in plan_event["data"]["thinking"]
    assert plan_event["data"]["usage"] == {"prompt_tokens": USAGE[0], "completion_tokens": USAGE[1]}
