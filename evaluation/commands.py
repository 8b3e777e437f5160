"""What `robocortex run` and `robocortex eval` do once their input is known to be good."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from robocortex.sim.scenes import load_scene

from robocortex.evaluation.batch import run_suite
from robocortex.evaluation.harness import RunRequest, run_task, team
from robocortex.evaluation.metrics import run_metrics, summarize
from robocortex.evaluation.plot import draw_summary
from robocortex.evaluation.report import run_report, suite_report, write_json
from robocortex.evaluation.scenes import layouts_dir
from robocortex.evaluation.suite import Suite
from robocortex.evaluation.topdown import draw_map
from robocortex.evaluation.trace import RunTrace
from robocortex.agents.follow import print_event
from robocortex.agents.settings import Settings


def check_run_input(scene: str, profiles: list[str], settings: Settings) -> None:
    """ValueError with one readable line for anything that would stop the run before it starts."""
    if not profiles:
        raise ValueError("--robots needs at least one robot profile, e.g. mobile_manipulator,mobile_base")
    team(profiles, settings.profiles)
    capacity = len(load_scene(scene, layouts_dir(settings.thor_data)).agent_starts)
    if len(profiles) > capacity:
        raise ValueError(f"{len(profiles)} robots, but scene {scene} has start positions for {capacity}")
    check_planner(settings)


def check_planner(settings: Settings) -> None:
    if settings.planner == "llm" and not settings.llm.base_url:
        raise ValueError("--planner llm needs ROBOCORTEX_LLM__BASE_URL (an OpenAI-compatible endpoint)")


def stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def simulate(console: Console, request: RunRequest, settings: Settings, out: Path, verbose: bool) -> bool:
    """One run with live progress, then the report; writes trace.json and map.png. True on success."""
    console.print(f"[bold]RoboCortex run[/] — scene {request.scene}, robots {', '.join(request.robots)}, "
                  f"planner {settings.planner_kind()}, Redis {settings.redis_url or 'embedded'}")
    trace = run_task(request, settings,
                     on_event=lambda e: print_event(console, e.kind, e.model_dump(mode="json"), verbose))
    metrics = run_metrics(trace)
    run_report(console, trace, metrics)
    console.print(f"trace: {write_json(out / 'trace.json', trace)}  ·  map: {draw_map(trace, out / 'map.png')}")
    return metrics.success


def evaluate(console: Console, suite: Suite, settings: Settings, out: Path, *, repeat: int,
             workers: int | None, maps: bool) -> None:
    """Run every task `repeat` times in parallel worlds; print the tables; write JSON and the plot."""
    total = len(suite.tasks) * repeat
    console.print(f"[bold]RoboCortex eval[/] — suite {suite.name}: {len(suite.tasks)} task(s) × {repeat}, "
                  f"planner {settings.planner_kind()}, Redis {settings.redis_url or 'embedded'}")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        bar = progress.add_task("running", total=total)

        def finished(trace: RunTrace) -> None:
            m = run_metrics(trace)
            mark = "[green]✓[/]" if m.success else "[red]✗[/]"
            progress.console.print(f"{mark} {trace.run_id:<28} {m.goal_condition_recall:>4.0%} goals  "
                                   f"{m.makespan_s:5.1f} s  {trace.status}", highlight=False)
            progress.advance(bar)

        traces, wall_s, used = run_suite(suite, settings, repeat=repeat, workers=workers, on_trace=finished)
    summary = summarize([run_metrics(t) for t in traces], suite=suite.name, planner=settings.planner_kind(),
                        backend=next((t.backend for t in traces if t.backend), "unknown"), workers=used,
                        wall_s=wall_s)
    for trace in traces:
        write_json(out / "traces" / f"{trace.run_id}.json", trace)
        if maps and trace.scene_map is not None:
            draw_map(trace, out / "maps" / f"{trace.run_id}.png")
    suite_report(console, summary)
    console.print(f"results: {write_json(out / 'results.json', summary)}  ·  "
                  f"plot: {draw_summary(summary, out / 'metrics.png')}  ·  traces: {out / 'traces'}")
