"""The reference MCP skill server: skills a robot takes from the Model Context Protocol instead of from
cerebellum/skills.py, acting on the shared world through the world host's HTTP API.

    python -m robocortex.agents.skill_server --world-url http://127.0.0.1:8001             # stdio
    python -m robocortex.agents.skill_server --world-url … --transport http --port 8766     # /mcp

Tools (each acts for the robot the call's `_meta["robocortex/agent_id"]` names, else `--agent-id`):

- `wipe(object)`: wipe a dirty object clean (AI2-THOR's CleanObject). Declared in its `_meta`
  (`robocortex/skill`): target `object`, requires dirtyable and isDirty, effect isDirty=false — so the
  search planner can plan with it.
- `scan_barcode(object)`: read the barcode of an object in view (read-only: it declares no effect, so
  only the model planner or a robot's tool loop calls it).
- `wave()`: turn right and back (no declaration: unplannable by search).

A failure is a tool error whose structured content carries its code (memory.schemas.FailureCode):
`object_missing` (no such object), `precondition` (not in view, not dirty), `action_failed` (the world
refused, with `world_error`). `--delay-s` makes every tool wait that long before acting (tests use it
to stop the server mid-call); over HTTP, `--token T` answers 401 unless the request carries
`Authorization: Bearer T` (what a profile's `headers` are for). Configure it for a robot in its profile, see docs/cerebellum.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import logging
from typing import Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from robocortex.sim.client import WorldClient

AGENT_META = "robocortex/agent_id"  # = cerebellum.mcp_skills.AGENT_META (agents may import it, but the
# server is meant to be copied as an example: it depends on nothing of the robot side)
SKILL_META = "robocortex/skill"
WIPE_DECLARATION = {
    "targets": ["object"],
    "requires": [{"arg": "object", "flag": "dirtyable"}, {"arg": "object", "flag": "isDirty"}],
    "effects": [{"arg": "object", "flag": "isDirty", "value": False}],
}
SCAN_DECLARATION = {"targets": ["object"]}

log = logging.getLogger("robocortex.skill_server")


def _ok(text: str, **data: Any) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content={"ok": True, **data})


def _fail(code: str, text: str, **details: Any) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True,
                          structured_content={"code": code, **details})


def barcode(object_id: str) -> str:
    """The barcode printed on an object: stable for its objectId."""
    return "RC-" + hashlib.sha1(object_id.encode()).hexdigest()[:10].upper()


def build_server(world_url: str, *, agent_id: int = 0, delay_s: float = 0.0) -> MCPServer:
    world = WorldClient(world_url)
    server = MCPServer("robocortex-reference-skills",
                       instructions="Skills for RoboCortex robots, acting in the shared world through its host.")

    def agent_of(ctx: Context) -> int:
        meta = ctx.request_context.meta or {}
        value = meta.get(AGENT_META) if isinstance(meta, dict) else getattr(meta, AGENT_META, None)
        return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else agent_id

    async def step(agent: int, action: str, **params: Any) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(lambda: world.step(agent, action, **params))

    async def find(agent: int, object_id: str) -> dict[str, Any] | None:
        md = await anyio.to_thread.run_sync(lambda: world.metadata(agent))
        return next((o for o in md.get("objects") or [] if o.get("objectId") == object_id), None)

    async def start(ctx: Context, skill: str, object: str, flag: str, unmet: str,
                    problem: str) -> tuple[int, CallToolResult | None]:
        """A tool's common start on one object: the delay, the agent acted for, and the failure to
        answer with when the object is missing or its `flag` is not set (None when it may go on)."""
        await anyio.sleep(delay_s)
        agent = agent_of(ctx)
        obj = await find(agent, object)
        if obj is None:
            return agent, _fail("object_missing", f"{skill}: there is no object {object!r}", object=object)
        if not obj.get(flag):
            return agent, _fail("precondition", f"{skill}: {object} {unmet}", object=object, problem=problem)
        return agent, None

    @server.tool(annotations=ToolAnnotations(destructiveHint=False, idempotentHint=True),
                 meta={SKILL_META: WIPE_DECLARATION})
    async def wipe(object: str, ctx: Context) -> CallToolResult:
        """Wipe a dirty object clean with the robot's cloth (the object must be within reach)."""
        agent, refused = await start(ctx, "wipe", object, "isDirty", "is not dirty", "not_dirty")
        if refused is not None:
            return refused
        md = await step(agent, "CleanObject", objectId=object)
        if not md.get("lastActionSuccess"):
            return _fail("action_failed", f"wipe: the world refused: {md.get('errorMessage')}", object=object,
                         world_error=md.get("errorMessage") or "")
        return _ok(f"{object} wiped clean", object=object)

    @server.tool(annotations=ToolAnnotations(readOnlyHint=True), meta={SKILL_META: SCAN_DECLARATION})
    async def scan_barcode(object: str, ctx: Context) -> CallToolResult:
        """Read the barcode of an object in the robot's view."""
        agent, refused = await start(ctx, "scan_barcode", object, "visible", "is not in view", "not_visible")
        if refused is not None:
            return refused
        await step(agent, "Pass")
        return _ok(f"{object}: barcode {barcode(object)}", object=object, barcode=barcode(object))

    @server.tool()
    async def wave(ctx: Context) -> CallToolResult:
        """Wave hello: turn right, then back."""
        await anyio.sleep(delay_s)
        agent = agent_of(ctx)
        for action in ("RotateRight", "RotateLeft"):
            md = await step(agent, action)
            if not md.get("lastActionSuccess"):
                return _fail("blocked", f"wave: {action} failed: {md.get('errorMessage')}",
                             world_error=md.get("errorMessage") or "")
        return _ok("waved")

    return server


def bearer_only(app: Any, token: str) -> Any:
    """The ASGI app, answering 401 to an HTTP request without `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope.get("headers") or []).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": b"a bearer token is required"})
            return
        await app(scope, receive, send)

    return guarded


def serve(world_url: str, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8766,
          agent_id: int = 0, delay_s: float = 0.0, token: str | None = None) -> None:
    server = build_server(world_url, agent_id=agent_id, delay_s=delay_s)
    if transport == "stdio":
        server.run("stdio")
    elif not token:
        server.run("streamable-http", host=host, port=port)
    else:
        import uvicorn

        uvicorn.run(bearer_only(server.streamable_http_app(host=host), token), host=host, port=port, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m robocortex.agents.skill_server", description=__doc__.split("\n")[0])
    parser.add_argument("--world-url", default=os.environ.get("ROBOCORTEX_WORLD_URL", "http://127.0.0.1:8001"),
                        help="the world host's address (default: ROBOCORTEX_WORLD_URL)")
    parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--agent-id", type=int, default=0, help="the agent acted for when a call does not say")
    parser.add_argument("--delay-s", type=float, default=0.0, help="wait this long in every tool before acting")
    parser.add_argument("--token", default=os.environ.get("ROBOCORTEX_SKILL_SERVER_TOKEN"),
                        help="HTTP: answer 401 unless 'Authorization: Bearer <token>' (default: "
                        "ROBOCORTEX_SKILL_SERVER_TOKEN; unset: no check)")
    args = parser.parse_args(argv)
    serve(args.world_url, args.transport, args.host, args.port, args.agent_id, args.delay_s, args.token)


if __name__ == "__main__":
    main()
