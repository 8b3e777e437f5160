"""The robot worker: one process per robot. It registers, heartbeats, takes its subtasks from its
own inbox stream, reserves the objects it will handle, runs the cerebellum executor in the shared
world, stores the result and only then acks.

A worker that restarts under the same name first drains what it held before; a redelivered
subtask that was already finished is recognised by its idempotency key and only acked again. On
SIGTERM it finishes its current subtask, then leaves; killed with SIGKILL, its subtask stays
pending in Redis until the reaper hands it back to the brain. If its lease is lost meanwhile (the
reaper took the subtask), it stops working on it and leaves the outcome to the brain.
"""

from __future__ import annotations

import logging
import threading
import time

from robocortex.memory.dispatch import Delivery
from robocortex.memory.schemas import RobotProfile, SubtaskMessage, SubtaskResult
from robocortex.sim.world import World

from robocortex.agents.context import Memory
from robocortex.agents.settings import Settings
from robocortex.cerebellum.executor import SubtaskExecutor
from robocortex.cerebellum.reasoner import Reasoner

log = logging.getLogger("robocortex.robot")


class RobotWorker:
    def __init__(self, settings: Settings, profile: RobotProfile, world: World, memory: Memory | None = None,
                 reserve_wait_s: float = 60.0):
        self.settings = settings
        self.profile = profile
        self.name = profile.name
        self.world = world
        self.memory = memory or Memory.from_settings(settings)
        self.reserve_wait_s = reserve_wait_s
        self.stop_event = threading.Event()
        self._current: Delivery | None = None
        self._lease_lost = threading.Event()
        self._held: list[str] = []
        self._lock = threading.Lock()
        reasoner = Reasoner(settings.llm) if settings.llm.base_url else None
        self.executor = SubtaskExecutor(world, profile, self.memory.scene, self.memory.tasks,
                                        reasoner=reasoner, claim=self._claim_more)

    # ------------------------------------------------------------------ liveness

    def _beat_once(self) -> None:
        with self._lock:
            current, held = self._current, list(self._held)
        self.memory.robots.heartbeat(self.name, current.message.key if current else None)
        if current is not None:
            if not self.memory.dispatcher.extend_lease(self.name, current.consumer or self.name, current.entry_id):
                log.warning("%s: lease on %s lost (reclaimed); abandoning it", self.name, current.message.key)
                self._lease_lost.set()
            if held:
                self.memory.reservations.extend(held, self.name, self.settings.lease_ms)

    def _heartbeat(self) -> None:
        period = max(self.settings.heartbeat_ttl_s / 3, 0.2)
        while not self.stop_event.wait(period):
            try:
                self._beat_once()
            except Exception:
                log.exception("%s: heartbeat failed", self.name)

    # ------------------------------------------------------------------ work

    def run(self) -> None:
        self.memory.robots.register(self.profile)
        self.executor.act("Pass")  # publish where this robot is and what it sees
        beat = threading.Thread(target=self._heartbeat, name=f"{self.name}-heartbeat", daemon=True)
        beat.start()
        log.info("%s ready (agent %d, %s, skills: %s)", self.name, self.profile.agent_id, self.profile.embodiment,
                 ", ".join(self.profile.skills))
        try:
            while not self.stop_event.is_set():
                delivery = self.memory.dispatcher.receive(self.name, self.name, block_ms=1000)
                if delivery is not None:
                    self.handle(delivery)
        finally:
            self.stop_event.set()
            self.memory.robots.deregister(self.name)
            log.info("%s stopped", self.name)

    def handle(self, delivery: Delivery) -> SubtaskResult | None:
        """Do one delivered subtask and record its result; None if the lease was lost meanwhile."""
        msg = delivery.message
        done = self.memory.dispatcher.result_for(msg)
        if done is not None:  # a redelivery of work already finished: do not do it twice
            log.info("%s: %s already done (idempotency key); acknowledging again", self.name, msg.key)
            self.memory.dispatcher.complete(delivery, done)
            return done
        if delivery.deliveries > 1:
            log.info("%s: resuming %s (delivery %d)", self.name, msg.key, delivery.deliveries)
        with self._lock:
            self._current = delivery
            self._lease_lost.clear()
        self.memory.robots.heartbeat(self.name, msg.key)
        try:
            result = self._execute(msg)
            if self._lease_lost.is_set():
                log.warning("%s: %s was reclaimed while running; its result is dropped", self.name, msg.key)
                return None
            self.memory.dispatcher.complete(delivery, result)
            return result
        finally:
            with self._lock:
                held, self._held, self._current = self._held, [], None
            if held:
                self.memory.reservations.release(held, self.name)
            self.memory.robots.heartbeat(self.name, None)

    def _claim_more(self, object_id: str) -> bool:
        """Reserve another object mid-subtask (the executor switching to another instance)."""
        if not self.memory.reservations.acquire([object_id], self.name, self.settings.lease_ms):
            return False
        with self._lock:
            self._held.append(object_id)
        return True

    def _failed(self, msg: SubtaskMessage, kind: str, error: str) -> SubtaskResult:
        return SubtaskResult(task_id=msg.task_id, subtask_id=msg.subtask_id, attempt=msg.attempt,
                             robot=self.name, success=False, failure_kind=kind, error=error)  # type: ignore[arg-type]

    def _execute(self, msg: SubtaskMessage) -> SubtaskResult:
        def cancelled() -> bool:
            return self._lease_lost.is_set() or self.memory.tasks.cancel_requested(msg.task_id)

        if cancelled():
            return self._failed(msg, "cancelled", "task cancelled")
        deadline = time.time() + self.reserve_wait_s
        while msg.objects and not self.memory.reservations.acquire(msg.objects, self.name, self.settings.lease_ms):
            if time.time() > deadline or cancelled():
                holders = {o: self.memory.reservations.owner(o) for o in msg.objects}
                busy = ", ".join(f"{o} (held by {h})" for o, h in holders.items() if h and h != self.name)
                return self._failed(msg, "blocked",
                                    f"could not reserve {busy or 'its objects'} within {self.reserve_wait_s:.0f} s")
            time.sleep(0.2)
        with self._lock:
            self._held = list(msg.objects)
        log.info("%s: starting %s: %s", self.name, msg.key, msg.description)
        result = self.executor.run(msg, cancelled=cancelled)
        log.info("%s: %s %s", self.name, msg.key, "done" if result.success else f"failed: {result.error}")
        return result
