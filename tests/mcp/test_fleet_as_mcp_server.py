"""RoboCortex as an MCP server (`robocortex mcp`), driven by the MCP SDK's own client: a real team (world
host, two robot workers, the brain as separate processes meeting through Redis) behind the REST API, and
the MCP server as a real process over stdio and over streamable HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters

from robocortex.agents.launcher import free_port

from tests.support.processes import team

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with team("mcp", tmp_path_factory.mktemp("mcp-logs")) as s:
        yield s


def mcp_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "robocortex.agents.cli", "mcp", *args]


def structured(result):
    assert not result.is_error, result.content
    return result.structured_content if result.structured_content is not None else json.loads(result.content[0].text)


async def _a_task_through_mcp(client: Client, thing: str) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert {"submit_task", "task_status", "task_events", "wait_for_task", "cancel_task", "list_robots",
            "read_scene", "list_tasks"} <= set(tools)
    assert tools["list_robots"].annotations.read_only_hint
    assert "instruction" in tools["submit_task"].input_schema["properties"]

    robots = structured(await client.call_tool("list_robots", {}))
    robots = robots["result"] if isinstance(robots, dict) else robots
    assert {r["profile"]["name"] for r in robots} == {"robot1", "robot2"}

    accepted = structured(await client.call_tool("submit_task", {"instruction": f"put the {thing.lower()} in the fridge"}))
    done = structured(await client.call_tool("wait_for_task", {"task_id": accepted["id"], "timeout_s": 120}))
    assert done["status"] == "succeeded", done
    events = structured(await client.call_tool("task_events", {"task_id": accepted["id"]}))
    kinds = [e["kind"] for e in events["events"]]
    assert events["ended"] and "dispatch" in kinds and kinds[-1] == "end", kinds
    rest = structured(await client.call_tool("task_events", {"task_id": accepted["id"], "skip": events["next_skip"] - 1}))
    assert [e["kind"] for e in rest["events"]] == ["end"]

    # the scene graph, read as a resource, has it in the fridge
    scene = json.loads((await client.read_resource("robocortex://scene")).contents[0].text)
    nodes = scene["nodes"].values() if isinstance(scene["nodes"], dict) else scene["nodes"]
    by_id = {n["id"]: n for n in nodes}
    moved = next(n for n in by_id.values() if n.get("objectType") == thing)
    assert any(by_id[r["target"]].get("objectType") == "Fridge" for r in moved["relations"] if r["rel"] == "in"), moved
    record = json.loads((await client.read_resource(f"robocortex://tasks/{accepted['id']}")).contents[0].text)
    assert record["status"] == "succeeded"

    refused = await client.call_tool("task_status", {"task_id": "no-such-task"})
    assert refused.is_error and "no-such-task" in refused.content[0].text and "404" in refused.content[0].text
    empty = await client.call_tool("submit_task", {"instruction": "   "})
    assert empty.is_error and "instruction is empty" in empty.content[0].text


def test_an_agent_runs_a_task_over_stdio(stack):
    params = StdioServerParameters(command=mcp_command()[0], args=mcp_command("--api-url", stack.api_url)[1:],
                                   env={**os.environ})

    async def main():
        async with Client(params) as client:
            await _a_task_through_mcp(client, "Apple")

    anyio.run(main)


def test_an_agent_runs_a_task_over_streamable_http(stack, tmp_path):
    port = free_port()
    log = open(tmp_path / "mcp-http.log", "w")
    proc = subprocess.Popen(mcp_command("--api-url", stack.api_url, "--transport", "http", "--port", str(port)),
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)

        async def main():
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                await _a_task_through_mcp(client, "Bread")

        anyio.run(main)
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
