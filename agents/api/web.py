"""The web console: one page and its script and style, served from the package (no CDN: it works offline)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

router = APIRouter(include_in_schema=False)
ASSETS = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}


def _read(name: str) -> str:
    return resources.files("robocortex.agents").joinpath(f"web/{name}").read_text(encoding="utf-8")


@router.get("/", response_class=HTMLResponse)
def index() -> str:
    return _read("index.html")


@router.get("/console/{name}")
def asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, f"no console asset {name!r}; there are {', '.join(sorted(ASSETS))}")
    return Response(_read(name), media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
