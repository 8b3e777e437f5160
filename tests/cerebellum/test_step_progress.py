"""A subtask resumed after its worker died continues after its last finished step, and a step whose
effect already holds in the scene graph (the worker died between acting and recording) is skipped.

Real emulator, real Redis; the dispatcher's attempt hash keeps the progress. A crash is simulated by
a progress recorder that raises once a given step is recorded (or right before it would be)."""

from __future__ import annotations

import uuid

import pytest

from robocortex.memory.dispatch import Dispatcher
from robocortex.memory.schemas import SkillCall, SubtaskMessage

from tests.cerebellum.robots import Team


class Killed(BaseException):
    """The worker process dying (not an error the executor could catch)."""


class DyingProgress:
    """Records progress in Redis like the worker does, and 'dies' around step `die_at`."""

    def __init__(self, dispatcher: Dispatcher, die_at: int, before_record: bool):
        self.dispatcher, self.die_at, self.before_record = dispatcher, die_at, before_record

    def steps_done(self, message):
        return self.dispatcher.steps_done(message)

    def step_done(self, message, finished):
        if finished == self.die_at and self.before_record:
            raise Killed
        self.dispatcher.step_done(message, finished)
        if finished == self.die_at:
            raise Killed


def fridge_message(team: Team, robot: str) -> SubtaskMessage:
    apple, fridge = team.oid("Apple"), team.oid("Fridge")
    steps = [("navigate_to", {"object": fridge}), ("open", {"object": fridge}),
             ("navigate_to", {"object": apple}), ("pick_up", {"object": apple}),
             ("navigate_to", {"object": fridge}), ("put", {"object": apple, "receptacle": fridge})]
    return SubtaskMessage(task_id=f"t-{uuid.uuid4().hex[:8]}", subtask_id="s1", robot=robot,
                          description="apple into the fridge", steps=[SkillCall(skill=s, args=a) for s, a in steps])


def world_actions(team: Team, task_id: str, action: str) -> int:
    return sum(1 for _, e in team.tasks.events(task_id, count=10_000)
               if e.kind == "action" and e.data.get("action") == action and e.data.get("success"))


@pytest.mark.parametrize("die_at, before_record, skipped", [
    (2, False, None),   # died right after recording "open": the fridge is not opened again
    (6, True, 5),       # died after the put acted but before it was recorded: the put already holds
    (4, True, 3),       # died after the pick-up acted but before it was recorded: not picked twice
])
def test_a_resumed_subtask_continues_after_its_last_finished_step(team: Team, r, keys, die_at, before_record, skipped):
    dispatcher = Dispatcher(r, keys)
    message = fridge_message(team, "r1")
    first = team.robot("r1", 0)
    with pytest.raises(Killed):
        first.run(message, progress=DyingProgress(dispatcher, die_at, before_record))
    resumed = team.robot("r1", 0)  # a new worker process: nothing remembered but Redis
    result = resumed.run(message, progress=dispatcher, resumed=True)
    assert result.success, result.error
    apple, fridge = team.oid("Apple"), team.oid("Fridge")
    assert fridge in team.truth(apple)["parentReceptacles"]
    assert world_actions(team, message.task_id, "OpenObject") == 1
    assert world_actions(team, message.task_id, "PickupObject") == 1
    assert world_actions(team, message.task_id, "PutObject") == 1
    assert dispatcher.steps_done(message) == 6
    skips = [e.data["step_index"] for _, e in team.tasks.events(message.task_id, count=10_000)
             if e.kind == "thought" and e.data.get("skipped")]
    assert skips == ([skipped] if skipped is not None else [])


def test_a_first_delivery_never_skips_a_step(team: Team, r, keys):
    fridge = team.oid("Fridge")
    robot = team.robot("r1", 0)
    assert robot.run(SubtaskMessage(task_id="t-open", subtask_id="s1", robot="r1", description="open",
                                    steps=[SkillCall(skill="navigate_to", args={"object": fridge}),
                                           SkillCall(skill="open", args={"object": fridge})])).success
    message = SubtaskMessage(task_id="t-again", subtask_id="s1", robot="r1", description="open again",
                             steps=[SkillCall(skill="open", args={"object": fridge})])
    assert not robot.run(message, progress=Dispatcher(r, keys)).success  # "already open" is reported
    assert robot.run(SubtaskMessage(**{**message.model_dump(), "attempt": 2}), progress=Dispatcher(r, keys),
                     resumed=True).success  # a redelivery finds its effect holds
