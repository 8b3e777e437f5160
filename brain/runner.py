"""The brain's task runner: takes submitted tasks from the shared queue and runs their graphs.

Any number of brain replicas may run side by side: the queue is a Redis stream with a consumer
group, a replica holds a task until it finishes it, and a replica that restarts resumes its own
unfinished tasks from their last checkpoint (finished subtasks are not redone).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.types import Command

from robocortex.memory.approvals import ApprovalStore
from robocortex.memory.checkpoint import RedisCheckpointSaver
from robocortex.memory.schemas import ApprovalDecision, RobotStatus, SubtaskStatus, TaskEvent, TaskRecord, TaskStatus
from robocortex.memory.tasks import InvalidTransition, TaskNotFound

from robocortex.memory.stores import Memory

from robocortex.brain.graph import BrainConfig, BrainDeps, TaskState, compile_graph, initial_state
from robocortex.brain.planner import Planner

log = logging.getLogger("robocortex.runner")


@functools.cache
def process_graph():
    """The brain's graph, compiled once per process (without a checkpointer): every TaskRunner
    takes a copy bound to its own checkpointer (`Pregel.copy`, tens of microseconds, where compiling
    takes milliseconds)."""
    return compile_graph()


@dataclass(frozen=True)
class RunnerConfig:
    """How a brain replica runs tasks (built from agents' Settings by Settings.runner_config())."""

    brain_id: str
    workers: int = 1
    retention_s: float = 7 * 24 * 3600.0
    # Finished tasks kept at most (records, events, results; the oldest go first); None = no cap.
    max_finished_tasks: int | None = 10_000
    trim_every_s: float = 60.0  # how often housekeeping trims finished tasks (by retention_s and the cap)
    brain: BrainConfig = field(default_factory=BrainConfig)
    # When each step's checkpoint is stored (LangGraph's durability). "sync", the default and the only
    # choice for a service: before the next step acts, so a brain killed at any point resumes without
    # losing a finished step. "exit" stores only the last one: for runs that are never resumed (the
    # evaluation harness, where a crashed run is a failed run), it saves a Redis write per step.
    durability: Literal["sync", "exit"] = "sync"


class TaskRunner:
    def __init__(self, memory: Memory, config: RunnerConfig, planner: Planner):
        self.memory = memory
        self.config = config
        self.deps = BrainDeps(
            scene=memory.scene, tasks=memory.tasks, robots=memory.robots, dispatcher=memory.dispatcher,
            planner=planner, config=config.brain,
        )
        self.checkpointer = RedisCheckpointSaver(memory.r, memory.keys)
        self.graph = process_graph().copy(update={"checkpointer": self.checkpointer})
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._active: dict[str, str] = {}  # queue entry id -> task id
        self.approvals = ApprovalStore(memory.r, memory.keys)
        # queue entry id -> (task id, round): tasks whose plan waits for an operator. Their entries stay
        # ours (leased by housekeeping, which resumes them when a decision or a cancel comes).
        self._parked: dict[str, tuple[str, int]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        for i in range(self.config.workers):
            t = threading.Thread(target=self._work, name=f"brain-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._housekeeping, name="brain-housekeeping", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop taking work and wait up to `timeout_s` in all (not per thread) for the threads to finish;
        a task still running then stays queued and unacked, and a brain resumes it from its checkpoint."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------------ work

    def _work(self) -> None:
        consumer = self.config.brain_id
        while not self._stop.is_set():
            try:
                taken = self.memory.tasks.take(consumer, block_ms=1000)
            except Exception:  # Redis hiccup: keep the worker alive
                log.exception("taking a task failed")
                self._stop.wait(1.0)
                continue
            if taken is None:
                continue
            self._adopt(*taken)

    def _run_and_ack(self, entry_id: str, task_id: str) -> None:
        """Run a task to its end and drop it from the queue; a bug fails only that task."""
        try:
            record = self.memory.tasks.get(task_id)
            wait = record.options.not_before - time.time() if record and record.options.not_before else 0.0
            if record is not None and record.status == TaskStatus.pending and wait > 1.0 and not self._late(record):
                self.memory.tasks.defer(entry_id, task_id, record.options.not_before or 0.0)  # queued again then
                return
            waiting = self.run_task(task_id)
            if waiting is not None:
                with self._lock:
                    self._parked[entry_id] = (task_id, waiting)
                return
        except Exception as exc:
            log.exception("task %s crashed its graph", task_id)
            try:
                self.memory.tasks.transition(task_id, TaskStatus.failed, f"brain error: {type(exc).__name__}: {exc}")
            except Exception:  # Redis is gone too: leave the entry queued, a restarted brain resumes it
                log.exception("could not mark task %s failed; it stays queued", task_id)
                return
        self.memory.tasks.done(entry_id)
        record = self.memory.tasks.get(task_id)
        if record is None or record.status.terminal:  # an interrupted task's thread goes on when it resumes
            self.approvals.clear(task_id)
            self.checkpointer.prune([task_id])  # the finished thread keeps only its last checkpoint,
            self.checkpointer.expire([task_id], self.config.retention_s)  # for as long as its events and results
            self.resume_preempted()

    def run_task(self, task_id: str) -> int | None:
        """Run (or resume) the task's graph until it ends or stops for an operator: None, or the round
        of the plan that waits for approval."""
        record = self.memory.tasks.get(task_id)
        if record is None or record.status.terminal:
            return None
        if record.status == TaskStatus.pending:
            record = self._until_start(record)
            if record is None:
                return None
            self._preempt(record)
        config = {"configurable": {"thread_id": task_id}, "recursion_limit": 100_000}
        snapshot = self.graph.get_state(config)
        values = dict(snapshot.values or {})
        resume = bool(values and snapshot.next)
        waiting = _waiting_round(snapshot)
        start: object
        if waiting is not None:  # the plan waits for an operator: go on only with a decision
            decision = self._decision(task_id, waiting)
            if decision is None:
                return waiting
            log.info("task %s: resuming with the operator's decision (%s by %s)", task_id, decision.decision, decision.by)
            start = Command(resume=decision.model_dump(mode="json"))
        elif values and record.status == TaskStatus.planning and (
                not snapshot.next or values.get("status") == TaskStatus.interrupted.value):
            log.info("task %s: resumed after an interrupt; replanning from the scene as it is", task_id)
            start = resumed_state(record, values)
        elif resume:
            log.info("task %s: resuming from checkpoint at %s", task_id, snapshot.next)
            start = None
        else:
            start = initial_state(task_id, record.instruction)
        # "sync" (a service's): each step's checkpoint is stored before the next step acts (dispatches,
        # replans), so a brain killed at any point resumes from a state that includes every step it finished.
        self.graph.invoke(start, config, context=self.deps, durability=self.config.durability)
        return _waiting_round(self.graph.get_state(config))

    def _decision(self, task_id: str, round_: int) -> ApprovalDecision | None:
        """The operator's decision on the waiting round, or a cancel when one was requested meanwhile."""
        decision = self.approvals.get(task_id)
        if decision is not None and decision.round == round_:
            return decision
        record = self.memory.tasks.get(task_id)
        if record is None or record.status.terminal or self.memory.tasks.cancel_requested(task_id):
            return ApprovalDecision(round=round_, decision="cancel", by="cancel request")  # cancelled or killed
        return None

    def _late(self, record: TaskRecord) -> bool:
        """Whether the task can no longer start in time; if so it is failed with the reason."""
        opts, now = record.options, time.time()
        if opts.deadline is None:
            return False
        if opts.not_before is not None and opts.not_before > opts.deadline:
            why = "cannot start by its deadline: its earliest start (not_before) is after it"
        elif now > opts.deadline:
            why = f"could not start by its deadline (passed {now - opts.deadline:.1f} s ago)"
        else:
            return False
        try:
            self.memory.tasks.transition(record.id, TaskStatus.failed, why)
        except (InvalidTransition, TaskNotFound):
            pass
        return True

    def _until_start(self, record: TaskRecord) -> TaskRecord | None:
        """Wait for the task's earliest start (`not_before`), watching for a cancel; fail it when it
        cannot start by its deadline. The record to run, or None when it is not to be run."""
        tasks, task_id = self.memory.tasks, record.id
        while True:
            if tasks.cancel_requested(task_id) and record.status == TaskStatus.pending:
                try:
                    tasks.transition(task_id, TaskStatus.cancelled, "cancelled before it started")
                except (InvalidTransition, TaskNotFound):
                    pass
                return None
            now, opts = time.time(), record.options
            if self._late(record):
                return None
            if opts.not_before is None or now >= opts.not_before or self._stop.is_set():
                return record
            self._stop.wait(min(0.2, opts.not_before - now))
            fresh = tasks.get(task_id)
            if fresh is None or fresh.status.terminal:
                return None
            record = fresh

    # ------------------------------------------------------------------ priorities

    def _preempt(self, record: TaskRecord) -> None:
        """Interrupt lower-priority tasks holding robots this task needs — its team's, or, with no team,
        any when every online robot is held — and wait (bounded) for their robots to finish their step.
        They resume when this task ends (`resume_preempted`)."""
        prio = record.options.priority
        if prio <= 0:
            return
        tasks = self.memory.tasks
        online = {r.profile.name for r in self.memory.robots.list() if r.status != RobotStatus.offline}
        holders: dict[str, TaskRecord] = {}
        for other in tasks.list(status=TaskStatus.running, limit=1000) + tasks.list(status=TaskStatus.planning,
                                                                                     limit=1000):
            if other.id != record.id:
                for s in other.subtasks:
                    if s.status in (SubtaskStatus.waiting, SubtaskStatus.dispatched):
                        holders.setdefault(s.robot, other)
        if record.options.robots:
            needed = set(record.options.robots)
        else:
            needed = online if online and online <= set(holders) else set()
        victims = {holders[r].id: holders[r] for r in sorted(needed) if r in holders
                   and holders[r].options.priority < prio}
        for victim in victims.values():
            robots = sorted(r for r in needed if holders.get(r) is victim)
            try:
                tasks.interrupt(victim.id, actor=f"task:{record.id}", preempted_by=record.id)
            except (InvalidTransition, TaskNotFound):
                continue
            tasks.emit(TaskEvent(kind="preempt", task_id=record.id, actor="brain",
                                 message=f"interrupting task {victim.id} (priority {victim.options.priority}) "
                                         f"for its robots {', '.join(robots)}",
                                 data={"task": victim.id, "robots": robots}))
            log.info("task %s (priority %d) interrupts task %s (priority %d)", record.id, prio, victim.id,
                     victim.options.priority)
        deadline = time.time() + self.deps.config.wait_for_robots_s
        while victims and time.time() < deadline and not tasks.cancel_requested(record.id):
            states = [tasks.get(v) for v in victims]
            if all(s is None or s.status not in (TaskStatus.planning, TaskStatus.running) for s in states):
                return
            self._stop.wait(0.1)

    def resume_preempted(self) -> None:
        """Resume every task interrupted by a higher-priority one that has ended since."""
        tasks = self.memory.tasks
        for record in tasks.list(status=TaskStatus.interrupted, limit=1000):
            if record.preempted_by is None:
                continue
            by = tasks.get(record.preempted_by)
            if by is None or by.status.terminal:
                try:
                    tasks.resume(record.id, actor="brain")
                    log.info("task %s resumes: task %s, which preempted it, has ended", record.id, record.preempted_by)
                except (InvalidTransition, TaskNotFound):
                    pass

    def _housekeeping(self) -> None:
        """Reclaim subtasks of dead robots, and tasks of dead brain replicas; keep our own leases."""
        consumer = self.config.brain_id
        last_trim = last_resume = 0.0
        while not self._stop.wait(2.0):
            try:
                self.memory.tasks.release_due()
                if time.time() - last_resume > 10:
                    last_resume = time.time()
                    self.resume_preempted()
                if time.time() - last_trim > self.config.trim_every_s:
                    last_trim = time.time()
                    removed = self.memory.tasks.trim(self.config.retention_s, self.config.max_finished_tasks)
                    if removed:
                        log.info("trimmed %d finished task(s)", len(removed))
                names = [r.profile.name for r in self.memory.robots.list()]
                for msg in self.memory.dispatcher.reap(names):
                    log.warning("reclaimed %s from %s (robot lost)", msg.key, msg.robot)
                with self._lock:
                    active = list(self._active)
                    parked = list(self._parked.items())
                for entry_id in active:
                    self.memory.tasks.touch(consumer, entry_id)
                for entry_id, (task_id, round_) in parked:  # waiting for an operator: keep, or resume
                    self.memory.tasks.touch(consumer, entry_id)
                    if self._decision(task_id, round_) is not None:
                        with self._lock:
                            self._parked.pop(entry_id, None)
                        threading.Thread(target=self._adopt, args=(entry_id, task_id), daemon=True).start()
                for entry_id, task_id in self.memory.tasks.claim_abandoned(consumer, min_idle_ms=60_000):
                    log.warning("taking over task %s from a silent brain replica", task_id)
                    threading.Thread(target=self._adopt, args=(entry_id, task_id), daemon=True).start()
            except Exception:
                log.exception("housekeeping failed")

    def _adopt(self, entry_id: str, task_id: str) -> None:
        """Run a queue entry while keeping its lease fresh (housekeeping touches active entries)."""
        with self._lock:
            self._active[entry_id] = task_id
        try:
            self._run_and_ack(entry_id, task_id)
        finally:
            with self._lock:
                self._active.pop(entry_id, None)


def resumed_state(record: TaskRecord, values: dict[str, Any]) -> TaskState:
    """The state a task resumed after an interrupt starts from: planned afresh from the scene as it is,
    keeping its history (earlier subtasks, failures, metrics, replans) and what it already read."""
    done = [f"{s['id']} ({s['robot']}: {s['description']}) succeeded" for s in (values.get("subtasks") or {}).values()
            if s.get("status") == SubtaskStatus.succeeded.value]
    state = initial_state(record.id, record.instruction)
    state.update(subtasks=dict(values.get("subtasks") or {}), replans=int(values.get("replans") or 0),
                 metrics=dict(values.get("metrics") or {}), failures=list(values.get("failures") or []),
                 cursor=str(values.get("cursor") or "0"), plan=None, problems=[], interrupting=False,
                 status=TaskStatus.planning.value, started_at=0.0,
                 feedback=["the task was interrupted and is resumed; the scene may have changed", *done])
    return state


def _waiting_round(snapshot) -> int | None:
    """The approval round a task's graph is interrupted at (the `approve` node's PendingApproval), or None."""
    for item in getattr(snapshot, "interrupts", ()) or ():
        value = getattr(item, "value", None)
        if isinstance(value, dict) and isinstance(value.get("round"), int):
            return value["round"]
    return None
