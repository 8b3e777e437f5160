"""Client side of a task: submit it over REST, follow its events (SSE), check it in the world."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from robocortex.brain.goals import final_goals, unmet_goals
from robocortex.brain.plan import Plan
from robocortex.agents.world_host import nodes_of
from robocortex.client import Client, ServiceError

_STYLE = {"dispatch": "cyan", "result": "green", "replan": "yellow", "plan_invalid": "yellow",
          "plan_failed": "red", "finished": "bold", "goals_met": "bold green", "status": "magenta"}
_QUIET = {"thought", "observation"}


def submit(api_url: str, instruction: str) -> str:
    with Client(api_url) as rc:
        try:
            return rc.submit(instruction).id
        except ServiceError as exc:
            raise ValueError(exc.detail) from exc


def events(api_url: str, task_id: str, timeout_s: float = 900) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event kind, data) for every event of the task until it ends (robocortex.client: typed, and
    resumed by Last-Event-ID if the connection drops); TimeoutError once `timeout_s` has passed."""
    deadline = time.monotonic() + timeout_s
    with Client(api_url) as rc:
        for event in rc.events(task_id):
            yield event.kind, event.model_dump(mode="json", by_alias=True)
            if time.monotonic() > deadline:
                raise TimeoutError(f"task {task_id} still running after {timeout_s:.0f} s")


def print_event(console: Console, kind: str, data: dict[str, Any], verbose: bool = False) -> None:
    if kind in _QUIET and not verbose:
        return
    if kind == "action" and not verbose:
        return
    who = f"[{data['robot']}] " if data.get("robot") else ""
    if kind == "status":
        text = f"{data['data'].get('from')} → {data['data'].get('status')}" + (f": {data['message']}" if data.get("message") else "")
    elif kind == "end":
        text = f"{data.get('status')}" + (f": {data['reason']}" if data.get("reason") else "")
    else:
        text = data.get("message", "")
    console.print(f"[{_STYLE.get(kind, 'dim')}]{kind:>12}[/] {escape(who + text)}", highlight=False)


def world_check(world_url: str, plan: dict[str, Any] | None) -> list[str]:
    """Goals that do NOT hold in the world itself (ground truth, not the team's memory)."""
    if not plan:
        return ["no plan"]
    nodes = nodes_of(httpx.get(f"{world_url}/metadata/0", timeout=30).json())
    return [g.describe() for g in unmet_goals(nodes, final_goals(Plan.model_validate(plan).goals))]
