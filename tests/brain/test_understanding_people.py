"""Rules of H-lang's third session (docs/language.md, "People's phrasing"): informal spellings, run-on
verbs, "the one on X" with nothing said before it, parts of a set counted on the scene, "either … or",
"leave X alone", "set X down", a contrast with a bare noun phrase, a part named alone, "the other one" /
"the rest" of a list. Same hand-made scene as test_understanding.py."""

from __future__ import annotations

import pytest

from robocortex.brain.understanding import NotUnderstood
from robocortex.memory.schemas import SceneSnapshot

from tests.brain.test_understanding import _obj, compact, goals, scene  # noqa: F401 - the scene fixture


def test_informal_spellings_are_the_words_they_stand_for(scene):  # noqa: F811
    assert compact(goals("can u pls open the fridge thx", scene)) == ["Fridge isOpen=True"]
    assert compact(goals("dont leave the tv on", scene)) == ["Television isToggled=False"]


def test_a_verb_with_no_connective_starts_the_next_item(scene):  # noqa: F811
    assert compact(goals("grab the cup rinse it fill it and put it on the counter", scene)) == [
        "Cup isDirty=False", "Cup isFilledWithLiquid=True", "Cup on CounterTop"]


def test_the_one_on_a_place_with_nothing_said_before(scene):  # noqa: F811
    assert compact(goals("grab the one on the stove", scene)) == ["Kettle held"]
    # what the verb needs picks among what is there: one thing on the counter cooks, two on the table switch
    [g] = goals("cook the one on the counter", scene)
    assert (g.subject.type, g.condition.state) == ("Potato", "isCooked")
    with pytest.raises(NotUnderstood, match="candle, cell phone"):
        goals("switch off the one on the dining table", scene)
    with pytest.raises(NotUnderstood, match="one") as refused:  # several things on the counter
        goals("put the one on the counter in the fridge", scene)
    assert "apple" in str(refused.value) and "knife" in str(refused.value)
    # with a list before it, "the one on the counter" is the one of them that is there
    gs = goals("take the apples, put the one on the counter in the fridge", scene)
    assert [(g.subject.type, g.subject.located.target.type) for g in gs if g.condition.relation] == [
        ("Apple", "CounterTop")]


@pytest.mark.parametrize("text, quantifier, count", [
    ("open half of the drawers", "exactly", 1),
    ("open half the drawers", "exactly", 1),
    ("open most of the drawers", "at_least", 2),
    ("open all but one of the drawers", "exactly", 2),
    ("open every drawer but one", "exactly", 2),
    ("open all the drawers but one", "exactly", 2),
])
def test_parts_of_a_set_are_counted_on_the_scene(scene, text, quantifier, count):  # noqa: F811
    [g] = goals(text, scene)
    assert (g.subject.type, g.subject.quantifier, g.subject.count) == ("Drawer", quantifier, count)


def test_a_part_the_set_is_too_small_for_is_refused(scene):  # noqa: F811
    with pytest.raises(NotUnderstood, match="half"):
        goals("slice half of the potatoes", scene)  # one potato
    with pytest.raises(NotUnderstood, match="all but one"):
        goals("turn on all but one of the toasters", scene)


def test_either_or_asks_for_one_alternative(scene):  # noqa: F811
    assert compact(goals("put the potato in either the fridge or the bowl", scene)) == ["Potato in Fridge"]
    assert compact(goals("turn on either the tv or the floor lamp", scene)) == ["Television isToggled=True"]
    # under a negation, neither
    assert compact(goals("don't turn on either the tv or the floor lamp", scene)) == [
        "Television isToggled=False", "FloorLamp isToggled=False"]


def test_leave_alone_keeps_an_object_where_it_is(scene):  # noqa: F811
    assert compact(goals("leave the candle alone and put the fork in a drawer", scene)) == [
        "Candle on DiningTable", "Fork in Drawer"]
    [g] = goals("clear the dining table but leave the candle alone", scene)
    assert g.condition.negate and [e.type for e in g.subject.exclude] == ["Candle"]


def test_down_is_letting_go_of_what_cannot_be_switched(scene):  # noqa: F811
    assert compact(goals("set the cup down", scene)) == ["Cup not held"]
    assert compact(goals("turn the floor lamp down", scene)) == ["FloorLamp isToggled=False"]
    assert compact(goals("set the cup down on the table", scene)) == ["Cup on DiningTable"]


def test_a_contrast_with_a_bare_noun_phrase_adds_nothing(scene):  # noqa: F811
    assert compact(goals("put the knife in the sink, not the fork", scene)) == ["Knife in SinkBasin"]
    assert compact(goals("the knife belongs in the sink, not the counter", scene)) == ["Knife in SinkBasin"]


def test_a_part_named_alone_belongs_to_what_was_just_named(scene):  # noqa: F811
    assert compact(goals("put the egg in the microwave and shut the door", scene)) == [
        "Egg in Microwave", "Microwave isOpen=False"]
    with pytest.raises(NotUnderstood, match="door"):
        goals("shut the door", scene)


def test_the_other_one_and_the_rest_of_a_list(scene):  # noqa: F811
    assert compact(goals("grab the tomato and the potato, put the first one in the fridge and the other one "
                         "in the bowl", scene)) == ["Tomato in Fridge", "Potato in Bowl"]
    assert compact(goals("wash the plate and the bowl, then put the plate in a cabinet and the rest on the table",
                         scene)) == ["Plate isDirty=False", "Bowl isDirty=False", "then Plate in Cabinet",
                                     "then Bowl on DiningTable"]


def test_steps_of_getting_somewhere_are_no_goal_and_name_the_place(scene):  # noqa: F811
    assert compact(goals("Walk to the counter. Pick up the knife. Put the knife in the sink.", scene)) == [
        "Knife in SinkBasin"]
    assert compact(goals("turn around and go to the fridge, then open it", scene)) == ["Fridge isOpen=True"]
    assert compact(goals("head over to the table, grab the fork and drop it in the sink", scene)) == [
        "Fork in SinkBasin"]
    # a verb of moving with an object is still a verb
    assert compact(goals("move the knife to the sink", scene)) == ["Knife in/on SinkBasin"]
    assert compact(goals("turn on the tv and go to the fridge", scene)) == ["Television isToggled=True"]


def test_a_list_missing_its_comma_between_compound_nouns(scene):  # noqa: F811
    # two compound nouns in a row are two things; one word before a noun still modifies it
    assert compact(goals("turn off the floor lamp coffee machine and the tv", scene)) == [
        "FloorLamp isToggled=False", "CoffeeMachine isToggled=False", "Television isToggled=False"]
    assert [g.subject.type for g in goals("put the coffee mug in the sink", scene)] == ["Mug"]


def test_informal_words_and_greetings(scene):  # noqa: F811
    assert compact(goals("theres a mug on the counter, fill it with water", scene))[-1] == \
        "Mug isFilledWithLiquid=True (water)"
    assert compact(goals("hi there! could you put the knife in the sink", scene)) == ["Knife in SinkBasin"]
    assert compact(goals("dont want the knife on the counter", scene)) == ["Knife not on CounterTop"]


def test_out_is_off_for_what_switches(scene):  # noqa: F811
    assert compact(goals("i want the floor lamp out", scene)) == ["FloorLamp isToggled=False"]
    assert compact(goals("take the egg out", scene)) == ["Egg not in Fridge"]


def test_a_located_noun_of_several_types_is_the_type_found_there(scene):  # noqa: F811
    nodes = dict(scene.nodes)
    nodes["DeskLamp|1"] = _obj("DeskLamp|1", "DeskLamp", "DiningTable|1", toggleable=True)
    lamps = SceneSnapshot(rev=1, nodes=nodes)
    # "lamp" names the floor lamp first; the one on the table is the desk lamp, and the other one the floor lamp
    assert compact(goals("turn on the lamp on the dining table and turn off the other one", lamps)) == [
        "DeskLamp (on DiningTable) isToggled=True", "FloorLamp isToggled=False"]
    [g] = goals("put the knife on the dining table in the sink", scene)
    assert g.subject.type == "Knife"  # one type: the filter stays as it is


def test_lit_up_is_lit(scene):  # noqa: F811
    [g] = goals("get the kitchen lit up", scene)
    assert (g.subject.category, g.subject.quantifier, g.condition.value) == ("lights", "all", True)


def test_in_there_is_the_last_place(scene):  # noqa: F811
    assert compact(goals("put the fork in a drawer and the spoon in there too", scene)) == [
        "Fork in Drawer", "Spoon in Drawer"]


def test_a_state_word_on_an_object_being_placed_is_also_wished(scene):  # noqa: F811
    # no potato is cooked yet: "a heated potato" asks for it cooked, and on the plate
    assert compact(goals("Put a heated potato on the plate.", scene)) == ["Potato isCooked=True", "Potato on Plate"]
    assert compact(goals("put a rinsed cup in the sink", scene)) == ["Cup isDirty=False", "Cup in SinkBasin"]
    # one mug of two is dirty: the word picks it, and asks nothing more
    [g] = goals("put a dirty mug in the cabinet", scene)
    assert g.subject.states == {"isDirty": True} and g.condition.relation == "in"


def test_a_question_that_names_nothing_is_dropped(scene):  # noqa: F811
    assert compact(goals("hi, what should I do today? -- open the fridge please", scene)) == ["Fridge isOpen=True"]


def test_a_wished_state_only_a_piece_takes_goes_to_the_pieces(scene):  # noqa: F811
    assert compact(goals("we need a cooked egg on the plate", scene)) == [
        "piece of Egg isCooked=True", "piece of Egg on Plate"]


def test_go_back_is_a_step(scene):  # noqa: F811
    gs = goals("put the knife in the sink. Then go back and turn the tv off.", scene)
    assert [(g.describe(), g.stage) for g in gs] == [("Knife in SinkBasin", 0), ("then Television isToggled=False", 1)]


def test_use_a_tool_to_do_something(scene):  # noqa: F811
    assert compact(goals("grab the knife. use it to slice the bread", scene)) == ["Bread isSliced=True"]
    assert compact(goals("use the spoon to wash the plate, then put it in a cabinet", scene))[0] == \
        "Plate isDirty=False"


def test_a_piece_of_each_and_a_wish_for_a_product(scene):  # noqa: F811
    gs = goals("cut the tomato and the bread, then put a slice of each on the plate", scene)
    assert [g.describe() for g in gs if g.stage == 1] == ["then piece of Tomato on Plate",
                                                           "then piece of Bread on Plate"]
    [g] = goals("I'd like toast", scene)
    assert (g.subject.type, g.subject.piece, g.condition.state) == ("Bread", True, "isCooked")


def test_out_of_the_way_says_no_place(scene):  # noqa: F811
    assert compact(goals("get the plate out of the way, put it in the sink", scene)) == ["Plate in SinkBasin"]
    with pytest.raises(NotUnderstood, match="where"):
        goals("move the plate out of the way", scene)
