"""robocortex.client: a typed Python client for the brain service's REST API, sync (`Client`) and async
(`AsyncClient`), on httpx; event streams followed with httpx-sse, resumed by Last-Event-ID. See docs/api.md."""

from robocortex.client.client import ROUTES, AsyncClient, AsyncEventStream, Client, EventStream, ServiceError, StreamGaveUp
from robocortex.client.models import (
    AnyTaskEvent,
    AuditEvent,
    BrainEvent,
    ControlEvent,
    DispatchEvent,
    EndEvent,
    FinishedEvent,
    Health,
    ModelCallEvent,
    PlanEvent,
    ReplanEvent,
    ResultEvent,
    RobotEvent,
    RobotsUpdate,
    StatusEvent,
    Task,
    TaskAccepted,
    TaskAudit,
    parse_task_event,
)

__all__ = [
    "ROUTES", "AnyTaskEvent", "AsyncClient", "AsyncEventStream", "EventStream", "BrainEvent", "Client", "DispatchEvent", "EndEvent", "FinishedEvent", "Health",
    "ModelCallEvent", "PlanEvent", "ReplanEvent", "ResultEvent", "RobotEvent", "RobotsUpdate", "ServiceError",
    "StatusEvent", "StreamGaveUp", "Task", "TaskAccepted", "TaskAudit", "AuditEvent", "ControlEvent",
    "parse_task_event",
]
