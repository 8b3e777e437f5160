"""The metrics are pure functions of a trace: checked exactly on hand-made traces."""

from __future__ import annotations

import pytest

from robocortex.memory.schemas import SubtaskState, TaskEvent

from robocortex.evaluation.metrics import aggregate, critical_path_actions, robot_tallies, run_metrics, summarize
from robocortex.evaluation.trace import GoalOutcome, RobotInfo, RunTrace


def event(kind, robot=None, subtask=None, **data):
    return TaskEvent(kind=kind, task_id="t", robot=robot, subtask_id=subtask, data=data)


def actions(robot, subtask, n, failed=0, at=(0.0, 0.0)):
    return [event("action", robot, subtask, success=i >= failed, position={"x": at[0] + i, "y": 0.9, "z": at[1]})
            for i in range(n)]


def skills(robot, subtask, n, failed=0):
    """n skill calls as the executor reports them: a thought per attempt, an observation per success."""
    out = []
    for i in range(n):
        out.append(event("thought", robot, subtask, skill="navigate_to", args={"object": "Apple|1"}))
        out.append(event("observation", robot, subtask, skill="navigate_to") if i >= failed else
                   event("thought", robot, subtask, skill="navigate_to", attempt=1, failure_kind="blocked"))
    return out


def trace(events, subtasks, goals, robots=("robot1", "robot2"), status="failed", **extra):
    return RunTrace(run_id="r", task_id="t", scene="Kitchen-0", room="Kitchen", category=extra.pop("category", "simple"),
                    instruction="x", planner="offline", backend="emulator",
                    robots=[RobotInfo(name=n, profile="mobile_manipulator", agent_id=i, start=(0.0, float(i)))
                            for i, n in enumerate(robots)],
                    goals_from="suite", goals=[GoalOutcome(goal=g, met=m) for g, m in goals], status=status,
                    started_at=100.0, finished_at=112.5, subtasks=subtasks, events=events, **extra)


def st(sid, robot, *depends):
    return SubtaskState(id=sid, robot=robot, description=sid, depends_on=list(depends))


@pytest.fixture
def replanned():
    """Round 0: s1 (robot1), s2 (robot2), s3 (robot1, after s2); a replan; round 1: r1.1 (robot2)."""
    events = [event("plan"), event("dispatch", "robot1", "s1"), event("dispatch", "robot2", "s2"),
              *skills("robot1", "s1", 3, failed=1), *actions("robot1", "s1", 4, failed=1),
              *skills("robot2", "s2", 2), *actions("robot2", "s2", 3),
              event("dispatch", "robot1", "s3"), *skills("robot1", "s3", 2), *actions("robot1", "s3", 2),
              event("replan"), event("dispatch", "robot2", "r1.1"), *skills("robot2", "r1.1", 3),
              *actions("robot2", "r1.1", 5)]
    subtasks = [st("s1", "robot1"), st("s2", "robot2"), st("s3", "robot1", "s2"), st("r1.1", "robot2")]
    return trace(events, subtasks, [("Apple in Fridge", True), ("LightSwitch isToggled=False", False)],
                 replans=1, model_calls=2, tokens=300)


def test_tallies_count_world_actions_skill_calls_and_subtasks(replanned):
    tallies = robot_tallies(replanned)
    assert {k: (v.actions, v.failed, v.subtasks) for k, v in tallies.items()} == {"robot1": (6, 1, 2),
                                                                                 "robot2": (8, 0, 2)}
    assert {k: (v.skill_calls, v.skills_done) for k, v in tallies.items()} == {"robot1": (5, 4), "robot2": (5, 5)}


def test_critical_path_follows_dependencies_robots_and_rounds(replanned):
    # round 0: s3 starts after s2 (3) and after robot1's own s1 (4) -> 4 + 2 = 6; round 1: 5
    assert critical_path_actions(replanned.events, replanned.subtasks) == 11


def test_independent_subtasks_of_two_robots_overlap():
    events = [event("dispatch", "robot1", "s1"), event("dispatch", "robot2", "s2"),
              *actions("robot1", "s1", 7), *actions("robot2", "s2", 3)]
    assert critical_path_actions(events, [st("s1", "robot1"), st("s2", "robot2")]) == 7


def test_run_metrics_exactly(replanned):
    m = run_metrics(replanned)
    assert (m.success, m.task_completion, m.goal_condition_recall) == (False, False, 0.5)
    assert m.executability == pytest.approx(9 / 10)  # skill calls that executed / attempted
    assert m.utilisation == pytest.approx(14 / (2 * 11))  # world actions / (robots x makespan)
    assert m.balance == pytest.approx(4 / 5)  # min / max executed skill calls per robot
    assert (m.makespan_s, m.makespan_actions, m.actions, m.failed_actions) == (12.5, 11, 14, 1)
    assert (m.replans, m.model_calls, m.tokens, m.robots) == (1, 2, 300, 2)


def test_success_needs_the_world_and_the_team_to_agree():
    events = [event("dispatch", "robot1", "s1"), *skills("robot1", "s1", 1), *actions("robot1", "s1", 2)]
    goals = [("Apple in Fridge", True)]
    agreed = run_metrics(trace(events, [st("s1", "robot1")], goals, robots=("robot1",), status="succeeded"))
    assert (agreed.success, agreed.task_completion, agreed.utilisation, agreed.balance) == (True, True, 1.0, 1.0)
    world_says_no = run_metrics(trace(events, [st("s1", "robot1")], [("Apple in Fridge", False)],
                                      robots=("robot1",), status="succeeded"))
    assert (world_says_no.success, world_says_no.task_completion) == (False, False)
    team_says_no = run_metrics(trace(events, [st("s1", "robot1")], goals, robots=("robot1",), status="failed"))
    assert (team_says_no.success, team_says_no.task_completion) == (False, True)


def test_a_run_without_actions_has_no_ratio_metrics():
    m = run_metrics(trace([event("plan_failed")], [], [("Apple in Fridge", False)]))
    assert (m.executability, m.utilisation, m.balance, m.makespan_actions, m.goal_condition_recall) == (
        None, None, None, 0, 0.0)


def test_aggregate_means_and_where_they_apply(replanned):
    events = [event("dispatch", "robot1", "s1"), *skills("robot1", "s1", 1), *actions("robot1", "s1", 2)]
    won = run_metrics(trace(events, [st("s1", "robot1")], [("Apple in Fridge", True)], robots=("robot1",),
                            status="succeeded", category="elemental"))
    idle = run_metrics(trace([], [], [("Apple in Fridge", False)], category="elemental"))
    lost = run_metrics(replanned)
    a = aggregate([lost, won, idle])
    assert (a.runs, a.success_rate, a.task_completion) == (3, pytest.approx(1 / 3), pytest.approx(1 / 3))
    assert a.goal_condition_recall == pytest.approx(0.5)
    assert a.executability == pytest.approx((9 / 10 + 1) / 2)
    assert a.balance == pytest.approx((4 / 5 + 1) / 2)
    assert (a.makespan_s, a.makespan_actions) == (12.5, 2.0)  # successful runs only
    assert (a.replans, a.model_calls, a.tokens) == (pytest.approx(1 / 3), pytest.approx(2 / 3), 100.0)
    summary = summarize([lost, won, idle], suite="s", planner="offline", backend="emulator", workers=2, wall_s=30.0)
    assert summary.runs_per_minute == 6.0
    assert set(summary.by_category) == {"simple", "elemental"} and summary.by_category["elemental"].runs == 2
    assert set(summary.by_team_size) == {"1", "2"}


def test_paths_start_where_the_robots_stood_and_skip_standing_still(replanned):
    paths = replanned.paths()
    # robot1 starts at (0, 0), where its first action leaves it too: that point is not repeated
    assert paths["robot1"] == [(0.0, 0.0), (1.0, 0.0), (2.0, 0.0), (3.0, 0.0), (0.0, 0.0), (1.0, 0.0)]
    assert paths["robot2"][:3] == [(0.0, 1.0), (0.0, 0.0), (1.0, 0.0)]


def test_success_per_phrasing_class_in_the_summary_and_the_report():
    from io import StringIO

    from rich.console import Console

    from robocortex.evaluation.report import suite_report

    won = run_metrics(trace([], [], [("Apple in Fridge", True)], status="succeeded", category="simple",
                            phrasing="quantifier"))
    lost = run_metrics(trace([], [], [("Apple in Fridge", False)], category="simple", phrasing="quantifier"))
    polite = run_metrics(trace([], [], [("Apple in Fridge", True)], status="succeeded", category="simple",
                               phrasing="polite"))
    plain = run_metrics(trace([], [], [("Apple in Fridge", True)], status="succeeded", category="simple"))
    summary = summarize([won, lost, polite, plain], suite="s", planner="offline", backend="emulator", workers=1,
                        wall_s=6.0)
    assert set(summary.by_phrasing) == {"quantifier", "polite"}  # tasks without a class are not a group
    assert (summary.by_phrasing["quantifier"].runs, summary.by_phrasing["quantifier"].success_rate) == (2, 0.5)
    assert summary.by_phrasing["polite"].success_rate == 1.0
    assert '"by_phrasing"' in summary.model_dump_json()  # results.json
    out = StringIO()
    suite_report(Console(file=out, width=140), summary)
    text = out.getvalue()
    assert "success per phrasing class" in text
    row = next(line for line in text.splitlines() if line.strip().startswith("quantifier"))
    assert "50%" in row.split()[2]
    assert text.index("polite") > text.index("quantifier")  # in the classes' order
