"""The robot worker: one robot, in a process of its own or with others in a pool (agents/pool.py). It registers, heartbeats, takes its subtasks from its
own inbox stream, reserves the objects it will handle, runs the cerebellum executor in the shared
world, stores the result and only then acks.

A worker that restarts under the same name first drains what it held before; a redelivered
subtask that was already finished is recognised by its idempotency key and only acked again, and
one that was interrupted continues after its last finished step (the executor records each step).
On SIGTERM or Ctrl-C it stops at the next world action (its blocked inbox read ends at once) and
leaves its subtask unacked; killed with SIGKILL, the same. A robot that is offline — signed off, or
its heartbeat expired — has its subtasks failed over by the brain's reaper at once (`robot_lost`, so
they are replanned around it); one that is back before the reaper sees it gone resumes its subtask
after the last finished step. If its lease is lost meanwhile (the reaper took the subtask), it stops
working on it and leaves the outcome to the brain.

Redis going away (a restart, a failover) never ends the worker: every command retries with backoff,
and what outlasts that is waited out in the loop — one log line when Redis goes, one when it is
back — after which heartbeats, the lease and the interrupted subtask resume.
"""

from __future__ import annotations

import logging
import threading
import time


from robocortex.memory.connection import is_outage, outage
from robocortex.memory.dispatch import Delivery
from robocortex.memory.schemas import RobotProfile, SkillSource, SubtaskMessage, SubtaskResult
from robocortex.sim.world import World

from robocortex.memory.stores import Memory
from robocortex.agents.settings import Settings
from robocortex.cerebellum.executor import SubtaskExecutor
from robocortex.cerebellum.mcp_skills import McpSkills
from robocortex.cerebellum.skills import register_specs
from robocortex.cerebellum.reasoner import Reasoner

log = logging.getLogger("robocortex.robot")


class _StopEvent(threading.Event):
    """The worker's stop flag; setting it also ends the worker's blocking inbox read at once."""

    def __init__(self, on_set) -> None:
        super().__init__()
        self._on_set = on_set

    def set(self) -> None:
        super().set()
        # on a thread of its own: set() may run in a signal handler, which must not wait on a lock
        # the interrupted code holds (the Redis client pool's)
        threading.Thread(target=self._wake, name="wake", daemon=True).start()

    def _wake(self) -> None:
        try:
            self._on_set()
        except Exception:  # waking is a courtesy: the read ends by its own timeout anyway
            log.debug("waking the inbox read failed", exc_info=True)


class RobotWorker:
    """One robot: its own identity, inbox and heartbeat. Several can share a process (agents/pool.py):
    they then share `memory` (one Redis client pool) and the world client, and the pool beats for
    all of them from one thread (`own_heartbeat=False`, `beat_once`)."""

    def __init__(self, settings: Settings, profile: RobotProfile, world: World, memory: Memory | None = None,
                 reserve_wait_s: float = 60.0, own_heartbeat: bool = True):
        self.settings = settings
        self.profile = profile
        self.name = profile.name
        self.world = world
        self.memory = memory or Memory.from_settings(settings)
        self.reserve_wait_s = reserve_wait_s
        self.own_heartbeat = own_heartbeat
        self.ready = threading.Event()  # registered and published: it takes subtasks from now on
        self.stop_event = _StopEvent(lambda: self.memory.dispatcher.wake(self.name))
        self.outage = outage()  # the process's one report: a line when Redis goes, one when it is back
        self._current: Delivery | None = None
        self._lease_lost = threading.Event()
        self._held: list[str] = []
        self._lock = threading.Lock()
        reasoner = Reasoner(settings.llm) if settings.llm.base_url else None
        self.executor = SubtaskExecutor(world, profile, self.memory.scene, self.memory.tasks,
                                        reasoner=reasoner, claim=self._claim_more,
                                        vision=settings.vision.client(),
                                        policy=settings.policy.client(settings.vision.frames_dir))

    # ------------------------------------------------------------------ liveness

    def stop(self) -> None:
        """Stop at the next world action (a subtask in progress stays unacked, to be resumed)."""
        self.stop_event.set()

    def beat_once(self) -> None:
        """One heartbeat (and lease extension) now, riding out a Redis outage (counted, logged once);
        what the heartbeat thread, or a pool, calls."""
        try:
            self._beat_once()
            self.outage.ok()
        except Exception as exc:
            if is_outage(exc):
                self.outage.failed(exc)
            else:
                log.exception("%s: heartbeat failed", self.name)

    def _beat_once(self) -> None:
        with self._lock:
            current, held = self._current, list(self._held)
        self.memory.robots.heartbeat(self.name, current.message.key if current else None, self.profile)
        if current is not None:
            if not self.memory.dispatcher.extend_lease(self.name, current.consumer or self.name, current.entry_id):
                with self._lock:  # the subtask may have ended (its entry acked) since it was read above
                    lost = self._current is current
                    if lost:
                        self._lease_lost.set()
                if lost:
                    log.warning("%s: lease on %s lost (reclaimed); abandoning it", self.name, current.message.key)
            if held:
                self.memory.reservations.extend(held, self.name, self.settings.lease_ms)

    def _heartbeat(self) -> None:
        period = max(self.settings.heartbeat_ttl_s / 3, 0.2)
        while not self.stop_event.wait(period):
            self.beat_once()

    # ------------------------------------------------------------------ work

    def _until_redis_answers(self, what: str, call) -> bool:
        """Run `call` until it works, waiting out Redis outages; False if asked to stop first."""
        delay = 0.2
        while not self.stop_event.is_set():
            try:
                call()
                self.outage.ok()
                return True
            except Exception as exc:
                if not is_outage(exc):
                    raise
                self.outage.failed(exc)
                log.debug("%s: %s waits for Redis", self.name, what)
                self.stop_event.wait(delay)
                delay = min(delay * 2, 2.0)
        return False

    def take_skills(self) -> None:
        """Complete the profile with where each skill comes from: the tools of the profile's MCP
        servers become skills (listed now, registered beside the built-in ones, declared in the
        profile so the brain plans with them), and skills a policy server runs say so. A server that
        cannot be reached costs its skills, never the robot."""
        servers = getattr(self.profile, "mcp_servers", None) or []
        policy = dict(getattr(self.settings.policy, "servers", None) or {})
        sources = {s: SkillSource(kind="policy", name=url) for s, url in policy.items() if s in self.profile.skills}
        specs = []
        if servers:
            provider = McpSkills(servers, self.name, self.profile.agent_id)
            found = provider.discover()
            registered = {s.name for s in register_specs(found)}
            specs = [s for s in found if s.name in registered and s.name not in self.profile.skills]
            for skipped in sorted({s.name for s in found} - {s.name for s in specs}):
                log.warning("%s: MCP tool %s not taken: a skill of that name exists already", self.name, skipped)
            provider.skill_server = {k: v for k, v in provider.skill_server.items() if k in {s.name for s in specs}}
            sources.update({s.name: s.source for s in specs})
            self.executor.mcp = provider
        skills = [*self.profile.skills, *(s.name for s in specs)]
        sources = {name: sources.get(name) or SkillSource() for name in skills}  # the rest are built in
        self.profile = self.profile.model_copy(update={"skills": skills, "skill_specs": specs, "skill_sources": sources})
        self.executor.profile = self.profile

    def run(self) -> None:
        self.take_skills()

        def start() -> None:
            self.memory.robots.register(self.profile)
            self.executor.act("Pass")  # publish where this robot is and what it sees

        if not self._until_redis_answers("registering", start):
            return
        if self.own_heartbeat:
            threading.Thread(target=self._heartbeat, name=f"{self.name}-heartbeat", daemon=True).start()
        self.ready.set()
        log.info("%s ready (agent %d, %s, skills: %s)", self.name, self.profile.agent_id, self.profile.embodiment,
                 ", ".join(self.profile.skills))
        try:
            while not self.stop_event.is_set():
                self._round()
        finally:
            self.stop_event.set()
            try:  # leaving must not fail, whatever state Redis is in
                self.memory.robots.deregister(self.name)
            except Exception as exc:
                log.warning("%s: could not mark itself offline (%s); its heartbeat key expires on its own",
                            self.name, type(exc).__name__)
            log.info("%s stopped", self.name)

    def _round(self) -> None:
        """Take one subtask (or wait up to a second for one) and do it; a Redis outage is waited out."""
        try:
            delivery = self.memory.dispatcher.receive(self.name, self.name, block_ms=1000)
            self.outage.ok()
            if delivery is not None:
                self.handle(delivery)
        except Exception as exc:
            if is_outage(exc):
                self.outage.failed(exc)
            else:  # a bug must not end the robot: the entry stays unacked and counts as one start
                log.exception("%s: unexpected error; the subtask is read again (at most max_deliveries times)",
                              self.name)
            # whatever was interrupted is still this worker's unacked entry: read it again when back
            self.memory.dispatcher.resync(self.name, self.name)
            self.stop_event.wait(0.5)

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
        try:
            self.memory.robots.heartbeat(self.name, msg.key)
            # a redelivery, or a retry of the same subtask, skips steps whose effect already holds
            result = self._execute(msg, resumed=delivery.deliveries > 1 or msg.attempt > 1)
            if self._lease_lost.is_set():
                log.warning("%s: %s was reclaimed while running; its result is dropped", self.name, msg.key)
                return None
            if self.stop_event.is_set() and not result.success:
                log.info("%s: stopping; %s stays unacked and resumes after its last finished step", self.name,
                         msg.key)
                return None
            # the result is the one thing not to lose: wait out an outage rather than redo the work
            stored = self._until_redis_answers(f"storing {msg.key}", lambda: self.memory.dispatcher.complete(delivery, result))
            return result if stored else None
        finally:
            with self._lock:
                held, self._held, self._current = self._held, [], None
            self._clean_up(held)

    def _clean_up(self, held: list[str]) -> None:
        """Release the subtask's reservations and say the robot is idle. Never raises: in an outage
        the reservations lapse by their TTL and the next heartbeat says it."""
        try:
            if held:
                self.memory.reservations.release(held, self.name)
            self.memory.robots.heartbeat(self.name, None)
        except Exception as exc:
            if not is_outage(exc):
                log.exception("%s: clean-up after a subtask failed", self.name)
            else:
                self.outage.failed(exc)

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

    def _execute(self, msg: SubtaskMessage, resumed: bool = False) -> SubtaskResult:
        def cancelled() -> bool:
            return (self.stop_event.is_set() or self._lease_lost.is_set()
                    or self.memory.tasks.cancel_requested(msg.task_id))

        if cancelled():
            return self._failed(msg, "cancelled", "task cancelled")
        deadline = time.time() + self.reserve_wait_s
        while msg.objects and not self.memory.reservations.acquire(msg.objects, self.name, self.settings.lease_ms):
            if time.time() > deadline or cancelled():
                holders = {o: self.memory.reservations.owner(o) for o in msg.objects}
                busy = ", ".join(f"{o} (held by {h})" for o, h in holders.items() if h and h != self.name)
                return self._failed(msg, "blocked",
                                    f"could not reserve {busy or 'its objects'} within {self.reserve_wait_s:.0f} s")
            self.stop_event.wait(0.2)
        with self._lock:
            self._held = list(msg.objects)
        log.info("%s: starting %s: %s", self.name, msg.key, msg.description)
        result = self.executor.run(msg, cancelled=cancelled, progress=self.memory.dispatcher, resumed=resumed)
        log.info("%s: %s %s", self.name, msg.key, "done" if result.success else f"failed: {result.error}")
        return result
