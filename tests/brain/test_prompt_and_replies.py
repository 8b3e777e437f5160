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


# --------------------------------------------------------------------------- goals mode and fitting

def test_scene_levels_get_shorter_and_keep_the_task_objects(kitchen):
    from robocortex.brain.prompt import compact_scene

    full, relevant, types = (compact_scene(kitchen, "put the apple in the fridge", lv) for lv in (0, 1, 2))
    assert len(types) < len(relevant) < len(full)
    assert {line.split()[0] for line in relevant.splitlines()[:-1]} == {"Apple|1", "Fridge|1", "CounterTop|1"}
    assert "Apple" in types and "Fridge" in types and "|" not in types


def test_the_goals_prompt_explains_the_language_and_its_examples_are_valid_goals(kitchen, two_robots):
    from robocortex.brain.goal_language import GoalSpec
    from robocortex.brain.prompt import system_message

    system = system_message("goals")
    examples = [line for line in system.split("Examples:\n")[1].splitlines() if line.startswith("{")]
    assert len(examples) == 3
    described = [GoalSpec.model_validate_json(e).goals[0].describe() for e in examples]
    assert described == ["Apple in Fridge", "all [lights] isToggled=False", "all anything not on DiningTable"]
    assert "fruit" in system, "the categories a selector may name are listed"
    user = build_messages(PlanRequest("put the apple in the fridge", kitchen, two_robots), "goals")[1]["content"]
    assert "Skills:" not in user and "Apple|1" in user


def test_think_asks_for_think_then_answer(kitchen, two_robots):
    messages = build_messages(PlanRequest("open the fridge", kitchen, two_robots), "plan", think=True)
    assert "<think>" in messages[0]["content"] and "<answer>" in messages[0]["content"]


def test_goals_are_read_and_checked_against_the_scene(kitchen):
    from robocortex.brain.replies import parse_goals, unknown_names

    spec = parse_goals('Here: {"goals": [{"subject": {"type": "Apple"}, "condition": {"relation": "in", '
                       '"target": {"type": "Fridge"}}}, {"subject": {"category": "fruits"}, '
                       '"condition": {"held": true}}]}')
    assert unknown_names(spec.goals, kitchen) == ["goals.1.subject: unknown category 'fruits' (did you mean 'fruit'?)"]
    with pytest.raises(ValueError, match=r"goals\.0\.condition: Field required"):
        parse_goals('{"goals": [{"subject": {"type": "Apple"}}]}')


def test_the_schema_sent_is_narrowed_to_the_scene_and_enforces_one_condition_kind(kitchen):
    import jsonschema

    from robocortex.brain.goal_language import GoalSpec
    from robocortex.brain.llm import scene_goal_schema

    schema = scene_goal_schema(kitchen)
    good = {"goals": [{"subject": {"type": "Apple"}, "condition": {"relation": "in", "target": {"id": "Fridge|1"}}},
                      {"subject": {"category": "lights", "quantifier": "all"},
                       "condition": {"state": "isToggled", "value": False}}]}
    jsonschema.validate(good, schema)
    GoalSpec.model_validate(good)
    for bad in ({"goals": [{"subject": {"type": "Banana"}, "condition": {"held": True}}]},
                {"goals": [{"subject": {"type": "Apple"}, "condition": {"value": False}}]},
                {"goals": [{"subject": {"type": "Apple"}, "condition": {"held": True, "state": "isOpen",
                                                                          "value": True}}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_token_estimate_is_cautious(kitchen, two_robots):
    from robocortex.brain.prompt import estimate_tokens

    messages = build_messages(PlanRequest("put the apple in the fridge", kitchen, two_robots), "goals")
    chars = sum(len(m["content"]) for m in messages)
    assert chars / 4 < estimate_tokens(messages) <= chars / 3 + 8 * len(messages)


def test_a_shortened_prompt_keeps_only_the_latest_replan_events(kitchen, two_robots):
    from robocortex.brain.prompt import task_message

    request = PlanRequest("open the fridge", kitchen, two_robots, feedback=[f"event {i}" for i in range(10)])
    assert "event 0" in task_message(request, 0, "goals")
    short = task_message(request, 1, "goals")
    assert "event 0" not in short and "event 9" in short and "(6 earlier events left out)" in short
