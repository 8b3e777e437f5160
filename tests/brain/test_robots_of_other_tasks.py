"""A plan for one task never uses a robot busy on another task's subtask (its holding state is that
task's): the plan request offers only the robots free for this task (issue 12, point 4)."""

from __future__ import annotations

from robocortex.brain.graph import initial_state, plan_request


def test_a_robot_busy_on_another_task_is_not_offered_to_the_planner(brain, make_profile):
    deps, _, _ = brain
    for i, name in enumerate(("robot1", "robot2")):
        deps.robots.register(make_profile(name, agent_id=i))
    deps.robots.heartbeat("robot2", "other-task:s1:1")  # robot2 works (and holds) for another task
    mine = deps.tasks.create("put the apple in the fridge")
    request = plan_request(deps, initial_state(mine.id, mine.instruction))
    assert [p.name for p in request.robots] == ["robot1"]

    deps.robots.heartbeat("robot2", f"{mine.id}:s1:1")  # busy on this very task: its state is ours
    request = plan_request(deps, initial_state(mine.id, mine.instruction))
    assert sorted(p.name for p in request.robots) == ["robot1", "robot2"]


def test_when_every_robot_is_busy_elsewhere_the_plan_still_gets_robots(brain, make_profile):
    deps, _, _ = brain
    deps.robots.register(make_profile("robot1"))
    deps.robots.heartbeat("robot1", "other-task:s1:1")
    mine = deps.tasks.create("turn off the light")
    request = plan_request(deps, initial_state(mine.id, mine.instruction))
    assert [p.name for p in request.robots] == ["robot1"]
