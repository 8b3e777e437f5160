"""The multi-robot planning metrics, as pure functions of a run's trace (docs/evaluation.md).

Definitions follow the literature where it is specific enough to compute here. "Skill calls" are
the plan's high-level actions (navigate_to, pick_up, put…); "world actions" the simulator actions
they turn into (MoveAhead, PickupObject…):
- success (SR): every ground-truth goal holds in the world AND the team reported success;
- task completion (TC, SMART-LLM): every ground-truth goal holds in the world's final state;
- goal-condition recall (GCR, SMART-LLM): fraction of ground-truth goals that hold;
- executability (Exe, SMART-LLM): skill calls that executed / skill calls attempted (retries count);
- balance (LLaMAR): min / max successful skill calls over the team's robots;
- utilisation: the team's world actions / (robots x makespan in world actions): parallel efficiency
  (SMART-LLM's robot utilisation needs reference plans, which suites do not have);
- makespan: wall seconds from submission to the end, and actions on the critical path
  (each action one step; a robot does one thing at a time; a replan starts after the round before);
- replans (RoCo, COHERENT), model calls and tokens.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from statistics import fmean
from typing import Iterable

from pydantic import BaseModel, Field

from robocortex.memory.schemas import SubtaskState, TaskEvent

from robocortex.evaluation.trace import RunTrace


class RobotTally(BaseModel):
    actions: int = 0  # world actions attempted
    failed: int = 0  # world actions that failed
    subtasks: int = 0
    skill_calls: int = 0  # high-level actions attempted (every retry counts)
    skills_done: int = 0  # high-level actions that executed


class RunMetrics(BaseModel):
    run_id: str
    task_id: str
    category: str
    phrasing: str = ""
    room: str
    robots: int
    status: str
    success: bool
    task_completion: bool
    goal_condition_recall: float
    executability: float | None
    utilisation: float | None
    balance: float | None
    makespan_s: float
    makespan_actions: int
    actions: int
    failed_actions: int
    replans: int
    model_calls: int
    tokens: int
    per_robot: dict[str, RobotTally]
    reason: str | None = None


def robot_tallies(trace: RunTrace) -> dict[str, RobotTally]:
    """World actions (attempted, failed), skill calls (attempted, executed) and subtasks dispatched,
    per robot of the team. The executor announces each skill attempt as a `thought` naming the skill
    and its arguments, and each executed one as an `observation` naming the skill."""
    tallies = {r.name: RobotTally() for r in trace.robots}
    for e in trace.events:
        tally = tallies.get(e.robot or "")
        if tally is None:
            continue
        if e.kind == "action":
            tally.actions += 1
            tally.failed += not e.data.get("success")
        elif e.kind == "dispatch":
            tally.subtasks += 1
        elif e.kind == "thought" and "skill" in e.data and "args" in e.data:
            tally.skill_calls += 1
        elif e.kind == "observation" and "skill" in e.data:
            tally.skills_done += 1
    return tallies


def critical_path_actions(events: list[TaskEvent], subtasks: list[SubtaskState]) -> int:
    """Makespan in actions: per planning round, the longest chain of subtasks (dependencies, and
    one robot's subtasks in turn) weighted by their actions; rounds follow one another."""
    depends = {s.id: s.depends_on for s in subtasks}
    actions = Counter(e.subtask_id for e in events if e.kind == "action" and e.subtask_id)
    round_of: dict[str, int] = {}
    finish: dict[str, int] = {}
    last_of_robot: dict[tuple[int, str], str] = {}
    longest: dict[int, int] = defaultdict(int)
    current = 0
    for e in events:  # dispatch order is a topological order: a subtask goes out after its dependencies
        if e.kind == "replan":
            current += 1
        if e.kind != "dispatch" or not e.subtask_id or e.subtask_id in round_of:
            continue
        sid, robot = e.subtask_id, e.robot or ""
        round_of[sid] = current
        before = [finish[d] for d in depends.get(sid, []) if d in finish and round_of[d] == current]
        if (current, robot) in last_of_robot:
            before.append(finish[last_of_robot[(current, robot)]])
        finish[sid] = max(before, default=0) + actions[sid]
        last_of_robot[(current, robot)] = sid
        longest[current] = max(longest[current], finish[sid])
    return sum(longest.values())


def run_metrics(trace: RunTrace) -> RunMetrics:
    tallies = robot_tallies(trace)
    attempted = sum(t.actions for t in tallies.values())
    failed = sum(t.failed for t in tallies.values())
    met = sum(g.met for g in trace.goals)
    completion = bool(trace.goals) and met == len(trace.goals)
    makespan = critical_path_actions(trace.events, trace.subtasks)
    calls = sum(t.skill_calls for t in tallies.values())
    done = [t.skills_done for t in tallies.values()]
    return RunMetrics(
        run_id=trace.run_id, task_id=trace.task_id, category=trace.category, phrasing=trace.phrasing,
        room=trace.room,
        robots=len(trace.robots), status=trace.status, reason=trace.reason,
        success=completion and trace.status == "succeeded",
        task_completion=completion,
        goal_condition_recall=met / len(trace.goals) if trace.goals else 0.0,
        executability=sum(done) / calls if calls else None,
        utilisation=attempted / (len(tallies) * makespan) if makespan and tallies else None,
        balance=min(done) / max(done) if done and max(done) else None,
        makespan_s=trace.finished_at - trace.started_at, makespan_actions=makespan,
        actions=attempted, failed_actions=failed, replans=trace.replans,
        model_calls=trace.model_calls, tokens=trace.tokens, per_robot=tallies,
    )


# --------------------------------------------------------------------------- aggregates


class Aggregate(BaseModel):
    """Means over runs. Executability, utilisation and balance average the runs where they are
    defined (some action was taken); makespans average the successful runs only."""

    runs: int
    success_rate: float
    task_completion: float
    goal_condition_recall: float
    executability: float | None
    utilisation: float | None
    balance: float | None
    makespan_s: float | None
    makespan_actions: float | None
    replans: float
    model_calls: float
    tokens: float


def _mean(values: Iterable[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return fmean(present) if present else None


def aggregate(runs: list[RunMetrics]) -> Aggregate:
    if not runs:
        raise ValueError("no runs to aggregate")
    won = [r for r in runs if r.success]
    return Aggregate(
        runs=len(runs),
        success_rate=fmean(r.success for r in runs),
        task_completion=fmean(r.task_completion for r in runs),
        goal_condition_recall=fmean(r.goal_condition_recall for r in runs),
        executability=_mean(r.executability for r in runs),
        utilisation=_mean(r.utilisation for r in runs),
        balance=_mean(r.balance for r in runs),
        makespan_s=_mean(r.makespan_s for r in won),
        makespan_actions=_mean(r.makespan_actions for r in won),
        replans=fmean(r.replans for r in runs),
        model_calls=fmean(r.model_calls for r in runs),
        tokens=fmean(r.tokens for r in runs),
    )


def grouped(runs: list[RunMetrics], key: str) -> dict[str, Aggregate]:
    groups: dict[str, list[RunMetrics]] = defaultdict(list)
    for r in runs:
        groups[str(getattr(r, key))].append(r)
    return {k: aggregate(v) for k, v in sorted(groups.items())}


class SuiteSummary(BaseModel):
    suite: str
    planner: str
    backend: str
    workers: int
    wall_s: float
    runs_per_minute: float
    overall: Aggregate
    by_category: dict[str, Aggregate]
    by_room: dict[str, Aggregate]
    by_team_size: dict[str, Aggregate]
    by_phrasing: dict[str, Aggregate] = Field(default_factory=dict, description="tasks with a phrasing class")
    runs: list[RunMetrics]


def summarize(runs: list[RunMetrics], *, suite: str, planner: str, backend: str, workers: int,
              wall_s: float) -> SuiteSummary:
    return SuiteSummary(
        suite=suite, planner=planner, backend=backend, workers=workers, wall_s=wall_s,
        runs_per_minute=len(runs) / (wall_s / 60) if wall_s > 0 else 0.0,
        overall=aggregate(runs), by_category=grouped(runs, "category"), by_room=grouped(runs, "room"),
        by_team_size=grouped(runs, "robots"), by_phrasing=grouped([r for r in runs if r.phrasing], "phrasing"),
        runs=runs,
    )
