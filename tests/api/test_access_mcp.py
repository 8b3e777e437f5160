"""`robocortex mcp` is authorised by the service's own keys: its calls carry `--api-key` (or
ROBOCORTEX_API_KEY), so an MCP client may do what that key's role allows and is refused the rest, and
without a key gets the service's 401 as a tool error. Real processes: the service and the MCP server
over stdio, driven by the MCP SDK's client."""

from __future__ import annotations

import os
import sys
import uuid

import anyio
import pytest
from mcp import Client, StdioServerParameters

from robocortex.memory.apikeys import ApiKeyStore, Role
from robocortex.memory.connection import connect
from robocortex.memory.keys import Keys

from tests.support.service import Service

pytestmark = pytest.mark.e2e


def _mcp(api_url: str, key: str | None) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if k != "ROBOCORTEX_API_KEY"}
    args = ["-m", "robocortex.agents.cli", "mcp", "--api-url", api_url]
    if key:
        env["ROBOCORTEX_API_KEY"] = key  # the env var; --api-key works the same
    return StdioServerParameters(command=sys.executable, args=args, env=env)


def test_mcp_calls_carry_the_key_and_its_role_limits_them(redis_url, tmp_path):
    prefix = f"mcp-{uuid.uuid4().hex[:8]}"
    r = connect(redis_url)
    viewer = ApiKeyStore(r, Keys(prefix)).create("mcp-viewer", Role.viewer).token
    service = Service(redis_url, prefix, tmp_path / "serve.log", env={"ROBOCORTEX_WAIT_FOR_ROBOTS_S": "0"}).start()

    async def main():
        async with Client(_mcp(service.url, viewer)) as client:
            listed = await client.call_tool("list_robots", {})
            assert not listed.is_error, listed.content
            submitted = await client.call_tool("submit_task", {"instruction": "put the apple in the fridge"})
            assert submitted.is_error and "403" in submitted.content[0].text, submitted.content
        async with Client(_mcp(service.url, None)) as client:
            refused = await client.call_tool("list_robots", {})
            assert refused.is_error and "401" in refused.content[0].text, refused.content

    try:
        anyio.run(main)
    finally:
        service.stop()
        for key in list(r.scan_iter(match=f"{prefix}:*", count=1000)):
            r.delete(key)
        r.close()
