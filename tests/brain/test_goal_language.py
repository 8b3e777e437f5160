"""The goal language: selectors, quantifiers, conditions, the compact form, and its published schema."""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from robocortex.brain.goal_language import (
    Condition,
    Goal,
    Selector,
    final_goals,
    goal_holds,
    goal_json_schema,
    ground,
    unmet_goals,
)

ROOT = Path(__file__).resolve().parents[2]


def obj(oid, otype, parent=None, rel="in", **flags):
    return oid, {"id": oid, "kind": "object", "objectType": otype,
                 "relations": [{"rel": rel, "target": parent}] if parent else [], **flags}


NODES = dict([
    obj("Fridge|1", "Fridge", isOpen=False),
    obj("Table|1", "DiningTable"),
    obj("Sink|1", "SinkBasin"),
    obj("Apple|1", "Apple", "Fridge|1"),
    obj("Apple|2", "Apple", "Table|1", rel="on"),
    obj("Mug|1", "Mug", "Sink|1", isDirty=True),
    obj("Tomato|1", "Tomato"),
    obj("Tomato|1|TomatoSliced_0", "TomatoSliced", "Fridge|1"),
    ("robot1", {"id": "robot1", "kind": "robot", "holding": "Tomato|1"}),
])


def goal(subject, **condition):
    return Goal(subject=subject, condition=Condition(**condition))


@pytest.mark.parametrize("g, holds", [
    (Goal.model_validate({"object": "Apple", "relation": "in", "target": "Fridge"}), True),
    (goal(Selector(type="Apple", quantifier="all"), relation="in", target="Fridge"), False),
    (goal(Selector(type="Apple", quantifier="exactly", count=1), relation="in", target="Fridge"), True),
    (goal(Selector(type="Apple", quantifier="at_least", count=2), relation="in", target="Fridge"), False),
    (goal(Selector(category="fruit", quantifier="at_least", count=2), relation="in", target="Fridge"), True),
    (goal(Selector(quantifier="all"), relation="on", target="DiningTable", negate=True), False),
    (goal(Selector(quantifier="all"), relation="in", target="Microwave", negate=True), True),
    (goal(Selector(type="Tomato", piece=True, quantifier="a"), relation="in", target="Fridge"), True),
    (Goal.model_validate({"object": "Tomato", "state": "isSliced", "value": "true"}), True),
    (goal(Selector(type="Tomato"), held=True), True),
    (goal(Selector(type="Mug"), state="isDirty", value=False), False),
    (goal(Selector(type="Apple", quantifier="all"), temperature="Cold", negate=True), True),
])
def test_goals_hold_as_their_words_say(g, holds):
    assert goal_holds(NODES, g) is holds, g.describe()


def test_the_rest_complements_an_earlier_goal():
    goals = [goal(Selector(type="Apple", quantifier="a"), relation="in", target="Fridge"),
             goal(Selector(type="Apple", quantifier="rest", rest_of=0), relation="on", target="DiningTable")]
    assert unmet_goals(NODES, goals) == []
    goals[1] = goal(Selector(type="Apple", quantifier="rest", rest_of=0), relation="in", target="SinkBasin")
    assert unmet_goals(NODES, goals) == [goals[1]]


def test_filters_on_where_things_are_now_are_grounded_to_ids():
    g = goal(Selector(type="Mug", located={"relation": "in", "target": "SinkBasin"}), relation="on", target="DiningTable")
    grounded = ground(g, NODES)
    assert grounded.subject.ids == ["Mug|1"]
    moved = {**NODES, "Mug|1": {**NODES["Mug|1"], "relations": [{"rel": "on", "target": "Table|1"}]}}
    assert goal_holds(moved, grounded) and not goal_holds(moved, g)


@pytest.mark.parametrize("bad", [
    {"subject": "Apple", "condition": {}},
    {"subject": "Apple", "condition": {"relation": "in"}},
    {"subject": "Apple", "condition": {"state": "isShiny"}},
    {"subject": {"type": "Apple", "quantifier": "exactly"}, "condition": {"held": True}},
    {"subject": "Apple", "condition": {"held": True}, "colour": "red"},
])
def test_malformed_goals_are_refused(bad):
    with pytest.raises(ValidationError):
        Goal.model_validate(bad)


def test_the_published_schema_is_current_and_fully_typed():
    schema = goal_json_schema()
    assert json.loads((ROOT / "docs" / "goal-language.schema.json").read_text()) == schema

    def untyped(node):  # llama.cpp's grammar converter refuses a property with no type
        if isinstance(node, dict):
            if "properties" in node:
                for prop in node["properties"].values():
                    if not ({"type", "$ref", "anyOf", "enum", "const", "allOf"} & prop.keys()):
                        yield prop
            for value in node.values():
                yield from untyped(value)
        elif isinstance(node, list):
            for value in node:
                yield from untyped(value)

    assert list(untyped(schema)) == []


def test_a_goal_a_later_stage_undoes_is_not_required_at_the_end():
    opened = goal(Selector(type="Fridge"), state="isOpen", value=True)
    closed = goal(Selector(type="Fridge"), state="isOpen", value=False).model_copy(update={"stage": 1})
    held = goal(Selector(type="Apple"), held=True)
    put = goal(Selector(type="Apple"), relation="in", target="Fridge").model_copy(update={"stage": 1})
    sliced = goal(Selector(type="Apple"), state="isSliced")
    assert final_goals([opened, closed, held, put, sliced]) == [closed, put, sliced]
    assert final_goals([opened, held]) == [opened, held]  # same stage: both must hold
