"""The client covers the OpenAPI document: every path and method has a method on Client and on
AsyncClient, taking every path and query parameter the route documents; and nothing more."""

from __future__ import annotations

import inspect

import pytest

from robocortex.agents.brain_service import create_app
from robocortex.client import ROUTES, AsyncClient, Client


def _operations() -> dict[tuple[str, str], dict]:
    paths = create_app(run_tasks=False).openapi()["paths"]
    return {(method.upper(), path): op for path, ops in paths.items() for method, op in ops.items()}


def _SCHEMAS() -> dict:
    return create_app(run_tasks=False).openapi()["components"]["schemas"]


def test_every_operation_has_a_client_method_and_no_method_is_stale():
    operations = _operations()
    assert len(operations) >= 13
    assert set(ROUTES) == set(operations), (set(operations) - set(ROUTES), set(ROUTES) - set(operations))


def test_each_method_takes_the_routes_parameters():
    schemas = create_app(run_tasks=False).openapi()["components"]["schemas"]
    for key, op in _operations().items():
        documented = {p["name"] for p in op.get("parameters", []) if p["in"] in ("path", "query")}
        if "requestBody" in op:  # POST /tasks, /robots/{name}/held: the body's fields are the method's arguments
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            body = schemas[ref.rsplit("/", 1)[-1]]
            documented |= set(body["properties"])
        for cls in (Client, AsyncClient):
            method = getattr(cls, ROUTES[key])
            params = set(inspect.signature(method).parameters) - {"self"}
            assert documented <= params, (cls.__name__, key, documented - params)
            ok = op["responses"].get("200") or op["responses"].get("202") or op["responses"]["204"]
            streaming = "text/event-stream" in ok.get("content", {})
            if cls is AsyncClient and not streaming:
                assert inspect.iscoroutinefunction(method), (key, "async method expected")


def test_events_and_plan_are_typed_in_the_openapi_with_examples():
    doc = create_app(run_tasks=False).openapi()
    schemas = doc["components"]["schemas"]
    task = schemas["Task"]
    assert task["properties"]["plan"]["anyOf"][0] == {"$ref": "#/components/schemas/Plan"}
    assert task["examples"][0]["plan"]["subtasks"][0]["steps"]
    assert schemas["PlanEvent"]["examples"][0]["data"]["plan"]["goals"]
    stream = doc["paths"]["/tasks/{task_id}/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    item = stream["itemSchema"]["properties"]["data"]["contentSchema"]
    kinds = set(item["discriminator"]["mapping"])
    assert {"status", "plan", "dispatch", "result", "replan", "model_call", "thought", "action", "observation",
            "goals_met", "end"} <= kinds
    for path in ("/tasks", "/tasks/{task_id}", "/tasks/{task_id}/cancel"):
        for method, op in doc["paths"][path].items():
            ok = op["responses"]["202" if method == "post" else "200"]["content"]["application/json"]["schema"]
            assert "Task" in str(ok), (path, method, ok)


def test_an_unknown_event_kind_comes_back_untyped_and_a_known_one_is_checked():
    import pydantic

    from robocortex.client import PlanEvent, parse_task_event
    from robocortex.client.models import EXAMPLE_PLAN
    from robocortex.memory.schemas import TaskEvent

    newer = parse_task_event({"kind": "teleport", "task_id": "t1", "at": 1.0, "data": {"x": 1}})
    assert type(newer) is TaskEvent and newer.data == {"x": 1}
    plan = parse_task_event({"kind": "plan", "task_id": "t1", "at": 1.0, "data": {"plan": EXAMPLE_PLAN}})
    assert isinstance(plan, PlanEvent) and plan.data.plan.subtasks[0].robot == "robot1"
    with pytest.raises(pydantic.ValidationError):
        parse_task_event({"kind": "plan", "task_id": "t1", "at": 1.0, "data": {"plan": {"goals": "?"}}})
