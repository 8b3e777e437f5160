"""Who does what: jobs go to capable robots so that the last one finishes as early as it can.

Independent jobs run in parallel on different robots; a 'then' job waits for the one before it;
two jobs on different robots that touch the same object are serialised (one robot at a time at
the fridge); one robot does its own jobs in the order given.
"""

from __future__ import annotations

import math

from robocortex.cerebellum.skills import INTERACTION_REACH_M, SymbolicWorld
from robocortex.memory.schemas import RobotProfile, SkillCall

from robocortex.brain.jobs import Job
from robocortex.brain.plan import PlannedSubtask
from robocortex.brain.planner import PlanningError

Place = dict[str, float]


def _can_do(robot: RobotProfile, job: Job, start: Place | None) -> bool:
    if job.holder is not None and robot.name != job.holder:
        return False
    if not job.skills <= set(robot.skills) or job.heaviest > robot.payload_kg:
        return False
    if robot.mobility == "fixed" and start is not None:
        return all(math.dist((start["x"], start["z"]), (p["x"], p["z"])) <= INTERACTION_REACH_M for p in job.places)
    return True


def travel(start: Place | None, places: list[Place]) -> float:
    """Metres walked (Manhattan, as on the navigation grid) from `start` through `places`."""
    cost, here = 0.0, start
    for p in places:
        if here is not None:
            cost += abs(here["x"] - p["x"]) + abs(here["z"] - p["z"])
        here = p
    return cost


def _cost(job: Job, start: Place | None) -> float:
    """Rough duration: metres walked plus one unit per skill step."""
    return travel(start, job.places) + len(job.steps)


def allocate(jobs: list[Job], robots: list[RobotProfile], world: SymbolicWorld, prefix: str) -> list[PlannedSubtask]:
    """Longest job first, each to the capable robot that would finish it earliest."""
    if jobs and not robots:
        raise PlanningError("no robots are online to do this")
    position = {r.name: (world.get(r.name) or {}).get("position") for r in robots}
    busy_until = {r.name: 0.0 for r in robots}
    owner: dict[int, str] = {}
    for i in sorted(range(len(jobs)), key=lambda i: -_cost(jobs[i], None)):
        job = jobs[i]
        able = [r for r in robots if _can_do(r, job, position[r.name])]
        if not able and job.holder is not None:
            raise PlanningError(f"{job.holder} holds what is needed to {job.description}, "
                                "but it is offline or cannot finish the job")
        if not able:
            raise PlanningError(f"no robot can {job.description}: it needs skills {sorted(job.skills)}"
                                + (f" and a payload of {job.heaviest} kg" if job.heaviest else ""))
        best = min(able, key=lambda r: (busy_until[r.name] + _cost(job, position[r.name]), r.name))
        owner[i] = best.name
        busy_until[best.name] += _cost(job, position[best.name])
        if job.places:
            position[best.name] = job.places[-1]
    _free_hands(jobs, owner, world)
    ids = [f"{prefix}{i + 1}" for i in range(len(jobs))]
    subtasks: list[PlannedSubtask] = []
    for i, job in enumerate(jobs):
        deps = [ids[j] for j in range(i)
                if (job.sequential and j == i - 1) or owner[j] == owner[i] or jobs[j].touches & job.touches]
        subtasks.append(PlannedSubtask(id=ids[i], robot=owner[i], description=job.description,
                                       depends_on=deps, steps=job.steps))
    return subtasks


def _free_hands(jobs: list[Job], owner: dict[int, str], world: SymbolicWorld) -> None:
    """A robot still holding something it has no job for puts it down before its first pick-up."""
    holding = {n["id"]: n.get("holding") for n in world.nodes.values() if n.get("kind") == "robot"}
    for i, job in enumerate(jobs):
        robot = owner[i]
        if job.holder == robot:
            holding[robot] = None  # this job uses what it holds
        elif holding.get(robot) and "pick_up" in job.skills:
            job.steps.insert(0, SkillCall(skill="drop"))
            holding[robot] = None
