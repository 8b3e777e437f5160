"""Throughput and quality of the evaluation harness: the built-in suite with the offline planner.

    python -m benchmarks.bench_eval                    # embedded redis-server, one world per core
    python -m benchmarks.bench_eval --repeat 3 --workers 2
    python -m benchmarks.bench_eval --profile          # the runs one by one in this process, by room

Goals: at least 200 runs per minute on a 2-core machine with 2 workers (emulator; issue 13), and
the offline planner succeeding on at least 80% of the built-in suite. The same figures, with every run's detail,
come from `robocortex eval builtin --planner offline`.
"""

from __future__ import annotations

import argparse

from robocortex.evaluation.batch import run_suite
from robocortex.evaluation.metrics import run_metrics, summarize
from robocortex.evaluation.suite import load_suite
from robocortex.agents.settings import Settings

RUNS_PER_MINUTE_GOAL = 200.0
SUCCESS_RATE_GOAL = 0.80


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="builtin")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--profile", action="store_true",
                        help="run the suite one run at a time in this process and print where the time goes, by room")
    args = parser.parse_args()
    settings = Settings(planner="offline")
    suite = load_suite(args.suite, profiles=settings.profiles, thor_data=settings.thor_data)
    if args.profile:
        profile(suite, settings, args.repeat)
        return
    traces, wall_s, workers = run_suite(suite, settings, repeat=args.repeat, workers=args.workers)
    s = summarize([run_metrics(t) for t in traces], suite=suite.name, planner="offline",
                  backend=traces[0].backend, workers=workers, wall_s=wall_s)
    a = s.overall
    print(f"suite {s.suite}: {a.runs} runs on {workers} worker(s), {s.backend}, in {wall_s:.1f} s")
    print(f"  runs per minute      {s.runs_per_minute:7.1f}   goal >= {RUNS_PER_MINUTE_GOAL:.0f}   "
          f"ratio {s.runs_per_minute / RUNS_PER_MINUTE_GOAL:.2f}")
    print(f"  success rate         {a.success_rate:7.1%}   goal >= {SUCCESS_RATE_GOAL:.0%}  "
          f"ratio {a.success_rate / SUCCESS_RATE_GOAL:.2f}")
    for label, value in [("task completion", a.task_completion), ("goal-condition recall", a.goal_condition_recall),
                         ("executability", a.executability), ("utilisation", a.utilisation)]:
        print(f"  {label:<21}{'—' if value is None else f'{value:7.1%}'}")
    print(f"  balance              {a.balance or 0:7.2f}")
    print(f"  makespan (successes) {a.makespan_s or 0:7.2f} s, {a.makespan_actions or 0:.1f} world actions")
    print(f"  replans per run      {a.replans:7.2f}")
    print(f"  model calls, tokens  {a.model_calls:7.2f}, {a.tokens:.0f} per run")
    print("  (executability and balance count skill calls; utilisation and makespan world actions: docs/evaluation.md)")


def profile(suite, settings: Settings, repeat: int) -> None:
    """The suite's runs one after the other in this process under the room profiler."""
    import time

    from benchmarks.profile_rooms import RoomProfile
    from robocortex.evaluation.batch import requests_for, run_one
    from robocortex.memory.connection import EmbeddedRedis

    redis = EmbeddedRedis() if not settings.redis_url else None
    settings = settings.model_copy(update={"redis_url": redis.url}) if redis else settings
    requests = requests_for(suite, repeat)
    started = time.perf_counter()
    try:
        with RoomProfile() as rooms:
            ok = sum(run_metrics(run_one(r, settings)).success for r in requests)
    finally:
        if redis is not None:
            redis.close()
    wall = time.perf_counter() - started
    print(f"suite {suite.name}: {len(requests)} runs one at a time in one process, {ok} succeeded, "
          f"{wall:.1f} s ({len(requests) / wall * 60:.1f} runs per minute)")
    print(rooms.table())


if __name__ == "__main__":
    main()
