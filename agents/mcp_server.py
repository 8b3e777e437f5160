"""RoboCortex as an MCP server: an LLM agent hands tasks to the fleet over the Model Context Protocol.

`robocortex mcp` serves, over stdio (the default, for agents that start it) or streamable HTTP, tools to
submit a task, read its status and events, wait for it, cancel it, list the robots and read the scene
graph, and the same reads as resources. Every call goes to a running brain service through its REST API
(`robocortex.client`), so the MCP server holds no state and needs no Redis of its own. A refusal of the
service (unknown task, bad instruction) comes back as a tool error carrying the service's message.

Access: the service's API keys apply. `--api-key` (or ROBOCORTEX_API_KEY) is the key every call to the
service carries, so the MCP client can do what that key's role allows and no more (a viewer's key:
reads only; submit and cancel come back as tool errors saying 403). Over HTTP, whoever reaches the MCP
port acts with that key: keep it on loopback (the default) or give it a viewer's key.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from robocortex.client import AsyncClient, ServiceError

INSTRUCTIONS = (
    "RoboCortex coordinates a team of robots in a simulated home. Submit a task in plain language "
    "(submit_task), then follow it (task_status, task_events, wait_for_task) or stop it (cancel_task). "
    "list_robots and read_scene show who can act and what the world holds (the shared scene graph)."
)
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)
MAX_WAIT_S = 600.0


def _json(model: Any) -> Any:
    return model.model_dump(mode="json") if hasattr(model, "model_dump") else model


async def _call(coro: Any) -> Any:
    """Await a client call; the service's refusal becomes a tool error with its own words."""
    try:
        return await coro
    except ServiceError as exc:
        raise ToolError(f"RoboCortex refused ({exc.status}): {exc.detail}") from exc


def build_server(api_url: str, *, timeout_s: float = 10.0, api_key: str | None = None) -> MCPServer:
    """An MCP server whose tools and resources proxy the brain service at `api_url`, with `api_key`."""
    client = AsyncClient(api_url, timeout=timeout_s, api_key=api_key)
    server = MCPServer("robocortex", instructions=INSTRUCTIONS)

    @server.tool(annotations=ToolAnnotations(destructiveHint=False, openWorldHint=False))
    async def submit_task(instruction: str) -> dict[str, Any]:
        """Give the robots a task in plain language, e.g. "put the apple in the fridge and turn off the
        light". Returns the task id and its status; follow it with task_status or wait_for_task."""
        return _json(await _call(client.submit(instruction)))

    @server.tool(annotations=READ_ONLY)
    async def task_status(task_id: str) -> dict[str, Any]:
        """A task's record: status, reason, plan (goals and subtasks per robot) and each subtask's state."""
        return _json(await _call(client.task(task_id)))

    @server.tool(annotations=READ_ONLY)
    async def list_tasks(status: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The newest tasks, optionally only those with a status (pending, planning, running, succeeded,
        failed, cancelled)."""
        return [_json(t) for t in await _call(client.tasks(status, limit))]

    @server.tool(annotations=READ_ONLY)
    async def task_events(task_id: str, skip: int = 0, wait_s: float = 0.0) -> dict[str, Any]:
        """The task's events in order (plan, dispatch, action, observation, result, replan, finished, …),
        without the first `skip`, waiting up to `wait_s` seconds for live ones. Pass the returned
        `next_skip` as `skip` to continue; `ended` says the task is over and no event will follow."""
        await _call(client.task(task_id))  # an unknown id is refused here, with the service's message
        seen: list[dict[str, Any]] = []
        ended = False
        with anyio.move_on_after(max(0.0, min(wait_s, MAX_WAIT_S)) or 0.5):
            async for event in client.events(task_id):
                seen.append(_json(event))
            ended = True
        return {"events": seen[max(0, skip):], "next_skip": len(seen), "ended": ended}

    @server.tool(annotations=READ_ONLY)
    async def wait_for_task(task_id: str, timeout_s: float = 300.0) -> dict[str, Any]:
        """Wait until the task ends (succeeded, failed or cancelled) or `timeout_s` passes; returns its
        record (check `status`)."""
        started = time.monotonic()
        with anyio.move_on_after(max(0.0, min(timeout_s, MAX_WAIT_S))):
            await _call(client.wait(task_id))
        record = _json(await _call(client.task(task_id)))
        record["waited_s"] = round(time.monotonic() - started, 3)
        return record

    @server.tool(annotations=ToolAnnotations(destructiveHint=True, idempotentHint=True, openWorldHint=False))
    async def cancel_task(task_id: str) -> dict[str, Any]:
        """Ask to stop a task: robots finish their current step; the task ends cancelled."""
        return _json(await _call(client.cancel(task_id)))

    @server.tool(annotations=READ_ONLY)
    async def list_robots() -> list[dict[str, Any]]:
        """Every registered robot: name, profile (skills, reach, carrying), status, current work, heartbeat."""
        return [_json(r) for r in await _call(client.robots())]

    @server.tool(annotations=READ_ONLY)
    async def read_scene(node_id: str | None = None) -> dict[str, Any]:
        """The shared scene graph (revision and every node: objects, receptacles, robots, rooms, with
        positions, state flags and what is in or on what), or one node by id."""
        if node_id:
            return _json(await _call(client.node(node_id)))
        return _json(await _call(client.scene()))

    @server.resource("robocortex://scene", mime_type="application/json",
                     description="The shared scene graph: revision and every node")
    async def scene_resource() -> str:
        return json.dumps(_json(await _call(client.scene())))

    @server.resource("robocortex://robots", mime_type="application/json", description="Every registered robot")
    async def robots_resource() -> str:
        return json.dumps([_json(r) for r in await _call(client.robots())])

    @server.resource("robocortex://tasks/{task_id}", mime_type="application/json", description="One task's record")
    async def task_resource(task_id: str) -> str:
        return json.dumps(_json(await _call(client.task(task_id))))

    return server


def serve(api_url: str, transport: Literal["stdio", "http"] = "stdio", host: str = "127.0.0.1",
          port: int = 8765, api_key: str | None = None) -> None:
    """Run until the client closes stdio, or until interrupted (HTTP: the endpoint is /mcp)."""
    server = build_server(api_url, api_key=api_key)
    if transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=host, port=port)
