"""Skills from MCP servers (cerebellum/mcp_skills.py): tools → declared skills (schema, targets,
preconditions, effects, unplannable with why), the registry, typed outcomes and failures, and the
executor running them — against the reference skill server as a real process (stdio and HTTP) acting on
an emulated world through a real world host on loopback."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import anyio
import httpx
import pytest
import uvicorn
from mcp import Client
from mcp_types import CallToolResult, TextContent

from robocortex.agents.launcher import free_port
from robocortex.agents.skill_server import barcode, build_server
from robocortex.cerebellum.mcp_skills import McpServer, McpSkills, SkillDeclaration, outcome_of, spec_from_tool
from robocortex.cerebellum.profiles import BUILTIN_PROFILES, ProfileSpec
from robocortex.cerebellum.skills import (
    SKILLS,
    SymbolicWorld,
    declared_symbolic,
    openai_tools,
    register_profiles,
    register_specs,
    skill_from_spec,
)
from robocortex.memory.schemas import RobotProfile, SkillCondition, SkillSource, SkillSpec
from robocortex.sim.host import create_world_app

from tests.cerebellum.robots import run_steps

SERVER = [sys.executable, "-m", "robocortex.agents.skill_server"]


def reference_tools() -> dict:
    async def main():
        async with Client(build_server("http://127.0.0.1:9")) as client:
            return {t.name: t for t in (await client.list_tools()).tools}

    return anyio.run(main)


@pytest.fixture(autouse=True)
def registry():
    """Declared skills registered by a test are gone after it (SKILLS is the process's registry)."""
    from robocortex.cerebellum import skills

    before, specs = dict(SKILLS), dict(skills._SPECS)
    yield
    SKILLS.clear()
    SKILLS.update(before)
    skills._SPECS.clear()
    skills._SPECS.update(specs)


@pytest.fixture(scope="module")
def tools():
    return reference_tools()


def ref(**kw) -> McpServer:
    return McpServer(name="ref", url="http://127.0.0.1:9/mcp", **kw)


# --------------------------------------------------------------------------- schema → skill


def test_a_tool_with_a_declaration_becomes_a_plannable_skill(tools):
    spec = spec_from_tool(ref(), tools["wipe"])
    assert spec.source == SkillSource(kind="mcp", name="ref")
    assert spec.parameters["required"] == ["object"] and spec.parameters["properties"]["object"]["type"] == "string"
    assert spec.targets == ["object"] and spec.unplannable is None
    assert [(c.arg, c.flag, c.value) for c in spec.effects] == [("object", "isDirty", False)]
    skill = skill_from_spec(spec)
    assert skill.source.kind == "mcp" and skill.targets == ("object",)
    assert skill.symbolic.search
    assert skill.symbolic.parameters == "?r - robot ?a0 - object"
    assert skill.symbolic.precondition == "(and (dirtyable ?a0) (dirty ?a0))"
    assert skill.symbolic.effect == "(and (not (dirty ?a0)))" and skill.symbolic.args == {"object": "?a0"}
    assert skill.openai_tool()["function"]["parameters"]["required"] == ["object"]


def test_tools_without_effects_are_callable_but_unplannable_with_the_reason(tools):
    scan = spec_from_tool(ref(), tools["scan_barcode"])
    assert "read-only" in scan.unplannable
    wave = spec_from_tool(ref(), tools["wave"])
    assert "declares no effects" in wave.unplannable
    for spec in (scan, wave):
        skill = skill_from_spec(spec)
        assert not skill.symbolic.search and skill.unplannable == spec.unplannable
        assert skill.openai_tool()["function"]["name"] == spec.name  # the model may still call it


def test_a_declaration_beside_the_server_wins_and_a_bad_one_says_why(tools):
    beside = ref(skills={"wave": SkillDeclaration(effects=[SkillCondition(flag="isOpen")])})
    spec = spec_from_tool(beside, tools["wave"])
    assert spec.effects == [SkillCondition(flag="isOpen")]
    assert "isOpen needs the argument naming the object" in spec.unplannable
    wrong = SkillSpec(name="polish", parameters={"type": "object", "properties": {"object": {"type": "string"}}},
                      effects=[SkillCondition(arg="object", flag="isShiny")])
    assert "unknown flag 'isShiny'" in declared_symbolic(wrong)[1]
    affordance = wrong.model_copy(update={"effects": [SkillCondition(arg="object", flag="pickupable")]})
    assert "is an affordance" in declared_symbolic(affordance)[1]


def test_arguments_are_checked_against_the_tools_schema(tools):
    skill = skill_from_spec(spec_from_tool(ref(), tools["wipe"]))
    assert skill.parse_args({"object": "Pot|1"}).object == "Pot|1"
    with pytest.raises(ValueError, match="'object' is a required property"):
        skill.parse_args({})
    with pytest.raises(ValueError, match="is not of type 'string'"):
        skill.parse_args({"object": 3})


def test_declared_preconditions_and_effects_act_on_the_scene_graph(tools):
    skill = skill_from_spec(spec_from_tool(ref(), tools["wipe"]))
    world = SymbolicWorld({"Pot|1": {"id": "Pot|1", "kind": "object", "dirtyable": True, "isDirty": True},
                           "Mug|1": {"id": "Mug|1", "kind": "object", "dirtyable": True, "isDirty": False},
                           "r1": {"id": "r1", "kind": "robot"}})
    robot = world.nodes["r1"]
    assert skill.check(world, robot, skill.parse_args({"object": "Pot|1"})) == []
    assert skill.check(world, robot, skill.parse_args({"object": "Mug|1"})) == ["wipe: Mug|1 is not isDirty"]
    problems = skill.check(world, robot, skill.parse_args({"object": "Nope|1"}))
    assert problems and problems[0].code == "unknown_object"
    skill.apply(world, robot, skill.parse_args({"object": "Pot|1"}))
    assert world.nodes["Pot|1"]["isDirty"] is False


def test_the_registry_takes_declared_skills_beside_the_built_in_ones(tools):
    from robocortex.brain.search.domain import domain_pddl

    spec = spec_from_tool(ref(), tools["wipe"])
    try:
        register_profiles([RobotProfile(name="r9", agent_id=0, skills=["wipe"], skill_specs=[spec],
                                        skill_sources={"wipe": spec.source})])
        assert SKILLS["wipe"].source.name == "ref"
        assert "(:action wipe" in domain_pddl(["wipe"])
        assert [t["function"]["name"] for t in openai_tools(["wipe", "open"])] == ["wipe", "open"]
        changed = spec.model_copy(update={"description": "wipe it"})
        assert register_specs([changed])[0].description == "wipe it"  # a robot re-registered: replaced
        shadow = spec.model_copy(update={"name": "clean"})
        assert register_specs([shadow]) == [] and SKILLS["clean"].source.kind == "builtin"
        with pytest.raises(ValueError, match="shadow the built-in"):
            skill_from_spec(shadow)
    finally:
        SKILLS.pop("wipe", None)


def test_the_brain_takes_a_robots_declared_skills_at_the_next_plan(tools):
    from robocortex.brain.planner import PlanRequest
    from robocortex.brain.search.domain import up_domain
    from robocortex.memory.schemas import SceneSnapshot

    spec = spec_from_tool(ref(), tools["wipe"])
    robot = RobotProfile(name="r1", agent_id=0, skills=["wipe"], skill_specs=[spec])
    assert "wipe" not in SKILLS
    PlanRequest("clean the pot", SceneSnapshot(rev=0, nodes={}), [robot])
    first = up_domain(frozenset({"wipe"}))
    assert SKILLS["wipe"].symbolic.precondition == "(and (dirtyable ?a0) (dirty ?a0))"
    # the robot re-registers with another declaration: the next plan's domain follows it
    changed = spec.model_copy(update={"requires": spec.requires[:1]})
    PlanRequest("clean the pot", SceneSnapshot(rev=1, nodes={}),
                [robot.model_copy(update={"skill_specs": [changed]})])
    assert SKILLS["wipe"].symbolic.precondition == "(and (dirtyable ?a0))"
    assert up_domain(frozenset({"wipe"})) is not first


def test_a_profile_lists_mcp_servers_kept_out_of_the_stored_profile():
    spec = ProfileSpec(embodiment="mobile_manipulator", skills=["navigate_to"], payload_kg=1.0,
                       mcp_servers=[{"name": "ref", "url": "http://127.0.0.1:1/mcp", "headers": {"Authorization": "Bearer s3cret"}}])
    bound = spec.for_robot("r1", 0)
    assert bound.mcp_servers[0].headers["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in bound.model_dump_json() and "mcp_servers" not in bound.model_dump()
    with pytest.raises(ValueError, match="exactly one of command"):
        McpServer(name="x")
    with pytest.raises(ValueError, match="exactly one of command"):
        McpServer(name="x", url="http://h/mcp", command=["srv"])


# --------------------------------------------------------------------------- outcomes and failures


def result(text: str, error: bool = False, structured=None) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=error, structured_content=structured)


def test_tool_results_and_errors_map_to_typed_outcomes():
    ok = outcome_of("ref", result("done", structured={"barcode": "RC-1"}))
    assert ok.ok and ok.text == "done" and ok.structured == {"barcode": "RC-1"}
    missing = outcome_of("ref", result("no such pot", True, {"code": "object_missing", "object": "Pot|1"}))
    assert missing.code == "object_missing"
    assert missing.details == {"skill_source": "mcp", "mcp_server": "ref", "mcp_error": "no such pot", "object": "Pot|1"}
    assert outcome_of("ref", result("odd", True, {"code": "on_fire"})).code == "action_failed"  # not a FailureCode
    assert outcome_of("ref", result("plain error", True)).code == "action_failed"


def test_a_server_that_is_not_there_costs_its_skills_not_the_robot():
    port = free_port()
    skills = McpSkills([McpServer(name="gone", url=f"http://127.0.0.1:{port}/mcp", timeout_s=5)], "r1", 0)
    assert skills.discover() == [] and "gone" in skills.problems
    skills.skill_server["wipe"] = "gone"
    out = skills.call("wipe", {"object": "Pot|1"})
    assert out.code == "other" and out.details["problem"] == "skill_server_unavailable"


def test_over_stdio_tools_are_listed_and_a_slow_call_is_a_timeout():
    skills = McpSkills([McpServer(name="ref", command=[*SERVER, "--world-url", "http://127.0.0.1:9", "--delay-s", "30"],
                                  timeout_s=4)], "r1", 0)
    specs = skills.discover()
    assert {s.name for s in specs} == {"wipe", "scan_barcode", "wave"} and skills.handles("wave")
    started = time.monotonic()
    out = skills.call("wave", {})
    assert out.code == "timeout" and out.details["problem"] == "skill_server_timeout"
    assert time.monotonic() - started < 15


# --------------------------------------------------------------------------- the executor runs them


@pytest.fixture
def world_host(team):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_world_app(team.world, "Kitchen-0", 2), host="127.0.0.1",
                                           port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


TOKEN = {"Authorization": "Bearer s3cret"}


@pytest.fixture
def http_skill_server(world_host, tmp_path):
    port = free_port()
    log = open(tmp_path / "skill-server.log", "w")
    proc = subprocess.Popen([*SERVER, "--world-url", world_host, "--transport", "http", "--port", str(port),
                             "--token", "s3cret"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/mcp"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


def mcp_robot(team, servers: list[McpServer]):
    provider = McpSkills(servers, "robot1", 0)
    specs = provider.discover()
    register_specs(specs)
    base = BUILTIN_PROFILES["mobile_manipulator"]
    spec = ProfileSpec(embodiment=base.embodiment, skills=[s for s in base.skills if s != "clean"], payload_kg=5.0)
    executor = team.robot("robot1", 0, mcp=provider)
    executor.profile = spec.for_robot("robot1", 0).model_copy(
        update={"skills": [*spec.skills, *(s.name for s in specs)], "skill_specs": specs})
    return executor


def test_the_executor_runs_an_mcp_skill_over_stdio(team, world_host):
    robot = mcp_robot(team, [McpServer(name="ref", command=[*SERVER, "--world-url", world_host])])
    pot = team.oid("Pot")
    assert team.truth(pot)["isDirty"]
    done = run_steps(robot, ("wipe", {"object": pot}), ("scan_barcode", {"object": pot}))
    assert done.success, done.error
    assert team.truth(pot)["isDirty"] is False and team.scene.node(pot).flag("isDirty") is False
    scans = [e for _, e in team.tasks.events(done.task_id, count=1000)
             if e.kind == "observation" and e.data.get("skill") == "scan_barcode"]
    assert scans[0].data["result"]["barcode"] == barcode(pot)
    # a declared precondition is checked before the server is called: the pot is clean now
    again = run_steps(robot, ("wipe", {"object": pot}))
    assert not again.success and again.failure.code == "precondition" and again.failure.skill == "wipe"


def test_the_executor_maps_a_server_error_and_a_dead_server_to_failed_steps(team, world_host, http_skill_server):
    refused = McpSkills([McpServer(name="ref", url=http_skill_server, list_timeout_s=10)], "robot1", 0)
    assert refused.discover() == [] and "ref" in refused.problems  # 401 without the token: headers carry auth
    robot = mcp_robot(team, [McpServer(name="ref", url=http_skill_server, timeout_s=10, headers=TOKEN)])
    missing = run_steps(robot, ("scan_barcode", {"object": "Ghost|+0.00|+0.00|+0.00"}))
    assert not missing.success and missing.failure.code == "object_missing"  # the executor's own check, first
    gone = McpSkills([McpServer(name="ref", url=f"http://127.0.0.1:{free_port()}/mcp", timeout_s=5)], "robot1", 0)
    gone.skill_server = dict(robot.mcp.skill_server)
    robot.mcp = gone
    failed = run_steps(robot, ("wave", {}))
    assert not failed.success and failed.failure.code == "other"
    assert failed.failure.details["problem"] == "skill_server_unavailable" and failed.failure.skill == "wave"
    assert failed.failure.details["mcp_server"] == "ref"


def test_the_worker_records_where_each_skill_comes_from(redis_url, keys, team, http_skill_server):
    from robocortex.agents.robot_worker import RobotWorker
    from robocortex.agents.settings import Settings

    settings = Settings(redis_url=redis_url, key_prefix=keys.prefix,
                        policy={"servers": {"pick_up": "http://127.0.0.1:9/act"}})
    spec = ProfileSpec(embodiment="mobile_manipulator", skills=["navigate_to", "pick_up", "put"], payload_kg=2.0,
                       mcp_servers=[McpServer(name="ref", url=http_skill_server, tools=["wipe", "wave"], headers=TOKEN)])
    worker = RobotWorker(settings, spec.for_robot("robot1", 0), team.world)
    worker.take_skills()
    sources = worker.profile.skill_sources
    assert worker.profile.skills == ["navigate_to", "pick_up", "put", "wipe", "wave"]
    assert sources["navigate_to"] == SkillSource() and sources["pick_up"] == SkillSource(kind="policy", name="http://127.0.0.1:9/act")
    assert sources["wipe"] == sources["wave"] == SkillSource(kind="mcp", name="ref")
    assert worker.executor.profile is worker.profile and worker.executor.mcp.handles("wipe")
    # what the registry stores and gives back (GET /robots): sources and declarations, no server address
    worker.memory.robots.register(worker.profile)
    stored = worker.memory.robots.get("robot1").profile
    assert stored.skill_sources == sources and [s.name for s in stored.skill_specs] == ["wipe", "wave"]
    assert http_skill_server not in stored.model_dump_json()


def test_an_unplannable_mcp_skill_is_a_tool_of_the_robots_model_loop(team, world_host):
    from robocortex.agents.settings import LLMSettings
    from robocortex.cerebellum.reasoner import Reasoner

    from tests.support.scripted_llm import ScriptedLLM, reply

    robot = mcp_robot(team, [McpServer(name="ref", command=[*SERVER, "--world-url", world_host])])
    assert SKILLS["wave"].unplannable and SKILLS["scan_barcode"].unplannable
    mug = team.oid("Mug")
    script = [reply(tool_calls=[{"name": "scan_barcode", "arguments": {"object": mug}}]),
              reply(tool_calls=[{"name": "wave", "arguments": {}}]),
              reply(tool_calls=[{"name": "finish", "arguments": {"success": True}}])]
    with ScriptedLLM(script) as llm:
        robot.reasoner = Reasoner(LLMSettings(base_url=llm.base_url, timeout_s=20, max_retries=0))
        done = run_steps(robot, description="read the mug's barcode, then wave")
    assert done.success, done.error
    tools = {t["function"]["name"]: t["function"] for t in llm.requests[0]["tools"]}
    assert {"scan_barcode", "wave", "wipe"} <= set(tools) and tools["scan_barcode"]["parameters"]["required"] == ["object"]
    answer = llm.requests[1]["messages"][-1]
    assert answer["role"] == "tool" and answer["content"].startswith("ok.")


def test_the_validator_takes_a_model_plan_with_an_unplannable_mcp_skill(tools):
    from robocortex.brain.plan import Plan
    from robocortex.brain.validator import validate
    from robocortex.memory.schemas import SceneNode, SceneSnapshot

    specs = [spec_from_tool(ref(), tools[name]) for name in ("scan_barcode", "wave")]
    robots = [RobotProfile(name="r1", agent_id=0, skills=["navigate_to", "scan_barcode", "wave"], skill_specs=specs),
              RobotProfile(name="r2", agent_id=1, skills=["navigate_to"])]
    snapshot = SceneSnapshot(rev=1, nodes={
        "Mug|1": SceneNode(id="Mug|1", objectType="Mug", isDirty=False, dirtyable=True),
        "r1": SceneNode(id="r1", kind="robot"), "r2": SceneNode(id="r2", kind="robot")})
    goal = {"subject": {"id": "Mug|1"}, "condition": {"state": "isDirty", "value": False}}

    def plan(robot: str, steps: list[dict]) -> Plan:
        return Plan.model_validate({"goals": [goal], "subtasks": [{"id": "s1", "robot": robot, "description": "scan",
                                                                     "steps": steps}]})

    steps = [{"skill": "scan_barcode", "args": {"object": "Mug|1"}}, {"skill": "wave", "args": {}}]
    assert validate(plan("r1", steps), snapshot, robots) == []
    assert validate(plan("r2", steps), snapshot, robots) == ["subtask s1: robot r2 lacks skill scan_barcode",
                                                           "subtask s1: robot r2 lacks skill wave"]
    bad = validate(plan("r1", [{"skill": "scan_barcode", "args": {"object": 7}}]), snapshot, robots)
    assert len(bad) == 1 and "is not of type 'string'" in bad[0]
