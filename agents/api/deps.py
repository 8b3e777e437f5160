"""Typed dependencies: every route gets the memory room through these, never a global."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from robocortex.memory.stores import Memory


def get_memory(request: Request) -> Memory:
    return request.app.state.memory


MemoryDep = Annotated[Memory, Depends(get_memory)]


def get_actor(request: Request) -> str:
    """Who is calling, as status events and approvals record it (`actor`): the API key's name, or
    "anonymous" while the service is open (no key exists; see agents/api/security.py)."""
    principal = getattr(request.state, "principal", None)
    return "anonymous" if principal is None or principal.open else principal.name


ActorDep = Annotated[str, Depends(get_actor)]
