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
from .schemas import SubtaskStatus, TaskControl, TaskEvent, TaskRecord, TaskStatus, now

EVENTS_MAXLEN = 10_000
CANCEL_TTL_S = 24 * 3600
CONTROL_TTL_S = CANCEL_TTL_S
IDEMPOTENCY_TTL_S = 7 * 24 * 3600
TAKE_BATCH = 20  # queue entries a brain looks at at once to start the highest-priority first

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


class IdempotencyConflict(ValueError):
    """The idempotency key was used before for a different submission."""

    def __init__(self, key: str, task_id: str):
        self.key, self.task_id = key, task_id
        super().__init__(f"idempotency key {key!r} was used for task {task_id} with a different submission")


# What each control action ends in, and the statuses it may be asked in.
CONTROL_STATUS: dict[str, TaskStatus] = {"cancel": _S.cancelled, "kill": _S.killed, "interrupt": _S.interrupted}
# States with no runner at work on the task (or one that only waits): a cancel ends them at once.
_IDLE = frozenset({_S.pending, _S.awaiting_approval, _S.interrupted})
# States an interrupt acts in: the runner is planning or robots are working.
INTERRUPTIBLE = frozenset({_S.planning, _S.running})


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
        self._take_best = script(r, "task_take")
        self._release = script(r, "task_release")
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
        never run. With `options.idempotency_key`, see `submit`."""
        record, created = self.submit(instruction, task_id, enqueue=enqueue, **fields)
        if not created:
            raise IdempotencyConflict(record.options.idempotency_key or "", record.id)
        return record

    def submit(
        self, instruction: str, task_id: str | None = None, *, enqueue: bool = False, **fields: object
    ) -> tuple[TaskRecord, bool]:
        """(record, created). A task whose `options.idempotency_key` was claimed before (and whose task
        still exists) is not created again: that task comes back with created=False — or
        IdempotencyConflict when its `fingerprint` differs from this submission's."""
        record = TaskRecord(id=task_id or uuid.uuid4().hex[:12], instruction=instruction, **fields)
        key = record.options.idempotency_key
        idem = self.keys.task_idempotency(key) if key else ""
        ttl = str(max(1, int(self.retention_s or IDEMPOTENCY_TTL_S)))
        reply = self._create(
            keys=[self.keys.tasks, self.keys.task_index, self.keys.task_queue, idem],
            args=[record.id, record.model_dump_json(), repr(record.created_at), "1" if enqueue else "0", ttl],
        )
        if reply is None:
            raise ValueError(f"task {record.id} already exists")
        if reply[0] == "existing":
            existing = self.get(reply[1])
            if existing is not None:
                if existing.fingerprint != record.fingerprint:
                    raise IdempotencyConflict(key or "", existing.id)
                return existing, False
            return self.submit(instruction, task_id, enqueue=enqueue, **fields)  # removed meanwhile: again
        return record, True

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
        transition from the stored status, so a runner cannot overwrite a cancel it missed. A
        finished record is final: saving over it does nothing (e.g. a runner that has not yet
        seen a kill)."""
        while True:
            current = self._read_raw(record.id)
            stored = TaskRecord.model_validate_json(current)
            if stored.status.terminal:
                return
            if record.status != stored.status:
                check_transition(record.id, stored.status, record.status)
            record.updated_at = now()
            event = (_status_event(record, stored.status, actor=self._actor_for(record.id, record.status))
                     if record.status != stored.status else None)
            if self._swap(record.id, current, record, event):
                return

    def transition(self, task_id: str, status: TaskStatus, reason: str | None = None,
                   actor: str | None = None) -> TaskRecord:
        """Move a task to `status` (validated against the stored one) and log a "status" event saying
        who asked: `actor`, else the one who asked for it through the control signal (a cancel,
        kill or interrupt the runner carries out), else "brain"."""
        actor = actor or self._actor_for(task_id, status)
        while True:
            current = self._read_raw(task_id)
            record = TaskRecord.model_validate_json(current)
            previous = record.status
            check_transition(task_id, previous, status)
            record.status = status
            if reason is not None:
                record.reason = reason
            record.updated_at = now()
            if status.terminal:
                _close_subtasks(record)
            if self._swap(task_id, current, record, _status_event(record, previous, reason, actor)):
                return record

    def _actor_for(self, task_id: str, status: TaskStatus) -> str:
        control = self.control(task_id)
        if control is not None and CONTROL_STATUS[control.action] == status:
            return control.actor
        return "brain"

    def _read_raw(self, task_id: str) -> str:
        doc = self.r.hget(self.keys.tasks, task_id)
        if doc is None:
            raise TaskNotFound(task_id)
        return doc

    def _swap(self, task_id: str, expected: str, record: TaskRecord, event: TaskEvent | None,
              control: str = "", enqueue: bool = False) -> bool:
        retain = str(max(1, int(self.retention_s))) if record.status.terminal and self.retention_s else ""
        args = [task_id, expected, record.model_dump_json(), event.model_dump_json() if event else "", EVENTS_MAXLEN,
                retain, control, CONTROL_TTL_S, "1" if enqueue else "0"]
        keys = [self.keys.tasks, self.keys.task_events(task_id), self.keys.results(task_id),
                self.keys.task_control(task_id), self.keys.task_queue]
        return bool(self._cas(keys=keys, args=args))

    # ------------------------------------------------------------------ retention

    def trim(self, max_age_s: float | None = None, max_finished: int | None = None) -> list[str]:
        """Remove finished tasks (record, events, results, signals) that finished more than `max_age_s`
        ago, and those beyond the newest `max_finished` finished ones; unfinished tasks are never
        touched. Returns the removed ids."""
        cutoff = now() - max_age_s if max_age_s is not None else None
        removed: list[str] = []
        finished, start, page = 0, 0, 500
        while True:
            ids = self.r.zrevrange(self.keys.task_index, start, start + page - 1)
            if not ids:
                break
            start += page
            for task_id, doc in zip(ids, self.r.hmget(self.keys.tasks, ids)):
                if doc is None:
                    self.r.zrem(self.keys.task_index, task_id)
                    start -= 1
                    continue
                record = TaskRecord.model_validate_json(doc)
                if not record.status.terminal:
                    continue
                finished += 1
                too_many = max_finished is not None and finished > max_finished
                too_old = cutoff is not None and record.updated_at < cutoff
                if (too_many or too_old) and self._remove(record, doc):
                    removed.append(task_id)
                    start -= 1
        return removed

    def _remove(self, record: TaskRecord, doc: str) -> bool:
        """Delete a finished task and everything stored under its id, unless it changed meanwhile."""
        key = record.options.idempotency_key
        with self.r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(self.keys.tasks)
                if pipe.hget(self.keys.tasks, record.id) != doc:
                    return False
                idem = self.keys.task_idempotency(key) if key and pipe.get(self.keys.task_idempotency(key)) == record.id else None
                pipe.multi()
                pipe.hdel(self.keys.tasks, record.id)
                pipe.zrem(self.keys.task_index, record.id)
                pipe.delete(self.keys.task_events(record.id), self.keys.results(record.id),
                            self.keys.task_control(record.id), self.keys.task_cancel(record.id), *([idem] if idem else []))
                pipe.execute()
                return True
            except redis.WatchError:
                return False

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

    # ------------------------------------------------------------------ control: cancel, kill, interrupt, resume

    def control(self, task_id: str) -> TaskControl | None:
        """The stop the task was asked for (cancel, kill or interrupt), if any."""
        doc = self.r.get(self.keys.task_control(task_id))
        return TaskControl.model_validate_json(doc) if doc is not None else None

    def cancel_requested(self, task_id: str) -> bool:
        """Whether the task's robots must stop after their current step: it was cancelled, killed or
        interrupted (an interrupted task's robots hold, and keep what they hold, until it resumes)."""
        return bool(self.r.exists(self.keys.task_control(task_id), self.keys.task_cancel(task_id)))

    def request_cancel(self, task_id: str, actor: str = "anonymous") -> TaskRecord | None:
        """`cancel`, or None (instead of an error) for a task that is unknown or already finished."""
        try:
            return self.cancel(task_id, actor)
        except (TaskNotFound, InvalidTransition):
            return None

    def cancel(self, task_id: str, actor: str = "anonymous") -> TaskRecord:
        """Cancel in any unfinished state. A task no runner is working on (queued, waiting for approval,
        interrupted) is cancelled at once; a planning or running one is signalled, and its runner ends
        it within moments (its robots stop after their current step). InvalidTransition once finished."""
        return self._control(task_id, TaskControl(action="cancel", actor=actor), at_once=_IDLE)

    def kill(self, task_id: str, actor: str = "anonymous") -> TaskRecord:
        """Stop now, in any unfinished state: killed at once, its open subtasks cancelled; its robots stop
        after the step they are in and drop what was sent to them but not started."""
        return self._control(task_id, TaskControl(action="kill", actor=actor), at_once=frozenset(TaskStatus))

    def interrupt(self, task_id: str, actor: str = "anonymous",
                          preempted_by: str | None = None) -> TaskRecord:
        """Ask a planning or running task to hold: nothing new is dispatched, its robots finish their
        current step and keep what they hold, then the runner records it `interrupted`."""
        return self._control(task_id, TaskControl(action="interrupt", actor=actor, preempted_by=preempted_by),
                             at_once=frozenset(), allowed=INTERRUPTIBLE)

    def resume(self, task_id: str, actor: str = "anonymous") -> TaskRecord:
        """interrupted → planning, its signal cleared and the task queued again: a brain replans it from
        the scene as it is now. InvalidTransition from any other state."""
        while True:
            current = self._read_raw(task_id)
            record = TaskRecord.model_validate_json(current)
            previous = record.status
            if previous != TaskStatus.interrupted:
                raise InvalidTransition(task_id, previous, TaskStatus.planning)
            record.status, record.reason, record.preempted_by = TaskStatus.planning, None, None
            record.updated_at = now()
            event = _status_event(record, previous, "resumed", actor)
            if self._swap(task_id, current, record, event, control="-", enqueue=True):
                return record

    def _control(self, task_id: str, control: TaskControl, at_once: frozenset[TaskStatus],
                 allowed: frozenset[TaskStatus] | None = None) -> TaskRecord:
        wanted = CONTROL_STATUS[control.action]
        while True:
            current = self._read_raw(task_id)
            record = TaskRecord.model_validate_json(current)
            previous = record.status
            if (allowed is not None and previous not in allowed) or wanted not in ALLOWED[previous]:
                raise InvalidTransition(task_id, previous, wanted)
            signal = control.model_dump_json()
            if previous in at_once:
                record.status, record.reason = wanted, f"{wanted.value} by {control.actor}"
                record.updated_at = now()
                _close_subtasks(record)
                event = _status_event(record, previous, actor=control.actor)
            else:  # the runner carries it out; the request is on record as a control event
                if control.preempted_by:
                    record.preempted_by = control.preempted_by
                event = TaskEvent(kind="control", task_id=task_id, actor=control.actor,
                                  message=f"{control.action} requested by {control.actor}",
                                  data={"action": control.action, "status": previous.value,
                                        "preempted_by": control.preempted_by})
            if self._swap(task_id, current, record, event, control=signal):
                return record

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
        # the highest priority of what is queued now, without waiting; else wait for the next one
        best = self._take_best(keys=[self.keys.task_queue, self.keys.tasks], args=[BRAIN_GROUP, consumer, TAKE_BATCH])
        if best:
            return best[0], best[1]
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

    def defer(self, entry_id: str, task_id: str, not_before: float) -> None:
        """Take a task off the queue until its earliest start (`release_due` queues it again then),
        in one step, so it is never both queued and waiting, nor neither."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.zadd(self.keys.task_delayed, {task_id: not_before})
            pipe.xack(self.keys.task_queue, BRAIN_GROUP, entry_id)
            pipe.xdel(self.keys.task_queue, entry_id)
            pipe.execute()

    def release_due(self, at: float | None = None) -> list[str]:
        """Queue again every deferred task whose earliest start has come; their ids."""
        return list(self._release(keys=[self.keys.task_delayed, self.keys.task_queue], args=[repr(at or now())]) or [])

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


def _status_event(record: TaskRecord, previous: TaskStatus, reason: str | None = None,
                  actor: str | None = None) -> TaskEvent:
    return TaskEvent(
        kind="status",
        task_id=record.id,
        message=reason or record.reason or "",
        data={"status": record.status.value, "from": previous.value},
        actor=actor,
    )


def _close_subtasks(record: TaskRecord) -> None:
    """A finished task has no open subtasks: those waiting or dispatched are cancelled."""
    for s in record.subtasks:
        if s.status in (SubtaskStatus.waiting, SubtaskStatus.dispatched):
            s.status = SubtaskStatus.cancelled
