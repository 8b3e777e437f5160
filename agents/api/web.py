"""The web page: tasks, robots and a live picture of the scene graph."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def index() -> str:
    return resources.files("robocortex.agents").joinpath("web/index.html").read_text()
