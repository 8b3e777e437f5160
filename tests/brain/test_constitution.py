"""The safety constitution (brain/constitution.py): every rule kind, what the plan holds at each step,
rule files (the shipped default included), and properties over generated plans."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from robocortex.brain import constitution as con
from robocortex.brain.constitution import Constitution, ConstitutionError, check, load, parse
from robocortex.brain.plan import Goal, Plan, PlannedSubtask
from robocortex.memory.schemas import Relation, SceneNode, SceneSnapshot, SkillCall

DOCS = Path(__file__).resolve().parents[2] / "docs" / "brain.md"


def st(id, robot, *steps, deps=()):
    return PlannedSubtask(id=id, robot=robot, description=id, depends_on=list(deps),
                          steps=[SkillCall(skill=s, args=a) for s, a in steps])


def plan_of(*subtasks):
    return Plan(goals=[Goal(object="Apple", relation="in", target="Fridge")], subtasks=list(subtasks))


def rules(*docs) -> Constitution:
    return parse({"rules": list(docs)})


def names(violations):
    return [v.rule for v in violations]


FRIDGE_APPLE = plan_of(st("s1", "robot1", ("navigate_to", {"object": "Fridge|1"}), ("open", {"object": "Fridge|1"})),
                       st("s2", "robot2", ("pick_up", {"object": "Apple|1"}), ("put", {"receptacle": "Fridge|1"}),
                          deps=["s1"]))


# --------------------------------------------------------------------------- each kind


def test_forbidden_objects_names_the_step_and_object(kitchen, two_robots):
    c = rules({"name": "no-eggs", "kind": "forbidden_objects", "objects": {"types": ["Egg"]}})
    assert check(FRIDGE_APPLE, kitchen, two_robots, c) == []
    p = plan_of(st("s1", "robot1", ("navigate_to", {"object": "Egg|1"}), ("pick_up", {"object": "Egg|1"})))
    found = check(p, kitchen, two_robots, c)
    assert [(v.rule, v.effect, v.subtask_id, v.step_index, v.object, v.robot) for v in found] == [
        ("no-eggs", "reject", "s1", 0, "Egg|1", "robot1"), ("no-eggs", "reject", "s1", 1, "Egg|1", "robot1")]


def test_forbidden_objects_by_id_and_material(kitchen, two_robots):
    by_id = rules({"name": "not-that-mug", "kind": "forbidden_objects", "objects": {"ids": ["Mug|1"]}})
    metal = rules({"name": "no-metal", "kind": "forbidden_objects", "objects": {"materials": ["metal"]}})
    mug = plan_of(st("s1", "robot1", ("pick_up", {"object": "Mug|1"})))
    knife = plan_of(st("s1", "robot1", ("pick_up", {"object": "Knife|1"})))
    assert names(check(mug, kitchen, two_robots, by_id)) == ["not-that-mug"]
    assert check(knife, kitchen, two_robots, by_id) == []
    assert names(check(knife, kitchen, two_robots, metal)) == ["no-metal"]  # Knife: Metal in the knowledge table
    assert check(mug, kitchen, two_robots, metal) == []  # Mug: Ceramic


def test_forbidden_actions_with_and_without_objects(kitchen, two_robots):
    any_open = rules({"name": "no-opening", "kind": "forbidden_actions", "skills": ["open"]})
    fridge_open = rules({"name": "fridge-stays-shut", "kind": "forbidden_actions", "skills": ["open"],
                         "objects": {"types": ["Fridge"]}, "effect": "escalate"})
    micro = plan_of(st("s1", "robot1", ("open", {"object": "Microwave|1"})))
    assert names(check(micro, kitchen, two_robots, any_open)) == ["no-opening"]
    assert check(micro, kitchen, two_robots, fridge_open) == []
    found = check(FRIDGE_APPLE, kitchen, two_robots, fridge_open)
    assert [(v.rule, v.effect, v.subtask_id, v.skill) for v in found] == [("fridge-stays-shut", "escalate", "s1", "open")]


def test_placement_follows_what_the_robot_holds_across_subtasks(kitchen, two_robots):
    c = con.default()  # no-metal-in-microwave
    knife_in = plan_of(st("s1", "robot1", ("pick_up", {"object": "Knife|1"})),
                       st("s2", "robot2", ("pick_up", {"object": "Apple|1"})),
                       st("s3", "robot1", ("open", {"object": "Microwave|1"}), ("put", {"receptacle": "Microwave|1"}),
                          deps=["s1"]))
    found = check(knife_in, kitchen, two_robots, c)
    assert [(v.rule, v.subtask_id, v.step_index, v.object) for v in found] == [
        ("no-metal-in-microwave", "s3", 1, "Microwave|1")]
    assert "Knife|1" in found[0].message
    apple_in = plan_of(st("s1", "robot2", ("pick_up", {"object": "Apple|1"})),
                       st("s2", "robot1", ("pick_up", {"object": "Knife|1"}), ("put", {"receptacle": "CounterTop|1"})),
                       st("s3", "robot2", ("put", {"receptacle": "Microwave|1"}), deps=["s1"]))
    assert check(apple_in, kitchen, two_robots, c) == []  # robot2 holds the apple; robot1's knife went to the counter


def test_placement_sees_what_a_robot_already_holds_and_cooking(kitchen, two_robots):
    c = con.default()
    nodes = dict(kitchen.nodes)
    nodes["robot1"] = nodes["robot1"].model_copy(update={"holding": "Knife|1"})
    holding = kitchen.model_copy(update={"nodes": nodes})
    put = plan_of(st("s1", "robot1", ("put", {"receptacle": "Microwave|1"})))
    assert names(check(put, holding, two_robots, c)) == ["no-metal-in-microwave"]
    assert check(put, kitchen, two_robots, c) == []  # holding nothing: nothing goes in
    cook_knife = plan_of(st("s1", "robot1", ("cook", {"object": "Knife|1", "appliance": "Microwave|1"})))
    cook_potato = plan_of(st("s1", "robot1", ("cook", {"object": "Potato|1", "appliance": "Microwave|1"})))
    assert names(check(cook_knife, kitchen, two_robots, c)) == ["no-metal-in-microwave"]
    assert check(cook_potato, kitchen, two_robots, c) == []


def test_areas_by_box_and_room(kitchen, two_robots):
    box = rules({"name": "keep-off-the-fridge-corner", "kind": "areas",
                 "regions": [{"name": "fridge corner", "box": {"min_x": 2.5, "max_x": 4, "min_z": -1, "max_z": 1}}]})
    found = check(FRIDGE_APPLE, kitchen, two_robots, box)
    assert {v.subtask_id for v in found} == {"s1", "s2"} and all("fridge corner" in v.message for v in found)
    counter = plan_of(st("s1", "robot1", ("pick_up", {"object": "Apple|1"})))
    assert check(counter, kitchen, two_robots, box) == []
    only_robot2 = rules({"name": "robot2-off-corner", "kind": "areas", "robots": ["robot2"],
                         "regions": [{"name": "corner", "box": {"min_x": 2.5, "max_x": 4, "min_z": -1, "max_z": 1}}]})
    assert {v.robot for v in check(FRIDGE_APPLE, kitchen, two_robots, only_robot2)} == {"robot2"}
    # a room: a room node up the in/on chain, or an object's own `room` field
    nodes = dict(kitchen.nodes)
    nodes["Pantry"] = SceneNode(id="Pantry", kind="room")
    nodes["CounterTop|1"] = nodes["CounterTop|1"].model_copy(update={"relations": [Relation(rel="in", target="Pantry")]})
    nodes["Fridge|1"] = nodes["Fridge|1"].model_copy(update={"room": "Pantry"})
    roomy = kitchen.model_copy(update={"nodes": nodes})
    room = rules({"name": "not-in-the-pantry", "kind": "areas", "regions": [{"name": "pantry", "room": "pantry"}]})
    assert names(check(counter, roomy, two_robots, room)) == ["not-in-the-pantry"]  # Apple on the counter in the pantry
    assert len(check(FRIDGE_APPLE, roomy, two_robots, room)) == 4
    assert check(counter, kitchen, two_robots, room) == []


def test_robot_limits(kitchen, two_robots):
    c = rules({"name": "robot2-never-picks-food", "kind": "robots", "robots": ["robot2"], "skills": ["pick_up"],
               "objects": {"materials": ["Food"]}})
    assert [(v.robot, v.object) for v in check(FRIDGE_APPLE, kitchen, two_robots, c)] == [("robot2", "Apple|1")]
    swapped = plan_of(st("s1", "robot2", ("pick_up", {"object": "Knife|1"})),
                      st("s2", "robot1", ("pick_up", {"object": "Apple|1"})))
    assert check(swapped, kitchen, two_robots, c) == []
    grounded = rules({"name": "robot1-does-nothing", "kind": "robots", "robots": ["robot1"]})
    assert {v.subtask_id for v in check(FRIDGE_APPLE, kitchen, two_robots, grounded)} == {"s1"}


def test_max_payload_by_robot_factor_and_absolute(kitchen, two_robots):
    pumpkin = plan_of(st("s1", "robot1", ("pick_up", {"object": "Pumpkin|1"})))  # 3 kg
    payload = two_robots[0].payload_kg
    assert payload >= 3
    assert check(pumpkin, kitchen, two_robots, rules({"name": "p", "kind": "max_payload"})) == []
    tight = rules({"name": "half-payload", "kind": "max_payload", "factor": 2.9 / payload})
    assert names(check(pumpkin, kitchen, two_robots, tight)) == ["half-payload"]
    absolute = rules({"name": "two-kilos", "kind": "max_payload", "max_kg": 2})
    found = check(pumpkin, kitchen, two_robots, absolute)
    assert names(found) == ["two-kilos"] and "3 kg" in found[0].message and "2 kg" in found[0].message
    assert check(plan_of(st("s1", "robot1", ("pick_up", {"object": "Apple|1"}))), kitchen, two_robots, absolute) == []


def test_ask_human_conditions_all_hold(kitchen, two_robots):
    oven = rules({"name": "ask-before-opening-the-fridge", "kind": "ask_human", "skills": ["open"],
                  "objects": {"types": ["Fridge"]}})
    found = check(FRIDGE_APPLE, kitchen, two_robots, oven)
    assert [(v.rule, v.effect, v.subtask_id) for v in found] == [("ask-before-opening-the-fridge", "escalate", "s1")]
    big = rules({"name": "big-plans", "kind": "ask_human", "min_subtasks": 2, "min_robots": 2})
    assert names(check(FRIDGE_APPLE, kitchen, two_robots, big)) == ["big-plans"]
    one = plan_of(st("s1", "robot1", ("open", {"object": "Fridge|1"})))
    assert check(one, kitchen, two_robots, big) == []
    both = rules({"name": "fridge-by-robot2", "kind": "ask_human", "skills": ["open"], "robots": ["robot2"]})
    assert check(FRIDGE_APPLE, kitchen, two_robots, both) == []  # robot1 opens it


def test_sliced_pieces_get_their_type_from_the_id(kitchen, two_robots):
    c = rules({"name": "no-apple-slices", "kind": "forbidden_objects", "objects": {"types": ["AppleSliced"]}})
    p = plan_of(st("s1", "robot1", ("pick_up", {"object": "Apple|1|AppleSliced_0"})))
    assert names(check(p, kitchen, two_robots, c)) == ["no-apple-slices"]


def test_reject_reason_names_each_rule_once(kitchen, two_robots):
    c = rules({"name": "no-eggs", "kind": "forbidden_objects", "objects": {"types": ["Egg"]}},
              {"name": "ask-a-person", "kind": "ask_human", "skills": ["pick_up"]})
    p = plan_of(st("s1", "robot1", ("navigate_to", {"object": "Egg|1"}), ("pick_up", {"object": "Egg|1"})))
    found = check(p, kitchen, two_robots, c)
    assert [v.effect for v in con.rejections(found)] == ["reject", "reject"]
    assert names(con.escalations(found)) == ["ask-a-person"]
    reason = con.reject_reason(found)
    assert reason.count("'no-eggs'") == 1 and "ask-a-person" not in reason


# --------------------------------------------------------------------------- rule files


def test_default_rules_load_and_are_documented():
    c = load()
    assert c == con.default() and c.rules
    doc = DOCS.read_text(encoding="utf-8")
    for rule in c.rules:
        assert f"`{rule.name}`" in doc, f"docs/brain.md documents the default rule {rule.name}"
    assert {r.effect for r in c.rules} == {"reject"}, "the defaults never hold a task for an operator"


def test_default_rules_pass_the_everyday_plans(kitchen, two_robots):
    assert check(FRIDGE_APPLE, kitchen, two_robots, con.default()) == []


@pytest.mark.parametrize("doc, words", [
    ({"rules": [{"name": "x", "kind": "teleportation"}]}, "rules.0"),
    ({"rules": [{"name": "x", "kind": "forbidden_objects"}]}, "objects"),
    ({"rules": [{"name": "x", "kind": "forbidden_objects", "objects": {}}]}, "at least one of types"),
    ({"rules": [{"name": "x", "kind": "max_payload", "effect": "warn"}]}, "effect"),
    ({"rules": [{"name": "x", "kind": "ask_human"}]}, "needs a condition"),
    ({"rules": [{"name": "x", "kind": "max_payload"}, {"name": "x", "kind": "max_payload"}]}, "repeated: x"),
    ({"rules": [{"name": "x", "kind": "areas", "regions": [{"name": "r"}]}]}, "needs a room or a box"),
    ({"rules": [{"name": "x", "kind": "max_payload", "colour": "red"}]}, "colour"),
    ({"rule": []}, "rule"),
])
def test_bad_rule_files_are_refused_with_where(tmp_path, doc, words):
    f = tmp_path / "rules.yaml"
    f.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConstitutionError) as info:
        load(f)
    assert str(f) in str(info.value) and words in str(info.value)


def test_unreadable_and_empty_files(tmp_path):
    with pytest.raises(ConstitutionError, match="cannot read"):
        load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [\n")
    with pytest.raises(ConstitutionError, match="not valid YAML"):
        load(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert load(empty).rules == []


# --------------------------------------------------------------------------- properties

OBJECTS = ["Apple|1", "Knife|1", "Potato|1", "Mug|1", "Pumpkin|1", "Egg|1", "Fridge|1", "Microwave|1", "CounterTop|1"]
step_s = hs.one_of(
    hs.builds(lambda o: ("navigate_to", {"object": o}), hs.sampled_from(OBJECTS)),
    hs.builds(lambda o: ("pick_up", {"object": o}), hs.sampled_from(OBJECTS)),
    hs.builds(lambda o: ("put", {"receptacle": o}), hs.sampled_from(OBJECTS)),
    hs.builds(lambda o: ("open", {"object": o}), hs.sampled_from(OBJECTS)),
    hs.builds(lambda o: ("cook", {"object": o, "appliance": "Microwave|1"}), hs.sampled_from(OBJECTS)),
    hs.just(("drop", {})),
)


@hs.composite
def plans(draw):
    n = draw(hs.integers(1, 4))
    subtasks = []
    for i in range(n):
        deps = draw(hs.lists(hs.sampled_from([f"s{j}" for j in range(i)]), unique=True)) if i else []
        subtasks.append(st(f"s{i}", draw(hs.sampled_from(["robot1", "robot2"])), *draw(hs.lists(step_s, min_size=1, max_size=4)),
                           deps=deps))
    return plan_of(*subtasks)


RULE_POOL = [
    {"name": "no-eggs", "kind": "forbidden_objects", "objects": {"types": ["Egg"]}},
    {"name": "no-open", "kind": "forbidden_actions", "skills": ["open"], "effect": "escalate"},
    {"name": "no-metal-in-microwave", "kind": "forbidden_placements", "objects": {"materials": ["Metal"]},
     "receptacles": {"types": ["Microwave"]}},
    {"name": "corner", "kind": "areas", "regions": [{"name": "c", "box": {"min_x": 2.5, "max_x": 4, "min_z": -1, "max_z": 1}}]},
    {"name": "robot2-no-pickups", "kind": "robots", "robots": ["robot2"], "skills": ["pick_up"]},
    {"name": "two-kilos", "kind": "max_payload", "max_kg": 2},
    {"name": "ask-big", "kind": "ask_human", "min_subtasks": 3},
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=plans(), picked=hs.sets(hs.integers(0, len(RULE_POOL) - 1)))
def test_violations_are_the_union_over_rules_and_point_into_the_plan(kitchen, two_robots, p, picked):
    """Each rule judges alone: the whole constitution finds exactly what its rules find one by one,
    every violation names a rule of the file and a subtask/step of the plan, with the rule's effect."""
    chosen = [RULE_POOL[i] for i in sorted(picked)]
    together = check(p, kitchen, two_robots, rules(*chosen))
    alone = [v for r in chosen for v in check(p, kitchen, two_robots, rules(r))]
    assert together == alone
    effects = {r["name"]: r.get("effect", "escalate" if r["kind"] == "ask_human" else "reject") for r in chosen}
    steps = {s.id: len(s.steps) for s in p.subtasks}
    for v in together:
        assert effects[v.rule] == v.effect
        if v.subtask_id is not None:
            assert 0 <= v.step_index < steps[v.subtask_id]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(p=plans())
def test_a_forbidden_object_is_found_exactly_where_it_is_touched(kitchen, two_robots, p):
    c = rules({"name": "no-eggs", "kind": "forbidden_objects", "objects": {"ids": ["Egg|1"]}})
    found = {(v.subtask_id, v.step_index) for v in check(p, kitchen, two_robots, c)}
    holding: dict[str, str | None] = {}
    expected = set()
    for s in con._order(p):
        for i, step in enumerate(s.steps):
            touched = {a for a in step.args.values() if isinstance(a, str)}
            if step.skill == "put" and holding.get(s.robot):
                touched.add(holding[s.robot])
            if "Egg|1" in touched:
                expected.add((s.id, i))
            if step.skill == "pick_up":
                holding[s.robot] = step.args["object"]
            elif step.skill in ("put", "drop"):
                holding[s.robot] = None
    assert found == expected


def test_messages_name_the_step_for_people(kitchen, two_robots):
    c = rules({"name": "no-eggs", "kind": "forbidden_objects", "objects": {"types": ["Egg"]}})
    p = plan_of(st("s1", "robot1", ("pick_up", {"object": "Egg|1"})))
    (v,) = check(p, kitchen, two_robots, c)
    assert re.search(r"subtask s1 step 1 \(robot1: pick_up Egg\|1\)", v.message)


def test_a_bad_rule_file_stops_the_service_at_start_in_one_line(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("rules:\n  - {name: x, kind: teleport}\n")
    env = {**os.environ, "ROBOCORTEX_CONSTITUTION": str(bad)}
    done = subprocess.run([sys.executable, "-m", "robocortex.agents.cli", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "constitution" in lines[0] and str(bad) in lines[0] and "teleport" in lines[0]
