"""The logs of every RoboCortex process: one line per record on stdout, as text or JSON.

`ROBOCORTEX_LOG_FORMAT=text|json` and `ROBOCORTEX_LOG_LEVEL=DEBUG|INFO|WARNING|ERROR` (settings
`log_format`, `log_level`). Every record carries the process's role and name, and — inside
`task_context(...)`, when logged with `extra={"task_id": ..., "robot": ...}` (a LoggerAdapter
does that), or inside a node of the brain's graph (its LangGraph thread id is the task id) — the
task and robot it is about. Per-request lines of httpx (one per world step) are
demoted to DEBUG; uvicorn's own and access lines go through the same handler. Errors that end a
command are not logs: they are one line on stderr (see cli.py).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
CONTEXT_FIELDS = ("task_id", "robot")

_task_id: ContextVar[str | None] = ContextVar("robocortex_task_id", default=None)
_robot: ContextVar[str | None] = ContextVar("robocortex_robot", default=None)
_process = {"role": "", "name": ""}


@contextmanager
def task_context(task_id: str | None = None, robot: str | None = None) -> Iterator[None]:
    """Every record logged inside (in this thread or task) carries this task id and robot."""
    tokens = [(var, var.set(value)) for var, value in ((_task_id, task_id), (_robot, robot)) if value is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    """Adds role, name, task_id and robot to every record (an explicit `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.role = _process["role"]
        record.process_name = _process["name"]
        if getattr(record, "task_id", None) is None:
            record.task_id = _task_id.get() or _graph_thread_id()
        if getattr(record, "robot", None) is None:
            record.robot = _robot.get() or (_process["name"] if _process["role"] == "worker" else None)
        return True


def _graph_thread_id() -> str | None:
    """Inside a node of the brain's LangGraph graph, its thread id — the task id (brain/runner.py runs
    one thread per task), read from LangGraph's own context, so brain code needs no logging hook."""
    config = sys.modules.get("langgraph.config")
    if config is None:
        return None
    try:
        return config.get_config().get("configurable", {}).get("thread_id")
    except Exception:  # outside a graph run
        return None


class DemoteToDebug(logging.Filter):
    """httpx logs every request at INFO — one line per world step: they become DEBUG lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO:
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(record.levelno)


def _access_fields(record: logging.LogRecord) -> dict[str, object]:
    """uvicorn's access line as fields: client, method, path, status."""
    args = record.args
    if record.name != "uvicorn.access" or not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, _version, status = args
    return {"client": client, "method": method, "path": path, "status": status}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO 8601, UTC), level, logger, message, role, name, task_id,
    robot (null when not about a task), and exc when there is a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
            "role": getattr(record, "role", ""), "name": getattr(record, "process_name", ""),
            **{f: getattr(record, f, None) for f in CONTEXT_FIELDS}, **_access_fields(record),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [role name task=… robot=…] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{f.split('_')[0]}={getattr(record, f)}" for f in CONTEXT_FIELDS
                           if getattr(record, f, None) and getattr(record, f) != getattr(record, "process_name", ""))
        where = " ".join(p for p in (getattr(record, "role", ""), getattr(record, "process_name", ""), context) if p)
        saved = record.msg, record.args
        record.msg, record.args = (f"[{where}] " if where else "") + record.getMessage(), None
        try:
            return super().format(record)
        finally:
            record.msg, record.args = saved


def check(level: str, fmt: str) -> tuple[str, str]:
    """The level and format, upper/lower-cased; ValueError naming the choices."""
    if level.upper() not in LEVELS:
        raise ValueError(f"log level {level!r}: choose one of {', '.join(LEVELS)} (ROBOCORTEX_LOG_LEVEL)")
    if fmt.lower() not in FORMATS:
        raise ValueError(f"log format {fmt!r}: choose text or json (ROBOCORTEX_LOG_FORMAT)")
    return level.upper(), fmt.lower()


def setup(role: str, name: str = "", level: str | None = None, fmt: str | None = None) -> None:
    """Configure the root logger of this process (replacing any handler): stdout, the format and
    level given (else from the environment, else text and INFO)."""
    level, fmt = check(level or os.environ.get("ROBOCORTEX_LOG_LEVEL", "INFO"),
                       fmt or os.environ.get("ROBOCORTEX_LOG_FORMAT", "text"))
    _process.update(role=role, name=name)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    httpx_log = logging.getLogger("httpx")
    if not any(isinstance(f, DemoteToDebug) for f in httpx_log.filters):
        httpx_log.addFilter(DemoteToDebug())
    for name_ in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # through our handler, not their own
        logger = logging.getLogger(name_)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


def uvicorn_options() -> dict[str, object]:
    """uvicorn.Config keywords that keep our logging (no dictConfig of its own; access lines on)."""
    return {"log_config": None, "access_log": True}
