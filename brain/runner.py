"""The brain's task runner: takes submitted tasks from the shared queue and runs their graphs.

Any number of brain replicas may run side by side: the queue is a Redis stream with a consumer
group, a replica holds a task until it finishes it, and a replica that restarts resumes its own
unfinished tasks from their last checkpoint (finished subtasks are not redone).
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Literal

from robocortex.memory.checkpoint import RedisCheckpointSaver
from robocortex.memory.schemas import TaskStatus

from robocortex.memory.stores import Memory

from robocortex.brain.graph import BrainConfig, BrainDeps, compile_graph, initial_state
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
        self._stop.set()
        for t in self._threads:
            t.join(timeout_s)

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
            self.run_task(task_id)
        except Exception as exc:
            log.exception("task %s crashed its graph", task_id)
            try:
                self.memory.tasks.transition(task_id, TaskStatus.failed, f"brain error: {type(exc).__name__}: {exc}")
            except Exception:  # Redis is gone too: leave the entry queued, a restarted brain resumes it
                log.exception("could not mark task %s failed; it stays queued", task_id)
                return
        self.memory.tasks.done(entry_id)
        self.checkpointer.prune([task_id])  # the finished thread keeps only its last checkpoint,
        self.checkpointer.expire([task_id], self.config.retention_s)  # for as long as its events and results

    def run_task(self, task_id: str) -> None:
        record = self.memory.tasks.get(task_id)
        if record is None or record.status.terminal:
            return
        if record.status == TaskStatus.pending and self.memory.tasks.cancel_requested(task_id):
            self.memory.tasks.transition(task_id, TaskStatus.cancelled, "cancelled before it started")
            return
        config = {"configurable": {"thread_id": task_id}, "recursion_limit": 100_000}
        snapshot = self.graph.get_state(config)
        resume = bool(snapshot.values and snapshot.next)
        if resume:
            log.info("task %s: resuming from checkpoint at %s", task_id, snapshot.next)
        # "sync" (a service's): each step's checkpoint is stored before the next step acts (dispatches,
        # replans), so a brain killed at any point resumes from a state that includes every step it finished.
        self.graph.invoke(None if resume else initial_state(task_id, record.instruction), config,
                          context=self.deps, durability=self.config.durability)

    def _housekeeping(self) -> None:
        """Reclaim subtasks of dead robots, and tasks of dead brain replicas; keep our own leases."""
        consumer = self.config.brain_id
        while not self._stop.wait(2.0):
            try:
                names = [r.profile.name for r in self.memory.robots.list()]
                for msg in self.memory.dispatcher.reap(names):
                    log.warning("reclaimed %s from %s (robot lost)", msg.key, msg.robot)
                with self._lock:
                    active = list(self._active)
                for entry_id in active:
                    self.memory.tasks.touch(consumer, entry_id)
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
