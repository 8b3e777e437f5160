"""Robots and the scene graph, as the team knows them (shared memory, never the simulator)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from robocortex.memory.scene_graph import StaleRevision
from robocortex.memory.schemas import RobotState, SceneChange, SceneNode, SceneSnapshot

from robocortex.agents.api.deps import MemoryDep
from robocortex.agents.api.errors import error_responses

router = APIRouter(tags=["world"])
MAX_REVISION = 2**63 - 2  # revisions are Redis stream ids: rev + 1 must fit in 64 bits


@router.get("/robots", response_model=list[RobotState])
def list_robots(memory: MemoryDep) -> list[RobotState]:
    return memory.robots.list()


@router.get("/scene", response_model=SceneSnapshot)
def get_scene(memory: MemoryDep) -> SceneSnapshot:
    return memory.scene.snapshot()


@router.get("/scene/nodes/{node_id:path}", response_model=SceneNode, responses=error_responses(404))
def get_node(node_id: str, memory: MemoryDep) -> SceneNode:
    node = memory.scene.node(node_id)
    if node is None:
        raise HTTPException(404, f"no node {node_id!r} in the scene graph; GET /scene lists them")
    return node


@router.get("/scene/changes", response_model=list[SceneChange], responses=error_responses(410))
def scene_changes(memory: MemoryDep, since: int = Query(ge=0, le=MAX_REVISION, description="revision to start after"),
                  limit: int = Query(default=1000, ge=1, le=100_000)) -> list[SceneChange]:
    try:
        return memory.scene.changes_since(since, limit=limit)
    except StaleRevision as exc:
        raise HTTPException(410, f"{exc}; read GET /scene for a fresh snapshot") from exc


@router.get("/health")
def health(memory: MemoryDep) -> dict[str, Any]:
    memory.r.ping()
    return {"ok": True, "scene_rev": memory.scene.revision()}
