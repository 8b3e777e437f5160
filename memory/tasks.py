"""Task records, their status machine, their event streams, and the submission queue.

A record is one JSON document per task. Every write is a compare-and-set (Lua) against the exact
JSON the writer read, so a status transition is validated against the state it actually replaces
and a stale writer cannot undo a transition it never saw (e.g. a cancel).
"""

from __future__ import annotations

import threading
import uuid
from collections import deque

import redis

from ._lua import script
from ._streams import entries
from .keys import BRAIN_GROUP, Keys
from .schemas import TaskEvent, TaskRecord, TaskStatus, now

EVENTS_MAXLEN = 10_000
CANCEL_TTL_S = 24 * 3600

_S = TaskStatus
_STOP = frozenset({_S.failed, _S.cancelled, _S.killed})
ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    _S.pending: _STOP | {_S.planning},
    _S.planning: _STOP | {_S.planning, _S.awaiting_approval, _S.running, _S.interrupted},
    _S.awaiting_approval: _STOP | {_S.planning, _S.running},
    _S.running: _STOP | {_S.planning, _S.succeeded, _S.interrupted},
    _S.interrupted: _STOP | {_S.planning},
    _S.succeeded: frozenset(),
    _S.failed: frozenset(),
    _S.cancelled: frozenset(),
    _S.killed: frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, task_id: str, current: TaskStatus, wanted: TaskStatus):
        self.task_id, self.current, self.wanted = task_id, current, wanted
        super().__init__(f"task {task_id}: cannot go from {current.value} to {wanted.value}")


class TaskNotFound(KeyError):
    pass


def check_transition(task_id: str, current: TaskStatus, wanted: TaskStatus) -> None:
    if wanted not in ALLOWED[current]:
        raise InvalidTransition(task_id, current, wanted)


class TaskStore:
    """`retention_s`: how long a finished task's event and result streams are kept after it
    finished (set as their TTL by the transition that finishes it); None keeps them."""

    def __init__(self, r: redis.Redis, keys: Keys, retention_s: float | None = None):
        self.r = r
        self.keys = keys
        self.retention_s = retention_s
        self._cas = script(r, "task_cas")
        self._create = script(r, "task_create")
        self._recovered: set[str] = set()
        self._lock = threading.Lock()
        self._backlog: dict[str, deque[tuple[str, str]]] = {}
        self._ensure_group()

    # ------------------------------------------------------------------ records

    def create(
        self, instruction: str, task_id: str | None = None, *, enqueue: bool = False, **fields: object
    ) -> TaskRecord:
        """Store a new pending task (an existing id is refused). With `enqueue` it is also put on
        the submission queue in the same atomic step, so a crash cannot leave it accepted but
        never run."""
        record = TaskRecord(id=task_id or uuid.uuid4().hex[:12], instruction=instruction, **fields)
        created = self._create(
            keys=[self.keys.tasks, self.keys.task_index, self.keys.task_queue],
            args=[record.id, record.model_dump_json(), repr(record.created_at), "1" if enqueue else "0"],
        )
        if created is None:
            raise ValueError(f"task {record.id} already exists")
        return record

    def get(self, task_id: str) -> TaskRecord | None:
        doc = self.r.hget(self.keys.tasks, task_id)
        return TaskRecord.model_validate_json(doc) if doc is not None else None

    def list(self, status: TaskStatus | None = None, limit: int = 100) -> list[TaskRecord]:
        """Newest first; with `status`, the newest `limit` tasks in that status."""
        out: list[TaskRecord] = []
        page, start = max(limit, 100), 0
        while len(out) < limit:
            ids = self.r.zrevrange(self.keys.task_index, start, start + page - 1)
            if not ids:
                break
            start += page
            for doc in self.r.hmget(self.keys.tasks, ids):
                if doc is None:
                    continue
                rec = TaskRecord.model_validate_json(doc)
                if status is None or rec.status == status:
                    out.append(rec)
                    if len(out) == limit:
                        break
        return out

    def save(self, record: TaskRecord) -> None:
        """Write the whole record (bumping updated_at). A status change in it must be a valid
        transition from the stored status, so a runner cannot overwrite a cancel it missed."""
        while True:
            current = self._read_raw(record.id)
            stored = TaskRecord.model_validate_json(current)
            if record.status != stored.status:
                check_transition(record.id, stored.status, record.status)
            record.updated_at = now()
            event = _status_event(record, stored.status) if record.status != stored.status else None
            if self._swap(record.id, current, record, event):
                return

    def transition(self, task_id: str, status: TaskStatus, reason: str | None = None) -> TaskRecord:
        """Move a task to `status` (validated against the stored one) and log a "status" event."""
        while True:
            current = self._read_raw(task_id)
            record = TaskRecord.model_validate_json(current)
            previous = record.status
            check_transition(task_id, previous, status)
            record.status = status
            if reason is not None:
                record.reason = reason
            record.updated_at = now()
            if self._swap(task_id, current, record, _status_event(record, previous, reason)):
                return record

    def _read_raw(self, task_id: str) -> str:
        doc = self.r.hget(self.keys.tasks, task_id)
        if doc is None:
            raise TaskNotFound(task_id)
        return doc

    def _swap(self, task_id: str, expected: str, record: TaskRecord, event: TaskEvent | None) -> bool:
        retain = str(max(1, int(self.retention_s))) if record.status.terminal and self.retention_s else ""
        args = [task_id, expected, record.model_dump_json(), event.model_dump_json() if event else "", EVENTS_MAXLEN,
                retain]
        keys = [self.keys.tasks, self.keys.task_events(task_id), self.keys.results(task_id)]
        return bool(self._cas(keys=keys, args=args))

    # ------------------------------------------------------------------ events

    def emit(self, event: TaskEvent) -> str:
        return self.r.xadd(
            self.keys.task_events(event.task_id),
            {"event": event.model_dump_json()},
            maxlen=EVENTS_MAXLEN,
            approximate=True,
        )

    def events(
        self, task_id: str, after: str = "0", block_ms: int | None = None, count: int = 100
    ) -> list[tuple[str, TaskEvent]]:
        """Events after entry id `after` ("0" = from the start), waiting up to block_ms for one."""
        reply = self.r.xread({self.keys.task_events(task_id): after}, count=count, block=block_ms or None)
        return [(eid, TaskEvent.model_validate_json(f["event"])) for eid, f in entries(reply)]

    # ------------------------------------------------------------------ cancellation

    def request_cancel(self, task_id: str) -> bool:
        """Ask the task's runner to stop; False if the task is unknown or already finished."""
        record = self.get(task_id)
        if record is None or record.status.terminal:
            return False
        self.r.set(self.keys.task_cancel(task_id), "1", ex=CANCEL_TTL_S)
        return True

    def cancel_requested(self, task_id: str) -> bool:
        return bool(self.r.exists(self.keys.task_cancel(task_id)))

    # ------------------------------------------------------------------ submission queue

    def _ensure_group(self) -> None:
        try:  # from id 0, so tasks queued before any brain started are still delivered
            self.r.xgroup_create(self.keys.task_queue, BRAIN_GROUP, id="0", mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    def enqueue(self, task_id: str) -> str:
        return self.r.xadd(self.keys.task_queue, {"task_id": task_id})

    def take(self, consumer: str, block_ms: int = 1000) -> tuple[str, str] | None:
        """(entry_id, task_id) for this consumer: first what it held before a restart, then new.
        A queue that came back from Redis without its group (restarted empty) gets it again."""
        try:
            return self._take(consumer, block_ms)
        except redis.ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            self._ensure_group()
            return None

    def _take(self, consumer: str, block_ms: int) -> tuple[str, str] | None:
        with self._lock:  # a brain's threads share its consumer: its own entries are handed out once
            backlog = self._backlog.setdefault(consumer, deque())
            if consumer not in self._recovered:
                backlog.extend(self._own_pending(consumer))
                self._recovered.add(consumer)
            if backlog:
                return backlog.popleft()
        reply = self.r.xreadgroup(
            BRAIN_GROUP, consumer, {self.keys.task_queue: ">"}, count=1, block=block_ms or None
        )
        for eid, fields in entries(reply):
            return eid, fields["task_id"]
        return None

    def _own_pending(self, consumer: str) -> list[tuple[str, str]]:
        reply = self.r.xreadgroup(BRAIN_GROUP, consumer, {self.keys.task_queue: "0"}, count=10_000)
        out = []
        for eid, fields in entries(reply):
            if fields:
                out.append((eid, fields["task_id"]))
            else:  # the entry was deleted from the stream while pending: nothing left to do
                self.r.xack(self.keys.task_queue, BRAIN_GROUP, eid)
        return out

    def done(self, entry_id: str) -> None:
        """Ack and drop the queue entry (the queue holds only tasks not yet finished by a brain)."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.xack(self.keys.task_queue, BRAIN_GROUP, entry_id)
            pipe.xdel(self.keys.task_queue, entry_id)
            pipe.execute()

    def touch(self, consumer: str, entry_id: str) -> None:
        """Reset the entry's idle time, so claim_abandoned() by another replica leaves it alone."""
        try:
            self.r.xclaim(self.keys.task_queue, BRAIN_GROUP, consumer, 0, [entry_id], justid=True)
        except redis.ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            self._ensure_group()

    def claim_abandoned(self, consumer: str, min_idle_ms: int, count: int = 10) -> list[tuple[str, str]]:
        """Take over queue entries another (dead) replica held untouched for min_idle_ms."""
        try:
            reply = self.r.xautoclaim(
                self.keys.task_queue, BRAIN_GROUP, consumer, min_idle_ms, start_id="0-0", count=count
            )
        except redis.ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            self._ensure_group()
            return []
        out = []
        for eid, fields in reply[1]:
            if fields:
                out.append((eid, fields["task_id"]))
            else:
                self.r.xack(self.keys.task_queue, BRAIN_GROUP, eid)
        return out


def _status_event(record: TaskRecord, previous: TaskStatus, reason: str | None = None) -> TaskEvent:
    return TaskEvent(
        kind="status",
        task_id=record.id,
        message=reason or record.reason or "",
        data={"status": record.status.value, "from": previous.value},
    )
