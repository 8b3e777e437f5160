"""Suite loading and validation: the built-in suite is well formed, and a task that names what its
scene lacks (or asks the impossible, or the already true) is rejected with a clear message."""

from __future__ import annotations

from collections import Counter

import pytest

from robocortex.evaluation.suite import CATEGORIES, SuiteError, builtin_suites, load_suite, parse_suite

TASK = """
name: mine
tasks:
  - id: {id}
    scene: {scene}
    category: elemental
    robots: [{robot}]
    instruction: {instruction}
    goals:
      - {goal}
"""


def write(tmp_path, **fields):
    values = dict(id="t1", scene="Kitchen-0", robot="mobile_manipulator", instruction="put the apple in the fridge",
                  goal="{object: Apple, relation: in, target: Fridge}")
    values.update(fields)
    path = tmp_path / "mine.yaml"
    path.write_text(TASK.format(**values))
    return str(path)


def test_builtin_suite_covers_rooms_categories_and_team_sizes():
    suite = load_suite("builtin")
    assert len(suite.tasks) >= 40
    assert set(Counter(t.room for t in suite.tasks)) == {"Kitchen", "LivingRoom", "Bedroom", "Bathroom"}
    assert set(Counter(t.category for t in suite.tasks)) == set(CATEGORIES)
    assert {len(t.robots) for t in suite.tasks} == {1, 2, 3, 4}
    assert {p for t in suite.tasks for p in t.robots} == {"mobile_manipulator", "light_manipulator", "fixed_arm",
                                                          "mobile_base"}
    assert "builtin" in builtin_suites()


def test_a_valid_file_loads(tmp_path):
    suite = load_suite(write(tmp_path))
    assert suite.tasks[0].goals[0].describe() == "Apple in Fridge"
    assert suite.timeout_for(suite.tasks[0]) == suite.timeout_s


def test_yaml_on_is_the_word_not_a_boolean():
    suite = parse_suite(TASK.format(id="t", scene="Kitchen-0", robot="x", instruction="put the apple on the table",
                                    goal="{object: Apple, relation: on, target: DiningTable}"), "t.yaml")
    assert suite.tasks[0].goals[0].relation == "on"


@pytest.mark.parametrize("fields, message", [
    (dict(goal="{object: Pumpkin, relation: in, target: Fridge}"),
     "task t1: goal 'Pumpkin in Fridge': scene Kitchen-0 has no Pumpkin"),
    (dict(goal="{object: Apple, relation: in, target: Bathtub}"),
     "task t1: goal 'Apple in Bathtub': scene Kitchen-0 has no Bathtub"),
    (dict(instruction="put the apple and the laptops in the fridge"),
     "task t1: the instruction names 'laptop', and scene Kitchen-0 has no laptop"),
    (dict(scene="Bathroom-0", instruction="put the towel on the toilet", goal="{object: Towel, relation: on, target: Toilet}"),
     "AI2-THOR's placement rules do not allow a Towel in or on a Toilet"),
    (dict(goal="{object: LightSwitch, state: isToggled, value: true}", instruction="turn on the light"),
     "goal 'LightSwitch isToggled=True' already holds at the start"),
    (dict(goal="{object: Apple, state: isOpen, value: true}", instruction="open the apple"),
     "goal 'Apple isOpen=True': a Apple is not openable"),
    (dict(goal="{object: Apple, state: isShiny, value: true}"), "goals.0.condition.state: Input should be 'isOpen'"),
    (dict(robot="flying_car"), "task t1: unknown robot profile 'flying_car'"),
    (dict(scene="Garage-1"), "task t1: unknown scene 'Garage-1'"),
])
def test_a_bad_task_is_rejected_with_the_task_and_the_reason(tmp_path, fields, message):
    with pytest.raises(SuiteError) as err:
        load_suite(write(tmp_path, **fields))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_names_inside_longer_names_are_not_mentions(tmp_path):
    # "bottle" inside "soap bottle": the bathroom has no Bottle, but that is not what was asked for
    load_suite(write(tmp_path, scene="Bathroom-0", instruction="put the soap bottle in the garbage can",
                     goal="{object: SoapBottle, relation: in, target: GarbageCan}"))


def test_shape_errors_name_the_task(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(TASK.format(id="t9", scene="Kitchen-0", robot="mobile_manipulator", instruction="x",
                                goal="{object: Apple}").replace("elemental", "heroic"))
    with pytest.raises(SuiteError, match=r"bad.yaml: task t9: category: Input should be 'elemental'"):
        load_suite(str(path))


def test_duplicate_ids_and_unknown_suites_are_rejected(tmp_path):
    path = tmp_path / "twice.yaml"
    one = TASK.format(id="same", scene="Kitchen-0", robot="mobile_manipulator", instruction="x",
                      goal="{object: Apple, relation: in, target: Fridge}")
    path.write_text(one + one.split("tasks:\n")[1])
    with pytest.raises(SuiteError, match="repeated: same"):
        load_suite(str(path))
    with pytest.raises(SuiteError, match="unknown suite 'nope'.*builtin"):
        load_suite("nope")


@pytest.mark.thor_data
def test_floor_plan_suite_validates_against_the_layouts():
    import os

    data = os.environ.get("ROBOCORTEX_THOR_DATA")
    if not data:
        pytest.skip("needs ROBOCORTEX_THOR_DATA")
    suite = load_suite("floorplans", thor_data=data)
    assert all(t.scene.startswith("FloorPlan") and t.room == "FloorPlan" for t in suite.tasks)


@pytest.mark.parametrize("fields, message", [
    (dict(goal="{object: {category: fruit, quantifier: all}, relation: in, target: Toaster}",
          instruction="put the fruit in the toaster"),
     "AI2-THOR's placement rules do not allow a Apple in or on a Toaster"),
    (dict(goal="{object: {category: snacks, quantifier: all}, relation: in, target: Fridge}", instruction="x"),
     "unknown category 'snacks'"),
    (dict(goal="{object: {category: toys, quantifier: all}, relation: in, target: Fridge}", instruction="x"),
     "scene Kitchen-0 has no all [toys]"),
    (dict(goal="{object: {type: Drawer, quantifier: exactly, count: 9}, state: isOpen, value: true}",
          instruction="open nine drawers"), "scene Kitchen-0 has only 4"),
    (dict(goal="{object: {type: Knife, piece: true}, relation: in, target: Fridge}", instruction="x"),
     "a Knife cannot be sliced"),
    (dict(goal="{object: {type: Apple, quantifier: rest, rest_of: 3}, relation: in, target: Fridge}",
          instruction="x"), "'rest' refers to goal 3"),
    (dict(goal="{object: Fridge, held: true}", instruction="hold the fridge"), "a Fridge cannot be picked up"),
    (dict(goal="{object: Apple, relation: in, target: Fridge, when: [{object: Potato, state: isCooked, value: true}]}",
          instruction="x"), "its condition does not hold at the start"),
    (dict(goal="{object: Apple, relation: in, target: Fridge, when: [{object: Banana, held: true}]}",
          instruction="x"), "condition goal 'Banana held': scene Kitchen-0 has no Banana"),
    (dict(goal="{object: {quantifier: all}, relation: on, target: DiningTable, negate: true}",
          instruction="clear the dining table"), "already holds at the start"),
])
def test_goal_language_shapes_are_checked_against_the_scene(tmp_path, fields, message):
    with pytest.raises(SuiteError) as err:
        load_suite(write(tmp_path, **fields))
    assert message in str(err.value)


@pytest.mark.parametrize("scene, goal", [
    ("Kitchen-0", "{object: {category: fruit, quantifier: all}, relation: in, target: Fridge}"),  # the fruit
    ("Kitchen-0", "{object: {type: Tomato, piece: true, quantifier: a}, relation: in, target: Fridge}"),  # a slice
    ("Kitchen-0", "{object: {type: Bread, piece: true}, relation: in, target: Toaster}"),  # slices fit a toaster
    ("Kitchen-0", "{object: Apple, temperature: Cold}"),
    ("Kitchen-0", "{object: {category: pickupables, quantifier: all}, relation: on, target: CounterTop, negate: true}"),
    ("LivingRoom-2", "{object: {category: lights, quantifier: all}, state: isToggled, value: false}"),  # dark
    ("Kitchen-0", "{object: Pot, relation: in, target: SinkBasin, when: [{object: Pot, state: isDirty, value: true}]}"),
    ("Kitchen-0", "{object: {type: Drawer, quantifier: at_least, count: 2}, state: isOpen, value: true}"),
])
def test_goal_language_shapes_that_can_be_achieved_load(tmp_path, scene, goal):
    load_suite(write(tmp_path, scene=scene, instruction="x", goal=goal))


def test_turning_on_all_of_a_category_needs_every_member_to_have_a_switch(tmp_path):
    with pytest.raises(SuiteError, match="a RemoteControl is not toggleable"):
        load_suite(write(tmp_path, scene="LivingRoom-0", instruction="x",
                         goal="{object: {category: electronics, quantifier: all}, state: isToggled, value: true}"))


def test_whole_bread_does_not_fit_a_toaster(tmp_path):
    with pytest.raises(SuiteError, match="do not allow a Bread in or on a Toaster"):
        load_suite(write(tmp_path, instruction="x", goal="{object: Bread, relation: in, target: Toaster}"))


def test_natural_tasks_name_their_phrasing_class():
    from robocortex.evaluation.suite import PHRASINGS

    suite = load_suite("builtin")
    natural = [t for t in suite.tasks if t.phrasing]
    assert len(natural) >= 60 and len(suite.tasks) - len(natural) == 47
    assert set(t.phrasing for t in natural) == set(PHRASINGS)
    shapes = [g for t in natural for g in t.goals]
    assert any(g.subject.quantifier == "all" for g in shapes)
    assert any(g.subject.quantifier in ("exactly", "at_least") for g in shapes)
    assert any(g.subject.category for g in shapes) and any(g.subject.piece for g in shapes)
    assert any(g.condition.negate for g in shapes) and any(g.when for g in shapes) and any(g.stage for g in shapes)
    # teams no single robot can serve: a fixed arm with a base or a light arm
    assert sum(1 for t in natural if "fixed_arm" in t.robots and "mobile_manipulator" not in t.robots) >= 5


def test_a_phrasing_outside_the_classes_is_rejected(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(TASK.format(id="t1", scene="Kitchen-0", robot="mobile_manipulator", instruction="x",
                                goal="{object: Apple, relation: in, target: Fridge}")
                    .replace("category: elemental", "category: elemental\n    phrasing: shouting"))
    with pytest.raises(SuiteError, match="task t1: phrasing: Input should be 'list'"):
        load_suite(str(path))


def test_natural_tasks_leave_room_for_what_they_place():
    """By the emulator's placement geometry; the one crowded built-in task is meant to be (the team
    must clear the dresser first), and the check finds it."""
    from robocortex.evaluation.suite import crowded_placements

    suite = load_suite("builtin")
    crowded = [p for t in suite.tasks for p in crowded_placements(t)]
    assert crowded == ["task bedroom-compound-base-racket: no room for the tennis racket in or on the dresser"]


def test_a_full_receptacle_is_reported(tmp_path):
    from robocortex.evaluation.suite import crowded_placements

    suite = load_suite(write(tmp_path, scene="Bathroom-4", instruction="x", goal="{object: {category: toiletries, "
                             "quantifier: all, located: {relation: on, target: CounterTop}}, relation: in, target: GarbageCan}"))
    assert crowded_placements(suite.tasks[0])


@pytest.mark.parametrize("scene, goal, message", [
    ("Bedroom-2", "{object: {category: pickupables, quantifier: all}, relation: on, target: Bed, negate: true}",
     "allow a Pillow nowhere else in the scene"),  # a bedroom's pillow lives on the bed
    ("Bathroom-0", "{object: Towel, relation: on, target: TowelHolder, negate: true}",
     "allow a Towel nowhere else in the scene"),
    ("Bedroom-0", "{object: {quantifier: all}, relation: on, target: Desk, negate: true}",
     "the desk lamp there cannot be moved; say category 'pickupables'"),
])
def test_emptying_a_place_needs_somewhere_else_for_its_objects(tmp_path, scene, goal, message):
    with pytest.raises(SuiteError, match=message):
        load_suite(write(tmp_path, scene=scene, instruction="x", goal=goal))
