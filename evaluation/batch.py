"""Runs a suite: one OS process per world, as many at once as the machine has cores.

Each run already has its own world, robots, brain and key prefix (see harness.py); processes add
CPU parallelism (a world and its robots are Python, bound by the GIL) and keep one run's crash or
leak away from the others. All processes share one Redis: the one configured, or an embedded
server this process starts for the evaluation.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from robocortex.memory.connection import EmbeddedRedis

from robocortex.evaluation.harness import RunRequest, run_task
from robocortex.evaluation.suite import Suite
from robocortex.evaluation.trace import GoalOutcome, RobotInfo, RunTrace
from robocortex.agents.settings import Settings


def requests_for(suite: Suite, repeat: int = 1) -> list[RunRequest]:
    return [RunRequest(instruction=t.instruction, scene=t.scene, robots=t.robots, goals=t.goals, task_id=t.id,
                       category=t.category, phrasing=t.phrasing or "", room=t.room, timeout_s=suite.timeout_for(t),
                       initial_state=t.initial_steps(), run_id=f"{t.id}.{k + 1}")
            for k in range(repeat) for t in suite.tasks]


def failed_trace(request: RunRequest, planner: str, error: str) -> RunTrace:
    """The trace of a run that broke before it could finish: it counts, as a failure."""
    now = time.time()
    return RunTrace(
        run_id=request.run_id, task_id=request.task_id, scene=request.scene, room=request.room,
        category=request.category, phrasing=request.phrasing, instruction=request.instruction, planner=planner,
        initial_state=request.initial_state, backend="",
        robots=[RobotInfo(name=f"robot{i + 1}", profile=p, agent_id=i) for i, p in enumerate(request.robots)],
        goals_from="suite", goals=[GoalOutcome(goal=g.describe(), met=False) for g in request.goals or []],
        status="error", reason=error, started_at=now, finished_at=now,
    )


def run_one(request: RunRequest, settings: Settings) -> RunTrace:
    """One run in a worker process; a crash becomes a failed trace instead of ending the suite."""
    try:
        return run_task(request, settings)
    except Exception as exc:
        logging.getLogger("robocortex.evaluation").exception("run %s crashed", request.run_id)
        return failed_trace(request, settings.planner_kind(), f"harness error: {exc}")


def _quiet() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(processName)s %(name)s %(levelname)s %(message)s")


def default_workers(jobs: int) -> int:
    return max(1, min(os.cpu_count() or 1, jobs))


def run_suite(suite: Suite, settings: Settings, *, repeat: int = 1, workers: int | None = None,
              on_trace: Callable[[RunTrace], None] | None = None) -> tuple[list[RunTrace], float, int]:
    """(traces in suite order, wall seconds, workers used)."""
    requests = requests_for(suite, repeat)
    workers = workers or default_workers(len(requests))
    redis = EmbeddedRedis() if not settings.redis_url else None
    if redis is not None:
        settings = settings.model_copy(update={"redis_url": redis.url})
    started = time.time()
    traces: dict[str, RunTrace] = {}
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_quiet) as pool:
            futures: dict[Future[RunTrace], RunRequest] = {pool.submit(run_one, r, settings): r for r in requests}
            for future in as_completed(futures):
                request = futures[future]
                try:
                    trace = future.result()
                except Exception as exc:  # the worker process itself died
                    trace = failed_trace(request, settings.planner_kind(), f"worker process lost: {exc!r}")
                traces[request.run_id] = trace
                if on_trace is not None:
                    on_trace(trace)
    finally:
        if redis is not None:
            redis.close()
    return [traces[r.run_id] for r in requests], time.time() - started, workers
