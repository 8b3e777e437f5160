"""At-least-once subtask dispatch over Redis Streams, one inbox stream per robot.

A robot worker acks an entry only in the same Lua call that stores the result, so a crash
either loses nothing (the entry is redelivered) or has already recorded the outcome. The result
is also kept under the message's idempotency key (task, subtask, attempt), so a redelivered
subtask is recognised and not done twice. Leases are the entries' idle time in the consumer
group: a working robot resets it with extend_lease(); the reaper fails entries whose robot is
offline (at once: the heartbeat's expiry ends the lease) or that were started too often, posting a
"robot_lost" result for the brain to replan.

Starts are counted in the attempt's own hash (`Keys.attempt`), once per worker that begins the
subtask — not the stream's times_delivered, which re-reads, claims and the reaper's probes also
bump. A delivery that would exceed `max_deliveries` is failed over at once, where it is found,
instead of waiting out a lease. The same hash keeps the attempt's step progress (`step_done`), so
a resumed subtask continues after its last finished step.

A Redis that comes back without the consumer groups (restarted empty, failed over) is met by
re-creating the group on NOGROUP, wherever a command needs it.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass, replace

import redis

from ._lua import script
from ._streams import entries
from .keys import ROBOT_GROUP, Keys
from .reservations import Reservations
from .robots import RobotRegistry
from .schemas import Failure, SubtaskMessage, SubtaskResult

DONE_TTL_S = 7 * 24 * 3600
RESULTS_MAXLEN = 10_000
# An offline robot's entries are failed over once idle this long (not the lease): its worker stopped
# touching them a heartbeat TTL ago; the second keeps two brain replicas from failing one entry twice.
LOST_MIN_IDLE_MS = 1_000


@dataclass(frozen=True)
class Delivery:
    entry_id: str
    message: SubtaskMessage
    deliveries: int
    consumer: str = ""


class _Blocker:
    """A consumer's connection for blocking reads and its CLIENT ID (forgotten when it reconnects)."""

    def __init__(self, client: redis.Redis):
        self.client = client
        self.client_id: int | None = None
        self.cursor = "0-0"  # the stream id its next wait starts after
        if client.connection is not None:
            client.connection.register_connect_callback(self._connected)

    def _connected(self, _connection: object) -> None:
        self.client_id = None  # a new connection has a new id: ask again before the next read


class Dispatcher:
    def __init__(self, r: redis.Redis, keys: Keys, lease_ms: int = 60_000, max_deliveries: int = 3,
                 retention_s: int = DONE_TTL_S):
        self.r = r
        self.retention_s = int(retention_s)  # how long results, idempotency records and progress are kept
        self.keys = keys
        self.lease_ms = lease_ms
        self.max_deliveries = max_deliveries
        self._hot_client: redis.Redis | None = None
        self._hot_pid = 0
        self._extend = script(r, "dispatch_extend")
        self._complete = script(r, "dispatch_complete")
        self._start_script = script(r, "dispatch_start")
        self._take = script(r, "dispatch_take")
        self._step_script = script(r, "dispatch_step")
        self._groups: set[str] = set()
        self._recovered: set[tuple[str, str]] = set()
        self._backlog: dict[tuple[str, str], deque[Delivery]] = {}
        self._next_claim: dict[tuple[str, str], float] = {}
        # (inbox, consumer) -> its connection for blocking reads, with that connection's CLIENT ID
        self._blockers: dict[tuple[str, str], _Blocker] = {}
        self._blockers_pid = os.getpid()
        self._woken: set[str] = set()
        self._lock = threading.Lock()
        self._readers = threading.local()
        self._marked_lost: set[str] = set()  # robots this reaper has marked offline in the scene graph
        self._reservations = Reservations(r, keys)
        self._registry = RobotRegistry(r, keys)  # for the scene-graph marks of robots found offline

    @property
    def _hot(self) -> redis.Redis:
        """The hot path's client (send, complete, extend_lease, and receive's first, non-blocking
        read): one connection taken from r's pool for good, so those commands skip the pool's
        per-command checkout. It is locked per command, so threads may share it; blocking reads
        stay on the pool and never hold it. A forked child opens its own."""
        if self._hot_pid != os.getpid():
            self._hot_client = redis.Redis(connection_pool=self.r.connection_pool, single_connection_client=True)
            self._hot_pid = os.getpid()
        return self._hot_client  # type: ignore[return-value]

    @property
    def _reader(self) -> redis.Redis:
        """The calling thread's own connection for reading results (often a blocking read), taken
        from r's pool once per thread instead of once per read; given back when the thread ends."""
        local = self._readers
        client = getattr(local, "client", None)
        if client is None or local.pid != os.getpid():
            client = local.client = redis.Redis(connection_pool=self.r.connection_pool, single_connection_client=True)
            local.pid = os.getpid()
        return client

    # ------------------------------------------------------------------ brain side

    def send(self, message: SubtaskMessage) -> str:
        inbox = self.keys.inbox(message.robot)
        if inbox not in self._groups:
            self._ensure_group(inbox)
        return self._hot.xadd(inbox, {"msg": message.model_dump_json()})

    def results(
        self, task_id: str, after: str = "0", block_ms: int | None = None, count: int = 100
    ) -> list[tuple[str, SubtaskResult]]:
        reply = self._reader.xread({self.keys.results(task_id): after}, count=count, block=block_ms or None)
        return [(eid, SubtaskResult.model_validate_json(f["result"])) for eid, f in entries(reply)]

    def result_for(self, message: SubtaskMessage) -> SubtaskResult | None:
        """The stored result of this exact (task, subtask, attempt), if it was already done."""
        doc = self.r.get(self.keys.done(message.key))
        return SubtaskResult.model_validate_json(doc) if doc is not None else None

    def pending(self, robot: str) -> int:
        """Entries delivered to the robot's workers and not yet acked."""
        try:
            return int(self.r.xpending(self.keys.inbox(robot), ROBOT_GROUP)["pending"])
        except redis.ResponseError as e:
            if "NOGROUP" in str(e):
                return 0
            raise

    def dead_letters(self, count: int = 100) -> list[tuple[str, SubtaskMessage, str]]:
        """(entry id, message, reason) of reaped messages, oldest first."""
        return [
            (eid, SubtaskMessage.model_validate_json(f["msg"]), f.get("reason", ""))
            for eid, f in self.r.xrange(self.keys.dead_letter, count=count)
        ]

    # ------------------------------------------------------------------ robot side

    def receive(self, robot: str, consumer: str, block_ms: int = 1000) -> Delivery | None:
        """Next subtask for this worker: first what it held before a restart, then entries other
        (dead) workers of this robot left idle past the lease, then new ones. Each delivery
        returned counts as one start (`Delivery.deliveries` is the true count); one that would go
        past `max_deliveries` is failed over to the brain here and now, and the next is looked for."""
        inbox = self.keys.inbox(robot)
        try:
            return self._receive(robot, consumer, inbox, block_ms)
        except redis.ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            self._groups.discard(inbox)  # Redis came back without the group: make it again
            self._ensure_group(inbox)
            blocker = self._blockers.get((inbox, consumer))
            if blocker is not None:  # the new group delivers from the stream's start: wait after nothing
                blocker.cursor = "0-0"
            return None

    def _receive(self, robot: str, consumer: str, inbox: str, block_ms: int) -> Delivery | None:
        slot = (robot, consumer)
        backlog = self._backlog.setdefault(slot, deque())
        if slot not in self._recovered:
            self._ensure_group(inbox)
            backlog.extend(self._recover(inbox, consumer))
            self._recovered.add(slot)
        if not backlog and time.monotonic() >= self._next_claim.get(slot, 0.0):
            self._next_claim[slot] = time.monotonic() + self.lease_ms / 2000
            backlog.extend(self._claim_stale(inbox, consumer))
        while backlog:
            started = self._start(backlog.popleft())
            if started is not None:
                return started
        # the next new entry, taken and counted as a start by one script (dispatch_take.lua); an
        # empty inbox is waited on first, with the script sent right behind the wait
        if block_ms:
            return self._blocking_take(consumer, inbox, block_ms)
        return self._taken(consumer, self._take(keys=[inbox], args=self._take_args(consumer), client=self._hot))[0]

    def _take_args(self, consumer: str) -> list[object]:
        return [ROBOT_GROUP, consumer, self.max_deliveries, self.retention_s, self.keys.attempt("")]

    def _taken(self, consumer: str, reply: list) -> tuple[Delivery | None, str]:
        """dispatch_take.lua's reply as a started delivery (None: nothing new, or failed over at its
        limit) and the stream id to wait after next."""
        if not reply[0]:
            return None, reply[1]
        eid, doc, count, key = reply
        delivery = Delivery(eid, SubtaskMessage.model_validate_json(doc), 0, consumer)
        if key != self.keys.attempt(delivery.message.key):  # the script could not count it: count it here
            return self._start(delivery), eid
        return self._counted(delivery, int(count)), eid

    def _blocking_take(self, consumer: str, inbox: str, block_ms: int) -> Delivery | None:
        """Wait for a new entry on the consumer's own connection, whose client id `wake` can unblock,
        and take it: XREAD BLOCK after the last entry id seen, and dispatch_take.lua sent right behind
        it in the same write, so Redis takes and counts the entry the moment the wait ends — one
        round trip from an empty inbox to a started delivery (an XREADGROUP BLOCK would need a
        second one to count the start). The wait ends at once when an entry is already there.
        The client id is asked for once per connection (again after a reconnect)."""
        with self._lock:
            blocker = self._blockers.get((inbox, consumer))
            if blocker is None or self._blockers_pid != os.getpid():
                if self._blockers_pid != os.getpid():
                    self._blockers, self._blockers_pid = {}, os.getpid()
                blocker = _Blocker(redis.Redis(connection_pool=self.r.connection_pool, single_connection_client=True))
                self._blockers[(inbox, consumer)] = blocker
        if blocker.client_id is None:
            blocker.client_id = int(blocker.client.client_id())
        if consumer in self._woken:  # woken before it got here: do not wait
            self._woken.discard(consumer)
            return None
        conn = blocker.client.connection
        args = self._take_args(consumer)
        commands = [("XREAD", "COUNT", 1, "BLOCK", block_ms, "STREAMS", inbox, blocker.cursor),
                    ("EVALSHA", self._take.sha, 1, inbox, *args)]

        def wait_and_take() -> list[object]:
            conn.send_packed_command(conn.pack_commands(commands))
            replies: list[object] = []
            for _ in commands:  # read both replies whatever they are, so the connection stays in step
                try:
                    replies.append(conn.read_response())
                except redis.ResponseError as e:
                    replies.append(e)
            return replies

        waited, taken = conn.retry.call_with_retry(wait_and_take, lambda _error: conn.disconnect())
        self._woken.discard(consumer)
        if isinstance(waited, redis.ResponseError):
            raise waited
        if isinstance(taken, redis.exceptions.NoScriptError):  # a restarted Redis: the Script loads it
            taken = self._take(keys=[inbox], args=args, client=blocker.client)
        elif isinstance(taken, redis.ResponseError):
            raise taken  # NOGROUP among them: receive() makes the group again
        delivery, blocker.cursor = self._taken(consumer, taken)  # type: ignore[arg-type]
        return delivery

    def wake(self, consumer: str) -> None:
        """End the consumer's blocking read now (its receive returns None at once): how a worker
        that is told to stop stops without waiting out its read. Safe from any thread."""
        self._woken.add(consumer)
        if self._blockers_pid != os.getpid():
            return
        for (_inbox, name), blocker in list(self._blockers.items()):
            client_id = blocker.client_id
            if name == consumer and client_id is not None:
                try:
                    self.r.client_unblock(client_id)
                except redis.RedisError:
                    pass  # Redis away: the read ends with the connection anyway

    def resync(self, robot: str, consumer: str) -> None:
        """Forget what this worker was handed, so its next receive() reads its unacked entries
        from Redis again (after an outage interrupted a subtask, the entry is still its own)."""
        self._recovered.discard((robot, consumer))
        self._backlog.pop((robot, consumer), None)

    def _start(self, delivery: Delivery) -> Delivery | None:
        """Count this delivery as a start; at the limit, fail it over (None) — unless it is already
        done, which the worker then only acknowledges again."""
        message = delivery.message
        count = int(self._start_script(keys=[self.keys.attempt(message.key)],
                                       args=[self.max_deliveries, self.retention_s], client=self._hot))
        return self._counted(delivery, count)

    def _counted(self, delivery: Delivery, count: int) -> Delivery | None:
        """The delivery started (its start count, from dispatch_start.lua or dispatch_take.lua), or
        failed over here (None) if it was at its limit — unless it is already done."""
        message = delivery.message
        if count > 0:
            return replace(delivery, deliveries=count)
        if self.result_for(message) is not None:
            return replace(delivery, deliveries=-count)
        why = f"started {-count} times (limit {self.max_deliveries}) without a result"
        self._fail(delivery.entry_id, {"msg": message.model_dump_json()}, why, -count)
        return None

    def starts(self, message: SubtaskMessage) -> int:
        """How many workers began this (task, subtask, attempt)."""
        return int(self.r.hget(self.keys.attempt(message.key), "starts") or 0)

    # ------------------------------------------------------------------ step progress

    def steps_done(self, message: SubtaskMessage) -> int:
        """How many of the attempt's steps are finished (a resumed subtask starts after them)."""
        return int(self.r.hget(self.keys.attempt(message.key), "steps") or 0)

    def step_done(self, message: SubtaskMessage, finished: int) -> None:
        """Record that the attempt's first `finished` steps are done (never moves backwards)."""
        self._step_script(keys=[self.keys.attempt(message.key)], args=[finished, self.retention_s], client=self._hot)

    def close(self) -> None:
        """Give the hot-path and blocking-read connections back to the pool (`r` stays usable)."""
        if self._hot_client is not None and self._hot_pid == os.getpid():
            self._hot_client.close()
        self._hot_client, self._hot_pid = None, 0
        reader = getattr(self._readers, "client", None)  # this thread's; other threads' go when they end
        if reader is not None and self._readers.pid == os.getpid():
            reader.close()
        self._readers.client = None
        with self._lock:
            blockers, self._blockers = self._blockers, {}
        if self._blockers_pid == os.getpid():
            for blocker in blockers.values():
                blocker.client.close()

    def extend_lease(self, robot: str, consumer: str, entry_id: str) -> bool:
        """Reset the entry's idle time so the reaper leaves a working robot alone.
        False if this consumer no longer holds the entry (reaped or claimed, or Redis came back
        without it): stop working on it."""
        try:
            return bool(self._extend(keys=[self.keys.inbox(robot)], args=[ROBOT_GROUP, consumer, entry_id],
                                     client=self._hot))
        except redis.ResponseError as e:
            if "NOGROUP" not in str(e):
                raise
            return False

    def complete(self, delivery: Delivery, result: SubtaskResult) -> None:
        """Store the result, publish it, then ack — one Lua call that stops before the ack if any
        earlier step fails, so an acked subtask always has its result recorded."""
        message = delivery.message
        if result.key != message.key:
            raise ValueError(f"result {result.key} does not answer message {message.key}")
        self._finish(message, delivery.entry_id, result.model_dump_json())

    def _finish(self, message: SubtaskMessage, entry_id: str, result_doc: str, *dead_letter: object) -> None:
        keys = [
            self.keys.done(message.key),
            self.keys.results(message.task_id),
            self.keys.inbox(message.robot),
            self.keys.dead_letter,
        ]
        args = [result_doc, self.retention_s, RESULTS_MAXLEN, ROBOT_GROUP, entry_id, *dead_letter]
        self._complete(keys=keys, args=args, client=self._hot)

    # ------------------------------------------------------------------ reaper

    def reap(self, robots: list[str], consumer: str = "reaper") -> list[SubtaskMessage]:
        """Fail what robots can no longer do: every entry of a robot that is offline (its heartbeat
        key expired — at once, not after the lease), entries of a live robot idle past the lease that
        were started `max_deliveries` times, and messages an offline robot never picked up. Each is
        dead-lettered with a failed "robot_lost" result for the brain to replan around, and the
        reservations it named are released. A robot found offline is also marked so in the scene
        graph, and what it held there as unavailable (`RobotRegistry.mark_lost`; cleared when it
        registers again). Returns what was reaped."""
        reaped: list[SubtaskMessage] = []
        for robot in robots:
            inbox = self.keys.inbox(robot)
            alive = bool(self.r.exists(self.keys.robot_alive(robot)))
            if not alive:
                self._lost(robot)
            elif robot in self._marked_lost:  # beating again without registering anew (its heartbeat lapsed)
                self._registry.found(robot)
                self._marked_lost.discard(robot)
            try:
                # an offline robot's lease ended with its heartbeat: its entries are taken whatever their idle time
                stale = self.r.xpending_range(inbox, ROBOT_GROUP, "-", "+", 1000,
                                              idle=self.lease_ms if alive else min(LOST_MIN_IDLE_MS, self.lease_ms))
            except redis.ResponseError as e:
                if "NOGROUP" in str(e):
                    continue
                raise
            if not alive:
                reaped += self._reap_undelivered(inbox, robot, consumer)
            for p in stale:
                count = self._starts_of(inbox, p["message_id"])
                if alive and count < self.max_deliveries:
                    continue  # the robot's worker gets it back (restart or claim) and tries again
                why = (
                    f"robot {robot} went offline holding it (started {count} times)"
                    if not alive
                    else f"started {count} times (limit {self.max_deliveries}) without a result"
                )
                message = self._dead_letter(inbox, consumer, p["message_id"], why, count,
                                            min_idle_ms=self.lease_ms if alive else min(LOST_MIN_IDLE_MS, self.lease_ms))
                if message is not None:
                    reaped.append(message)
        for message in reaped:
            if message.objects:
                self._reservations.release(list(message.objects), message.robot)
        return reaped

    def _lost(self, robot: str) -> None:
        """The first time a robot is found offline: mark it, and what it held, in the scene graph."""
        if robot not in self._marked_lost:
            self._registry.mark_lost(robot)
            self._marked_lost.add(robot)

    def _starts_of(self, inbox: str, entry_id: str) -> int:
        found = self.r.xrange(inbox, entry_id, entry_id, count=1)
        if not found or not found[0][1]:
            return 0
        return self.starts(SubtaskMessage.model_validate_json(found[0][1]["msg"]))

    def _dead_letter(
        self, inbox: str, consumer: str, entry_id: str, why: str, count: int, min_idle_ms: int | None = None
    ) -> SubtaskMessage | None:
        # Claiming first (with the lease as min idle) makes the reaper the owner; if a worker
        # touched the entry meanwhile, the claim returns nothing and the entry is left alone.
        min_idle = self.lease_ms if min_idle_ms is None else min_idle_ms
        claimed = self.r.xclaim(inbox, ROBOT_GROUP, consumer, min_idle, [entry_id])
        if not claimed:
            return None
        eid, fields = claimed[0]
        if eid is None or not fields:  # deleted from the stream while pending
            self.r.xack(inbox, ROBOT_GROUP, entry_id)
            return None
        return self._fail(entry_id, fields, why, count)

    def _reap_undelivered(self, inbox: str, robot: str, consumer: str) -> list[SubtaskMessage]:
        """Messages an offline robot never picked up (nobody will), sent more than a second ago (or
        the lease, if shorter): a message sent that moment ago may still be on its way to a robot
        that is just starting."""
        groups = {g["name"]: g for g in self.r.xinfo_groups(inbox)}
        if ROBOT_GROUP not in groups:
            return []
        last = groups[ROBOT_GROUP]["last-delivered-id"]
        seconds, micros = self.r.time()
        cutoff_ms = seconds * 1000 + micros // 1000 - min(LOST_MIN_IDLE_MS, self.lease_ms)
        old = self.r.xrange(inbox, min=f"({last}", max=str(cutoff_ms), count=1000)
        if not old:
            return []
        # Reading them into the reaper's own pending list is what stops a worker taking them now.
        reply = self.r.xreadgroup(ROBOT_GROUP, consumer, {inbox: ">"}, count=len(old))
        why = f"robot {robot} is offline and never picked it up"
        return [self._fail(eid, fields, why, 0) for eid, fields in entries(reply) if fields]

    def _fail(self, entry_id: str, fields: dict[str, str], why: str, count: int) -> SubtaskMessage:
        message = SubtaskMessage.model_validate_json(fields["msg"])
        failed = SubtaskResult(
            task_id=message.task_id,
            subtask_id=message.subtask_id,
            attempt=message.attempt,
            robot=message.robot,
            success=False,
            failure=Failure(code="robot_lost", details={"starts": count}),
            error=why,
        ).model_dump_json()
        self._finish(message, entry_id, failed, fields["msg"], why, message.robot, count)
        return message

    # ------------------------------------------------------------------ internals

    def _ensure_group(self, inbox: str) -> None:
        try:  # from id 0: messages sent before the first worker started are delivered too
            self.r.xgroup_create(inbox, ROBOT_GROUP, id="0", mkstream=True)
        except redis.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        self._groups.add(inbox)

    def _recover(self, inbox: str, consumer: str) -> list[Delivery]:
        """This consumer's unacked entries from before a restart (re-reading counts a delivery)."""
        reply = self.r.xreadgroup(ROBOT_GROUP, consumer, {inbox: "0"}, count=1000)
        return self._deliverable(inbox, consumer, entries(reply))

    def _claim_stale(self, inbox: str, consumer: str) -> list[Delivery]:
        reply = self.r.xautoclaim(inbox, ROBOT_GROUP, consumer, self.lease_ms, start_id="0-0", count=10)
        return self._deliverable(inbox, consumer, [(eid, f or {}) for eid, f in reply[1] if eid])

    def _deliverable(
        self, inbox: str, consumer: str, found: list[tuple[str, dict[str, str]]]
    ) -> list[Delivery]:
        """The entries found, as deliveries not yet started (receive counts each start)."""
        out = []
        for eid, fields in found:
            if not fields:  # deleted from the stream while pending: nothing to do
                self.r.xack(inbox, ROBOT_GROUP, eid)
                continue
            out.append(Delivery(eid, SubtaskMessage.model_validate_json(fields["msg"]), 0, consumer))
        return out
