"""Reports on the terminal (rich tables) and on disk (JSON)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from robocortex.evaluation.metrics import Aggregate, RunMetrics, SuiteSummary
from robocortex.evaluation.suite import CATEGORIES, PHRASINGS
from robocortex.evaluation.trace import RunTrace


def write_json(path: Path, model: BaseModel) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model.model_dump_json(indent=1))
    return path


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def run_report(console: Console, trace: RunTrace, m: RunMetrics) -> None:
    """The end of `robocortex run`: goals in the world, work per robot, and the run's figures."""
    goals = Table(title=f"goals, checked in the world ({trace.goals_from}'s goals)", title_justify="left")
    goals.add_column("goal")
    goals.add_column("in the world")
    for g in trace.goals:
        goals.add_row(escape(g.goal), "[green]met[/]" if g.met else "[red]not met[/]")
    console = _wide(console)
    console.print(goals)
    robots = Table(title="robots", title_justify="left")
    for column in ("robot", "profile", "subtasks", "skill calls", "executed", "actions", "failed"):
        robots.add_column(column, justify="left" if column in ("robot", "profile") else "right")
    for r in trace.robots:
        tally = m.per_robot[r.name]
        robots.add_row(r.name, r.profile, str(tally.subtasks), str(tally.skill_calls), str(tally.skills_done),
                       str(tally.actions), str(tally.failed))
    console.print(robots)
    console.print(f"makespan {m.makespan_s:.1f} s, {m.makespan_actions} world actions on the critical path · "
                  f"executability {_pct(m.executability)} · utilisation {_pct(m.utilisation)} · "
                  f"balance {_num(m.balance, 2)} · replans {m.replans} · model calls {m.model_calls} · "
                  f"tokens {m.tokens}", highlight=False)
    verdict = "[bold green]success[/]" if m.success else f"[bold red]{'failed' if m.status != 'succeeded' else 'not met'}[/]"
    console.print(f"{verdict}: team reported {trace.status}"
                  + (f" ({escape(trace.reason)})" if trace.reason else "")
                  + f"; {sum(g.met for g in trace.goals)}/{len(trace.goals)} goals hold in the world")


def failures_table(summary: SuiteSummary) -> Table | None:
    """The runs that did not succeed and why (every run is in results.json and its trace)."""
    failed = [r for r in summary.runs if not r.success]
    if not failed:
        return None
    table = Table(title=f"{summary.suite}: {len(failed)} run(s) did not succeed", title_justify="left",
                  box=box.SIMPLE_HEAD)
    table.add_column("run", no_wrap=True, min_width=max(len(r.run_id) for r in failed))
    table.add_column("GCR", justify="right", min_width=4)
    table.add_column("why", max_width=90)
    for r in failed:
        why = r.reason or ("the team reported success; the world disagrees" if r.status == "succeeded" else r.status)
        table.add_row(r.run_id, _pct(r.goal_condition_recall), escape(why))
    return table


def _category_order(name: str) -> int:
    return CATEGORIES.index(name) if name in CATEGORIES else len(CATEGORIES)


def summary_table(summary: SuiteSummary) -> Table:
    table = Table(title=f"{summary.suite}: planner {summary.planner}, {summary.backend} "
                        "(makespans over successful runs)", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("group", "runs", "SR", "TC", "GCR", "Exe", "util", "bal", "mk s", "mk act", "repl", "calls",
                   "tokens"):
        table.add_column(column, justify="left" if column == "group" else "right", no_wrap=True)

    def row(label: str, a: Aggregate, style: str = "") -> None:
        table.add_row(label, str(a.runs), _pct(a.success_rate), _pct(a.task_completion),
                      _pct(a.goal_condition_recall), _pct(a.executability), _pct(a.utilisation),
                      _num(a.balance, 2), _num(a.makespan_s), _num(a.makespan_actions, 0), _num(a.replans, 2),
                      _num(a.model_calls, 1), _num(a.tokens, 0), style=style)

    for name in sorted(summary.by_category, key=_category_order):
        row(name, summary.by_category[name])
    table.add_section()
    for name, a in summary.by_room.items():
        row(name, a)
    table.add_section()
    for size, a in summary.by_team_size.items():
        row(f"{size} robot{'s' if size != '1' else ''}", a)
    table.add_section()
    row("all", summary.overall, style="bold")
    return table


def _phrasing_order(name: str) -> int:
    return PHRASINGS.index(name) if name in PHRASINGS else len(PHRASINGS)


def phrasing_table(summary: SuiteSummary) -> Table | None:
    """Success per phrasing class of the instruction (tasks that give one; docs/language.md)."""
    if not summary.by_phrasing:
        return None
    table = Table(title=f"{summary.suite}: success per phrasing class", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    for column in ("phrasing", "runs", "SR", "TC", "GCR", "replans"):
        table.add_column(column, justify="left" if column == "phrasing" else "right", no_wrap=True)
    for name in sorted(summary.by_phrasing, key=_phrasing_order):
        a = summary.by_phrasing[name]
        table.add_row(name, str(a.runs), _pct(a.success_rate), _pct(a.task_completion),
                      _pct(a.goal_condition_recall), _num(a.replans, 2))
    return table


def _wide(console: Console) -> Console:
    """Piped output gets room for the whole table instead of rich's 80-column default."""
    return console if console.is_terminal else Console(file=console.file, width=max(console.width, 120))


def suite_report(console: Console, summary: SuiteSummary) -> None:
    out = _wide(console)
    failures = failures_table(summary)
    out.print(failures if failures is not None else "every run succeeded")
    out.print(summary_table(summary))
    phrasing = phrasing_table(summary)
    if phrasing is not None:
        out.print(phrasing)
    console.print(f"{summary.overall.runs} runs in {summary.wall_s:.0f} s on {summary.workers} worker(s): "
                  f"{summary.runs_per_minute:.1f} runs per minute", highlight=False)
