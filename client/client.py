"""Typed clients for the brain service: `Client` (sync) and `AsyncClient`, both on httpx.

Every route of the service has one method (`ROUTES` names them; a test checks it against the OpenAPI
document). Event streams are followed with httpx-sse and resume by themselves: when a connection
drops, the client reconnects with the `Last-Event-ID` of the last event it got, so no event is lost
or repeated (the service resumes every stream from that id).

    from robocortex.client import Client

    with Client("http://127.0.0.1:8000") as rc:
        task = rc.submit("put the apple in the fridge")
        for event in rc.events(task.id):
            print(event.kind, event.message if hasattr(event, "message") else event.status)
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from urllib.parse import quote
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
from httpx_sse import ServerSentEvent, aconnect_sse, connect_sse
from pydantic import TypeAdapter

from robocortex.client.models import (AnyTaskEvent, ApprovalAccepted, EndEvent, Health, PendingPlan, Placed, Principal,
                                      RobotsUpdate, Task, TaskAccepted, TaskAudit, parse_task_event)
from robocortex.memory.scene_graph import FloorPlan
from robocortex.memory.schemas import RobotState, SceneChange, SceneNode, SceneSnapshot, TaskStatus

T = TypeVar("T")

# (method, OpenAPI path) -> the method of Client and AsyncClient that calls it.
ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/tasks"): "submit",
    ("GET", "/tasks"): "tasks",
    ("GET", "/tasks/{task_id}"): "task",
    ("POST", "/tasks/{task_id}/cancel"): "cancel",
    ("POST", "/tasks/{task_id}/interrupt"): "interrupt",
    ("POST", "/tasks/{task_id}/resume"): "resume",
    ("POST", "/tasks/{task_id}/kill"): "kill",
    ("GET", "/tasks/{task_id}/export"): "export",
    ("GET", "/tasks/{task_id}/plan"): "pending_plan",
    ("POST", "/tasks/{task_id}/approve"): "approve",
    ("POST", "/tasks/{task_id}/reject"): "reject",
    ("POST", "/tasks/{task_id}/plan"): "edit_plan",
    ("GET", "/tasks/{task_id}/events"): "events",
    ("GET", "/robots"): "robots",
    ("GET", "/scene"): "scene",
    ("GET", "/scene/nodes/{node_id}"): "node",
    ("GET", "/scene/changes"): "scene_changes",
    ("GET", "/scene/events"): "scene_events",
    ("GET", "/scene/floor"): "floor",
    ("GET", "/events"): "live",
    ("GET", "/health"): "health",
    ("GET", "/auth/me"): "whoami",
    ("GET", "/robots/{name}"): "robot",
    ("POST", "/robots/{name}/decommission"): "decommission_robot",
    ("DELETE", "/robots/{name}"): "remove_robot",
    ("POST", "/robots/{name}/held"): "place_held",
}

_TASKS = TypeAdapter(list[Task])
_ROBOTS = TypeAdapter(list[RobotState])
_CHANGES = TypeAdapter(list[SceneChange])


class ServiceError(Exception):
    """The service answered with an error: `status` (HTTP), `detail` (what is wrong and what to send
    instead), `errors` (the fields at fault, for a 422)."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail, self.errors = status, detail, list(errors or [])


class StreamGaveUp(ServiceError):
    """An event stream could not be resumed after `reconnects` attempts in a row."""


@dataclass(frozen=True)
class _Call:
    """One request and how to read its answer; shared by the sync and the async client."""

    method: str
    path: str
    parse: Callable[[Any], Any]
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None


def _check(resp: httpx.Response) -> None:
    if resp.is_success:
        return
    try:
        body = resp.json()
        detail, errors = str(body.get("detail", resp.text)), body.get("errors") or []
    except ValueError:
        detail, errors = resp.text or resp.reason_phrase, []
    raise ServiceError(resp.status_code, detail, errors)


def _auth(api_key: str | None) -> dict[str, str]:
    key = api_key if api_key is not None else os.environ.get("ROBOCORTEX_API_KEY")
    return {"Authorization": f"Bearer {key}"} if key else {}


def _quote(segment: str) -> str:
    return quote(segment, safe="")


def _params(**values: Any) -> dict[str, Any]:
    return {k: (v.value if isinstance(v, TaskStatus) else v) for k, v in values.items() if v is not None}


# --------------------------------------------------------------------------- the requests


def _submit(instruction: str, **options: Any) -> _Call:
    body = {"instruction": instruction, **{k: v for k, v in options.items() if v is not None}}
    return _Call("POST", "/tasks", TaskAccepted.model_validate, json=body)


def _tasks(status: TaskStatus | str | None, limit: int) -> _Call:
    return _Call("GET", "/tasks", _TASKS.validate_python, params=_params(status=status, limit=limit))


def _task(task_id: str) -> _Call:
    return _Call("GET", f"/tasks/{_quote(task_id)}", Task.model_validate)


def _cancel(task_id: str) -> _Call:
    return _Call("POST", f"/tasks/{_quote(task_id)}/cancel", Task.model_validate)


def _control(task_id: str, action: str) -> _Call:
    return _Call("POST", f"/tasks/{_quote(task_id)}/{action}", Task.model_validate)


def _export(task_id: str) -> _Call:
    return _Call("GET", f"/tasks/{_quote(task_id)}/export", TaskAudit.model_validate)


def _pending_plan(task_id: str) -> _Call:
    return _Call("GET", f"/tasks/{_quote(task_id)}/plan", PendingPlan.model_validate)


def _approve(task_id: str, by: str, reason: str) -> _Call:
    return _Call("POST", f"/tasks/{_quote(task_id)}/approve", ApprovalAccepted.model_validate,
                 json={"by": by, "reason": reason})


def _reject(task_id: str, reason: str, by: str) -> _Call:
    return _Call("POST", f"/tasks/{_quote(task_id)}/reject", ApprovalAccepted.model_validate,
                 json={"by": by, "reason": reason})


def _edit_plan(task_id: str, plan: Any, by: str, reason: str) -> _Call:
    body = plan.model_dump(mode="json") if hasattr(plan, "model_dump") else plan
    return _Call("POST", f"/tasks/{_quote(task_id)}/plan", ApprovalAccepted.model_validate,
                 json={"plan": body, "by": by, "reason": reason})


def _robots() -> _Call:
    return _Call("GET", "/robots", _ROBOTS.validate_python)


def _scene() -> _Call:
    return _Call("GET", "/scene", SceneSnapshot.model_validate)


def _node(node_id: str) -> _Call:
    return _Call("GET", f"/scene/nodes/{node_id}", SceneNode.model_validate)  # the route takes a path


def _scene_changes(since: int, limit: int) -> _Call:
    return _Call("GET", "/scene/changes", _CHANGES.validate_python, params=_params(since=since, limit=limit))


def _floor() -> _Call:
    return _Call("GET", "/scene/floor", FloorPlan.model_validate)


def _health() -> _Call:
    return _Call("GET", "/health", Health.model_validate)


def _whoami() -> _Call:
    return _Call("GET", "/auth/me", Principal.model_validate)


def _robot(name: str) -> _Call:
    return _Call("GET", f"/robots/{_quote(name)}", RobotState.model_validate)


def _decommission(name: str) -> _Call:
    return _Call("POST", f"/robots/{_quote(name)}/decommission", RobotState.model_validate)


def _remove_robot(name: str) -> _Call:
    return _Call("DELETE", f"/robots/{_quote(name)}", lambda _: None)


def _place_held(name: str, object: str, at: str, rel: str | None) -> _Call:
    body = {"object": object, "at": at, **({"rel": rel} if rel else {})}
    return _Call("POST", f"/robots/{_quote(name)}/held", Placed.model_validate, json=body)


def _scene_item(sse: ServerSentEvent) -> SceneSnapshot | SceneChange | None:
    if sse.event == "snapshot":
        return SceneSnapshot.model_validate_json(sse.data)
    if sse.event == "change":
        return SceneChange.model_validate_json(sse.data)
    return None


def _live_item(sse: ServerSentEvent) -> Task | RobotsUpdate | None:
    if sse.event == "task":
        return Task.model_validate_json(sse.data)
    if sse.event == "robots":
        return RobotsUpdate.model_validate_json(sse.data)
    return None


def _task_item(sse: ServerSentEvent) -> AnyTaskEvent | None:
    if not sse.data:
        return None
    return parse_task_event(json.loads(sse.data))


@dataclass
class _Stream:
    """Where a followed stream is: the last event id seen, and how many reconnects in a row failed."""

    path: str
    params: dict[str, Any]
    item: Callable[[ServerSentEvent], Any]
    ends: Callable[[Any], bool]
    last_id: str | None = None
    failures: int = 0

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        return headers

    def request_params(self) -> dict[str, Any]:
        # The first connection uses the caller's starting point; a resumed one only Last-Event-ID
        # (the service prefers a query parameter over the header, so it must not be sent again).
        return self.params if self.last_id is None else {}

    def seen(self, sse: ServerSentEvent) -> Any:
        if sse.id:
            self.last_id = sse.id
        self.failures = 0
        return self.item(sse)


class EventStream(Generic[T]):
    """A stream being followed (sync): iterate it for its items. `last_id` is the id of the last event
    received: give it as `after` (task events) or `since` (scene) to resume later, even from another
    process. `close()` (or leaving a `with` block) hangs up."""

    def __init__(self, items: Iterator[T], state: _Stream):
        self._items, self._state = items, state

    def __iter__(self) -> "EventStream[T]":
        return self

    def __next__(self) -> T:
        return next(self._items)

    @property
    def last_id(self) -> str | None:
        return self._state.last_id

    def close(self) -> None:
        self._items.close()  # type: ignore[attr-defined]

    def __enter__(self) -> "EventStream[T]":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncEventStream(Generic[T]):
    """The same for AsyncClient: `async for`, `last_id`, `await aclose()` or `async with`."""

    def __init__(self, items: AsyncIterator[T], state: _Stream):
        self._items, self._state = items, state

    def __aiter__(self) -> "AsyncEventStream[T]":
        return self

    async def __anext__(self) -> T:
        return await self._items.__anext__()

    @property
    def last_id(self) -> str | None:
        return self._state.last_id

    async def aclose(self) -> None:
        await self._items.aclose()  # type: ignore[attr-defined]

    async def __aenter__(self) -> "AsyncEventStream[T]":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# --------------------------------------------------------------------------- the clients


class _Base:
    def __init__(self, base_url: str, *, timeout: float, reconnects: int, retry_s: float):
        self.base_url = base_url.rstrip("/")
        self.timeout, self.reconnects, self.retry_s = timeout, reconnects, retry_s

    def _stream_timeout(self) -> httpx.Timeout:
        # Keep-alive comments come every ~15 s; a read that waits much longer means a dead connection.
        return httpx.Timeout(self.timeout, read=max(self.timeout, 45.0))

    def _give_up(self, stream: _Stream, exc: BaseException) -> StreamGaveUp:
        return StreamGaveUp(0, f"lost {stream.path} and could not resume after {self.reconnects} attempts: {exc}")

    def _delay(self, stream: _Stream) -> float:
        return min(self.retry_s * 2 ** (stream.failures - 1), 10.0)


_RETRYABLE = (httpx.TransportError,)


class Client(_Base):
    """Synchronous client. Use as a context manager, or call close()."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, timeout: float = 10.0, reconnects: int = 10,
                 retry_s: float = 0.5, http: httpx.Client | None = None, api_key: str | None = None):
        """`api_key`: sent as `Authorization: Bearer` (default: ROBOCORTEX_API_KEY; none: an open service)."""
        super().__init__(base_url, timeout=timeout, reconnects=reconnects, retry_s=retry_s)
        self.http = http or httpx.Client(base_url=self.base_url, timeout=timeout, headers=_auth(api_key))

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _run(self, call: _Call) -> Any:
        resp = self.http.request(call.method, call.path, params=call.params, json=call.json)
        _check(resp)
        return call.parse(resp.json() if resp.content else None)

    # tasks
    def submit(self, instruction: str, *, robots: list[str] | None = None, priority: int | None = None,
               not_before: float | str | None = None, deadline: float | str | None = None,
               idempotency_key: str | None = None, require_approval: bool | None = None) -> TaskAccepted:
        """Submit a task in plain language; it is stored and queued (202). Options: the team of robots it
        may use, its priority, earliest start and deadline (ISO 8601 or epoch seconds), an idempotency
        key (the same key returns the same task), and whether an operator approves its plan first."""
        return self._run(_submit(instruction, robots=robots, priority=priority, not_before=not_before,
                                 deadline=deadline, idempotency_key=idempotency_key,
                                 require_approval=require_approval))

    def tasks(self, status: TaskStatus | str | None = None, limit: int = 50) -> list[Task]:
        """The newest tasks first, optionally only those with this status."""
        return self._run(_tasks(status, limit))

    def task(self, task_id: str) -> Task:
        return self._run(_task(task_id))

    def cancel(self, task_id: str) -> Task:
        """Ask the task to stop (409 ServiceError if it has already finished)."""
        return self._run(_cancel(task_id))

    def interrupt(self, task_id: str) -> Task:
        """Hold a planning or running task (its robots finish their step); 409 in any other state."""
        return self._run(_control(task_id, "interrupt"))

    def resume(self, task_id: str) -> Task:
        """Replan an interrupted task from the scene as it is now; 409 unless it is interrupted."""
        return self._run(_control(task_id, "resume"))

    def kill(self, task_id: str) -> Task:
        """Stop the task now (409 if it has already finished)."""
        return self._run(_control(task_id, "kill"))

    def export(self, task_id: str) -> TaskAudit:
        """The task's whole audit record: instruction, submitter, options, plans, approvals, every event."""
        return self._run(_export(task_id))

    # plan approval (409 ServiceError unless the task is awaiting_approval)
    def pending_plan(self, task_id: str) -> PendingPlan:
        """The plan the task waits with, its escalating violations and why it waits."""
        return self._run(_pending_plan(task_id))

    def approve(self, task_id: str, by: str = "operator", reason: str = "") -> ApprovalAccepted:
        return self._run(_approve(task_id, by, reason))

    def reject(self, task_id: str, reason: str, by: str = "operator") -> ApprovalAccepted:
        """The task fails with 'rejected by <by>: <reason>'."""
        return self._run(_reject(task_id, reason, by))

    def edit_plan(self, task_id: str, plan: Any, by: str = "operator", reason: str = "") -> ApprovalAccepted:
        """Dispatch `plan` (a Plan or its JSON) instead of the pending one; 422 ServiceError if it is invalid."""
        return self._run(_edit_plan(task_id, plan, by, reason))

    def events(self, task_id: str, after: str | None = None) -> EventStream[AnyTaskEvent]:
        """Every event of the task (after this event id, if given), then live ones; ends with EndEvent."""
        return self._open(_Stream(f"/tasks/{_quote(task_id)}/events", _params(after=after), _task_item,
                                  ends=lambda e: isinstance(e, EndEvent)))

    def wait(self, task_id: str, timeout: float | None = None) -> Task:
        """Follow the task's events until it ends (or `timeout` s pass) and return the task."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for _ in self.events(task_id):
            if deadline is not None and time.monotonic() > deadline:
                break
        return self.task(task_id)

    # robots and the scene graph
    def robots(self) -> list[RobotState]:
        return self._run(_robots())

    def scene(self) -> SceneSnapshot:
        return self._run(_scene())

    def node(self, node_id: str) -> SceneNode:
        return self._run(_node(node_id))

    def scene_changes(self, since: int, limit: int = 1000) -> list[SceneChange]:
        """The scene graph's changes after revision `since` (410 ServiceError if trimmed from the log)."""
        return self._run(_scene_changes(since, limit))

    def scene_events(self, since: int | None = None) -> EventStream[SceneSnapshot | SceneChange]:
        """A snapshot (unless resuming after `since`), then every change, live; never ends by itself."""
        return self._follow(_Stream("/scene/events", _params(since=since), _scene_item, ends=lambda _: False))

    def floor(self) -> FloorPlan:
        return self._run(_floor())

    def live(self, after: float | None = None) -> EventStream[Task | RobotsUpdate]:
        """The console's feed: task records as they change, and the robots; never ends by itself."""
        return self._follow(_Stream("/events", _params(after=after), _live_item, ends=lambda _: False))

    def health(self) -> Health:
        return self._run(_health())

    # access and robot administration
    def whoami(self) -> Principal:
        """Who this client's key is (name, role), or `open` when the service has no keys."""
        return self._run(_whoami())

    def robot(self, name: str) -> RobotState:
        return self._run(_robot(name))

    def decommission_robot(self, name: str) -> RobotState:
        """Admin: take a robot out of service."""
        return self._run(_decommission(name))

    def remove_robot(self, name: str) -> None:
        """Admin: forget an offline or decommissioned robot."""
        return self._run(_remove_robot(name))

    def place_held(self, name: str, object: str, at: str, rel: str | None = None) -> Placed:
        """Operator: where the object a lost robot held ended up (a receptacle id, or 'floor')."""
        return self._run(_place_held(name, object, at, rel))

    def metrics(self) -> str:
        """The Prometheus exposition text of /metrics (not in the OpenAPI document)."""
        resp = self.http.get("/metrics")
        _check(resp)
        return resp.text

    def _open(self, stream: _Stream) -> EventStream[Any]:
        return EventStream(self._follow(stream), stream)

    def _follow(self, stream: _Stream) -> Iterator[Any]:
        while True:
            try:
                with connect_sse(self.http, "GET", stream.path, params=stream.request_params(),
                                 headers=stream.headers(), timeout=self._stream_timeout()) as source:
                    _check_open(source.response)
                    for sse in source.iter_sse():
                        item = stream.seen(sse)
                        if item is None:
                            continue
                        yield item
                        if stream.ends(item):
                            return
            except (*_RETRYABLE, _ServerBusy) as exc:
                stream.failures += 1
                if stream.failures > self.reconnects:
                    raise self._give_up(stream, exc) from exc
                time.sleep(self._delay(stream))
                continue
            # the server closed the stream without its last event: resume
            stream.failures += 1
            if stream.failures > self.reconnects:
                raise self._give_up(stream, RuntimeError("stream closed early"))
            time.sleep(self._delay(stream))


class AsyncClient(_Base):
    """Asynchronous client (asyncio). Use as an async context manager, or await aclose()."""

    def __init__(self, base_url: str = "http://127.0.0.1:8000", *, timeout: float = 10.0, reconnects: int = 10,
                 retry_s: float = 0.5, http: httpx.AsyncClient | None = None, api_key: str | None = None):
        super().__init__(base_url, timeout=timeout, reconnects=reconnects, retry_s=retry_s)
        self.http = http or httpx.AsyncClient(base_url=self.base_url, timeout=timeout, headers=_auth(api_key))

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _run(self, call: _Call) -> Any:
        resp = await self.http.request(call.method, call.path, params=call.params, json=call.json)
        _check(resp)
        return call.parse(resp.json() if resp.content else None)

    async def submit(self, instruction: str, *, robots: list[str] | None = None, priority: int | None = None,
                     not_before: float | str | None = None, deadline: float | str | None = None,
                     idempotency_key: str | None = None, require_approval: bool | None = None) -> TaskAccepted:
        return await self._run(_submit(instruction, robots=robots, priority=priority, not_before=not_before,
                                       deadline=deadline, idempotency_key=idempotency_key,
                                       require_approval=require_approval))

    async def tasks(self, status: TaskStatus | str | None = None, limit: int = 50) -> list[Task]:
        return await self._run(_tasks(status, limit))

    async def task(self, task_id: str) -> Task:
        return await self._run(_task(task_id))

    async def cancel(self, task_id: str) -> Task:
        return await self._run(_cancel(task_id))

    async def interrupt(self, task_id: str) -> Task:
        return await self._run(_control(task_id, "interrupt"))

    async def resume(self, task_id: str) -> Task:
        return await self._run(_control(task_id, "resume"))

    async def kill(self, task_id: str) -> Task:
        return await self._run(_control(task_id, "kill"))

    async def export(self, task_id: str) -> TaskAudit:
        return await self._run(_export(task_id))

    async def pending_plan(self, task_id: str) -> PendingPlan:
        return await self._run(_pending_plan(task_id))

    async def approve(self, task_id: str, by: str = "operator", reason: str = "") -> ApprovalAccepted:
        return await self._run(_approve(task_id, by, reason))

    async def reject(self, task_id: str, reason: str, by: str = "operator") -> ApprovalAccepted:
        return await self._run(_reject(task_id, reason, by))

    async def edit_plan(self, task_id: str, plan: Any, by: str = "operator", reason: str = "") -> ApprovalAccepted:
        return await self._run(_edit_plan(task_id, plan, by, reason))

    def events(self, task_id: str, after: str | None = None) -> AsyncEventStream[AnyTaskEvent]:
        return self._open(_Stream(f"/tasks/{_quote(task_id)}/events", _params(after=after), _task_item,
                                    ends=lambda e: isinstance(e, EndEvent)))

    async def wait(self, task_id: str, timeout: float | None = None) -> Task:
        async def drain() -> None:
            async for _ in self.events(task_id):
                pass

        try:
            await asyncio.wait_for(drain(), timeout)
        except asyncio.TimeoutError:
            pass
        return await self.task(task_id)

    async def robots(self) -> list[RobotState]:
        return await self._run(_robots())

    async def scene(self) -> SceneSnapshot:
        return await self._run(_scene())

    async def node(self, node_id: str) -> SceneNode:
        return await self._run(_node(node_id))

    async def scene_changes(self, since: int, limit: int = 1000) -> list[SceneChange]:
        return await self._run(_scene_changes(since, limit))

    def scene_events(self, since: int | None = None) -> AsyncEventStream[SceneSnapshot | SceneChange]:
        return self._open(_Stream("/scene/events", _params(since=since), _scene_item, ends=lambda _: False))

    async def floor(self) -> FloorPlan:
        return await self._run(_floor())

    def live(self, after: float | None = None) -> AsyncEventStream[Task | RobotsUpdate]:
        return self._open(_Stream("/events", _params(after=after), _live_item, ends=lambda _: False))

    async def health(self) -> Health:
        return await self._run(_health())

    async def whoami(self) -> Principal:
        return await self._run(_whoami())

    async def robot(self, name: str) -> RobotState:
        return await self._run(_robot(name))

    async def decommission_robot(self, name: str) -> RobotState:
        return await self._run(_decommission(name))

    async def remove_robot(self, name: str) -> None:
        return await self._run(_remove_robot(name))

    async def place_held(self, name: str, object: str, at: str, rel: str | None = None) -> Placed:
        return await self._run(_place_held(name, object, at, rel))

    async def metrics(self) -> str:
        resp = await self.http.get("/metrics")
        _check(resp)
        return resp.text

    def _open(self, stream: _Stream) -> AsyncEventStream[Any]:
        return AsyncEventStream(self._follow(stream), stream)

    async def _follow(self, stream: _Stream) -> AsyncIterator[Any]:
        while True:
            try:
                async with aconnect_sse(self.http, "GET", stream.path, params=stream.request_params(),
                                        headers=stream.headers(), timeout=self._stream_timeout()) as source:
                    await _acheck_open(source.response)
                    async for sse in source.aiter_sse():
                        item = stream.seen(sse)
                        if item is None:
                            continue
                        yield item
                        if stream.ends(item):
                            return
            except (*_RETRYABLE, _ServerBusy) as exc:
                stream.failures += 1
                if stream.failures > self.reconnects:
                    raise self._give_up(stream, exc) from exc
                await asyncio.sleep(self._delay(stream))
                continue
            stream.failures += 1
            if stream.failures > self.reconnects:
                raise self._give_up(stream, RuntimeError("stream closed early"))
            await asyncio.sleep(self._delay(stream))


class _ServerBusy(ServiceError):
    """A 5xx while (re)connecting a stream (a proxy or a restarting service): tried again."""


def _check_open(resp: httpx.Response) -> None:
    """A stream that could not start because of the request (404, 422…) raises ServiceError and is not
    retried; a 5xx (a proxy, a service starting) is retried like a dropped connection."""
    if not resp.is_success:
        resp.read()
        _raise_open(resp)


async def _acheck_open(resp: httpx.Response) -> None:
    if not resp.is_success:
        await resp.aread()
        _raise_open(resp)


def _raise_open(resp: httpx.Response) -> None:
    try:
        _check(resp)
    except ServiceError as exc:
        if exc.status >= 500:
            raise _ServerBusy(exc.status, exc.detail, exc.errors) from None
        raise


__all__ = ["ROUTES", "AsyncClient", "AsyncEventStream", "Client", "EventStream", "ServiceError", "StreamGaveUp"]
