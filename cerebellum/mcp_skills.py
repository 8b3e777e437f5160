"""Skills served by Model Context Protocol servers: a robot's profile lists MCP servers, the worker lists
their tools when it starts, and each tool becomes a skill — the same declaration type as the built-in
ones (cerebellum/skills.Skill), registered in the same registry, with `source` naming the server.

A profile's server (`McpServer`) is a stdio command or a streamable-HTTP URL (with headers, e.g. for
auth). A tool becomes a skill with:

- its arguments: the tool's `inputSchema` (JSON Schema), as is;
- its targets, preconditions and effects: the tool's declaration, taken from the server's own tool
  `_meta["robocortex/skill"]`, or from the profile beside the server (`McpServer.skills[tool]`, which
  wins), in the format of `SkillDeclaration` (conditions over the scene graph's flags, see
  memory.schemas.SkillCondition):

      {"targets": ["object"],
       "requires": [{"arg": "object", "flag": "dirtyable"}, {"arg": "object", "flag": "isDirty"}],
       "effects":  [{"arg": "object", "flag": "isDirty", "value": false}]}

- a tool annotated `readOnlyHint` declares no effects. A tool with no effects stays callable by the
  model planner and the robot's tool loop, and is marked unplannable for the search planner with why.

Calling: each call connects, calls the tool and disconnects (a stdio server is started for the call),
bounded by the server's `timeout_s`; the robot's name and agent index go along in the request's `_meta`
(`robocortex/robot`, `robocortex/agent_id`). The outcome is typed (`McpOutcome`): a tool error keeps
the code the tool gives in its structured content (`{"code": "object_missing", ...}`, one of
memory.schemas.FailureCode) or is `action_failed`; a call that outlasts the timeout is `timeout`; a
server that cannot be reached or goes away mid-call is `other` with `problem: skill_server_unavailable`.
None of these ever raises out of the worker.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from robocortex.memory.schemas import FailureCode, SkillCondition, SkillSource, SkillSpec

from robocortex.cerebellum.skills import declared_symbolic

log = logging.getLogger("robocortex.cerebellum.mcp")

META_KEY = "robocortex/skill"  # a tool's declaration in its _meta
ROBOT_META = "robocortex/robot"
AGENT_META = "robocortex/agent_id"
FAILURE_CODES: tuple[str, ...] = get_args(FailureCode)


class SkillDeclaration(BaseModel):
    """What a tool does to the scene graph, declared beside it (tool `_meta` or the robot's profile)."""

    model_config = ConfigDict(extra="forbid")

    targets: list[str] = Field(default_factory=list, description="arguments that are objectIds the robot must reach")
    requires: list[SkillCondition] = Field(default_factory=list)
    effects: list[SkillCondition] = Field(default_factory=list)


class McpServer(BaseModel):
    """One MCP server a robot's profile lists: `command` (stdio; `{robot}` and `{agent_id}` in it are
    replaced) or `url` (streamable HTTP, with `headers`)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    command: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=30.0, gt=0, description="one tool call, connecting included")
    list_timeout_s: float = Field(default=60.0, gt=0, description="listing the tools at start (a stdio server "
                                  "starting up included)")
    skills: dict[str, SkillDeclaration] = Field(default_factory=dict, description="declarations by tool name")
    tools: list[str] | None = Field(default=None, description="only these tools become skills (default: all)")

    @model_validator(mode="after")
    def _one_transport(self) -> "McpServer":
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r}: give exactly one of command (stdio) or url (HTTP)")
        if self.command is not None and not self.command:
            raise ValueError(f"MCP server {self.name!r}: command is empty")
        return self


# --------------------------------------------------------------------------- tools → skill declarations


def spec_from_tool(server: McpServer, tool: Any) -> SkillSpec:
    """A tool (mcp_types.Tool) as a declared skill of `server`."""
    source = SkillSource(kind="mcp", name=server.name)
    meta = getattr(tool, "meta", None) or {}
    raw = server.skills.get(tool.name)
    unplannable = None
    if raw is None and isinstance(meta.get(META_KEY), dict):
        try:
            raw = SkillDeclaration.model_validate(meta[META_KEY])
        except ValueError as exc:
            raw, unplannable = SkillDeclaration(), f"its declaration in _meta is not valid: {exc}"
    declaration = raw or SkillDeclaration()
    annotations = getattr(tool, "annotations", None)
    if annotations is not None and annotations.read_only_hint and declaration.effects:
        unplannable = "it is annotated read-only (readOnlyHint) yet declares effects"
    schema = dict(tool.input_schema or {"type": "object", "properties": {}})
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    description = tool.description or tool.title or tool.name
    spec = SkillSpec(name=tool.name, description=description.strip().splitlines()[0] if description.strip() else tool.name,
                     source=source, parameters=schema, targets=declaration.targets, requires=declaration.requires,
                     effects=declaration.effects, unplannable=unplannable)
    if spec.unplannable is None and not spec.effects and annotations is not None and annotations.read_only_hint:
        spec.unplannable = "it is read-only (readOnlyHint): it changes nothing a goal could ask for"
    if spec.unplannable is None:
        spec.unplannable = declared_symbolic(spec)[1]
    return spec


# --------------------------------------------------------------------------- call outcomes


@dataclass
class McpOutcome:
    """A tool call's outcome, typed: None `code` is success; `text` is what the tool said."""

    code: FailureCode | None = None
    text: str = ""
    structured: Any = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.code is None


def outcome_of(server: str, result: Any) -> McpOutcome:
    """A CallToolResult as an outcome: an error result keeps the code it gives, else action_failed."""
    text = "\n".join(c.text for c in result.content or [] if getattr(c, "type", None) == "text")
    structured = result.structured_content
    if not result.is_error:
        return McpOutcome(text=text or (json.dumps(structured) if structured is not None else ""), structured=structured)
    code = structured.get("code") if isinstance(structured, dict) else None
    details: dict[str, Any] = {"skill_source": "mcp", "mcp_server": server, "mcp_error": text or None}
    if isinstance(structured, dict):
        details.update({k: v for k, v in structured.items() if k != "code"
                        and (v is None or isinstance(v, (str, int, float, bool)))})
    return McpOutcome(code=code if code in FAILURE_CODES else "action_failed", text=text, structured=structured,
                      details=details)


def unavailable(server: str, exc: BaseException) -> McpOutcome:
    """A server that could not be reached, or went away mid-call."""
    why = _first_cause(exc)
    return McpOutcome(code="other", text=f"MCP server {server!r} is unavailable: {why}",
                      details={"skill_source": "mcp", "mcp_server": server, "problem": "skill_server_unavailable",
                               "error_type": type(exc).__name__})


def timed_out(server: str, timeout_s: float) -> McpOutcome:
    return McpOutcome(code="timeout", text=f"MCP server {server!r} did not answer within {timeout_s:g} s",
                      details={"skill_source": "mcp", "mcp_server": server, "problem": "skill_server_timeout"})


def _first_cause(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# --------------------------------------------------------------------------- talking to the servers


class McpSkills:
    """The MCP servers of one robot: lists their tools (`discover`) and calls them (`call`)."""

    def __init__(self, servers: list[McpServer], robot: str = "", agent_id: int = 0):
        self.servers = {s.name: s for s in servers}
        self.robot = robot
        self.agent_id = agent_id
        self.skill_server: dict[str, str] = {}  # skill name → server name
        self.problems: dict[str, str] = {}  # server name → why it offered no skills at start

    def discover(self) -> list[SkillSpec]:
        """Every tool of every server as a declared skill; a server that cannot be listed is left out
        (its reason in `problems`), a tool whose name is already taken is skipped with a warning."""
        import anyio

        specs: list[SkillSpec] = []
        for server in self.servers.values():
            try:
                tools = anyio.run(self._list_tools, server)
            except BaseException as exc:  # noqa: BLE001 - a server that is down costs its skills, not the robot
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                self.problems[server.name] = _first_cause(exc)
                log.warning("%s: MCP server %s offers no skills: %s", self.robot, server.name, self.problems[server.name])
                continue
            for tool in tools:
                if server.tools is not None and tool.name not in server.tools:
                    continue
                if tool.name in self.skill_server:
                    log.warning("%s: tool %s of MCP server %s ignored: %s serves a skill of that name", self.robot,
                                tool.name, server.name, self.skill_server[tool.name])
                    continue
                specs.append(spec_from_tool(server, tool))
                self.skill_server[tool.name] = server.name
        return specs

    def handles(self, skill: str) -> bool:
        return skill in self.skill_server

    def call(self, skill: str, args: dict[str, Any]) -> McpOutcome:
        """Call the tool behind `skill`; every failure is an outcome, never an exception."""
        import anyio

        server = self.servers[self.skill_server[skill]]
        try:
            return anyio.run(self._call, server, skill, args)
        except TimeoutError:
            return timed_out(server.name, server.timeout_s)
        except BaseException as exc:  # noqa: BLE001 - the server went away: a failed step, not a failed worker
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return unavailable(server.name, exc)

    # ------------------------------------------------------------------ per connection

    def _target(self, server: McpServer) -> Any:
        if server.command is not None:
            from mcp import StdioServerParameters

            cmd = [part.replace("{robot}", self.robot).replace("{agent_id}", str(self.agent_id)) for part in server.command]
            return StdioServerParameters(command=cmd[0], args=cmd[1:], env={**os.environ, **server.env})
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        assert server.url is not None
        return streamable_http_client(server.url, http_client=create_mcp_http_client(headers=dict(server.headers)))

    async def _list_tools(self, server: McpServer) -> list[Any]:
        import anyio
        from mcp import Client

        with anyio.fail_after(server.list_timeout_s):
            async with Client(self._target(server), read_timeout_seconds=server.list_timeout_s) as client:
                return list((await client.list_tools()).tools)

    async def _call(self, server: McpServer, skill: str, args: dict[str, Any]) -> McpOutcome:
        import anyio
        from mcp import Client

        with anyio.fail_after(server.timeout_s):
            async with Client(self._target(server), read_timeout_seconds=server.timeout_s) as client:
                result = await client.call_tool(skill, args, meta={ROBOT_META: self.robot, AGENT_META: self.agent_id})
        return outcome_of(server.name, result)
