"""Typed dependencies: every route gets the memory room through these, never a global."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from robocortex.memory.stores import Memory


def get_memory(request: Request) -> Memory:
    return request.app.state.memory


MemoryDep = Annotated[Memory, Depends(get_memory)]


def get_actor() -> str:
    """Who is calling, as status events record it (`actor`). "anonymous" until API keys name the caller."""
    return "anonymous"


ActorDep = Annotated[str, Depends(get_actor)]
