"""The prompt's scene serialisation and repair conversation, and reading plans out of replies."""

import pytest

from robocortex.brain.planner import PlanRequest
from robocortex.brain.prompt import build_messages, compact_scene
from robocortex.brain.replies import parse_plan, split_thinking
from robocortex.memory.schemas import SceneNode, SceneSnapshot


def big_scene(kitchen: SceneSnapshot) -> SceneSnapshot:
    nodes = dict(kitchen.nodes)
    for i in range(80):
        nodes[f"Fork|{i}"] = SceneNode(id=f"Fork|{i}", objectType="Fork", position={"x": i, "y": 0, "z": 0},
                                       relations=[{"rel": "on", "target": "CounterTop|1"}], pickupable=True)
    return SceneSnapshot(rev=7, nodes=nodes)


def test_small_scene_lists_every_object(kitchen):
    lines = compact_scene(kitchen, "put the apple in the fridge").splitlines()
    assert len(lines) == len(kitchen.objects())
    assert "Apple|1 @0.20,0.00 [pick/slice] 0.2kg on:CounterTop|1" in lines
    assert "LightSwitch|1 @-2.00,1.00 [toggle] isToggled" in lines


def test_large_scene_keeps_what_the_task_is_about(kitchen):
    text = compact_scene(big_scene(kitchen), "slice the apple and put it in the fridge")
    listed = {line.split()[0] for line in text.splitlines()[:-1]}
    assert listed == {"Apple|1", "Knife|1", "CounterTop|1", "Fridge|1"}, "the tool and the receptacles too"
    assert text.splitlines()[-1].startswith("(") and "Fork" in text.splitlines()[-1]


def test_repair_is_a_conversation(kitchen, two_robots):
    messages = build_messages(PlanRequest("open the fridge", kitchen, two_robots,
                                          feedback=["unknown object 'Fridge|9'"], previous_reply='{"goals": []}'))
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == '{"goals": []}' and "Fridge|9" in messages[3]["content"]
    robots = messages[1]["content"].split("Robots:\n")[1]
    assert robots.startswith("robot1: mobile_manipulator, mobile, payload 5kg, at 0.00,0.00; skills: all")


@pytest.mark.parametrize("text", [
    '{"goals": [{"object": "Fridge", "state": "isOpen", "value": "true"}], "subtasks": []}',
    'Sure:\n```json\n{"goals": [{"object": "Fridge", "state": "isOpen", "value": true}], "subtasks": []}\n```',
    '<think>open it</think><answer>{"goals": [{"object": "Fridge", "state": "isOpen", "value": true}], "subtasks": []}',
])
def test_plans_are_read_from_every_shape_of_reply(text):
    thinking, answer = split_thinking(text)
    plan = parse_plan(answer)
    assert plan.goals[0].value is True
    assert thinking in ("", "open it")


def test_a_reply_that_is_not_a_plan_says_what_is_wrong():
    with pytest.raises(ValueError, match=r"goals\.0\.condition\.relation"):
        parse_plan('{"goals": [{"object": "Apple", "relation": "under", "target": "Fridge"}], "subtasks": []}')
    with pytest.raises(ValueError, match="it is empty"):
        parse_plan("")
