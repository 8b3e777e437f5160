"""Typed dependencies: every route gets the memory room through these, never a global."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from agents.context import Memory
from agents.settings import Settings


def get_memory(request: Request) -> Memory:
    return request.app.state.memory


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


MemoryDep = Annotated[Memory, Depends(get_memory)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
