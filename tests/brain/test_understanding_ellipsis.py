"""Ellipsis, references and negation as people say them: "do the same with X", "so does X", "… and then
off again", "neither X nor Y", "without V-ing X", a specific goal that makes an exception to a set's,
"there shouldn't be any X", the clitic "'s", "'em" and dashes. Same hand-made scene as
test_understanding.py."""

from __future__ import annotations

import pytest

from robocortex.brain.goal_language import Selector
from robocortex.brain.understanding import NotUnderstood
from robocortex.brain.understanding.lexicon import lexicon

from tests.brain.test_understanding import compact, goals, scene  # noqa: F401 - the scene fixture


@pytest.mark.parametrize("text", [
    "put the apple in the fridge and do the same with the tomato",
    "put the apple in the fridge, same for the tomato",
    "put the apple in the fridge and the same goes for the tomato",
    "the apple goes in the fridge and so does the tomato",
])
def test_the_same_repeats_the_last_verb_and_its_phrases_for_new_objects(scene, text):  # noqa: F811
    assert compact(goals(text, scene)) == ["Apple in Fridge", "Tomato in Fridge"]


def test_the_same_with_a_state_verb(scene):  # noqa: F811
    assert compact(goals("switch off the tv and do the same for the floor lamp", scene)) == [
        "Television isToggled=False", "FloorLamp isToggled=False"]


def test_a_bare_particle_after_then_is_the_last_verb_over_its_objects(scene):  # noqa: F811
    gs = goals("turn on the toaster and then off again", scene)
    assert compact(gs) == ["Toaster isToggled=True", "then Toaster isToggled=False"]


def test_neither_nor_negates_every_object(scene):  # noqa: F811
    gs = goals("neither the tv nor the floor lamp should be on", scene)
    assert compact(gs) == ["all Television isToggled=False", "all FloorLamp isToggled=False"]
    # "nor" alone is still a list word; an ordinary "and" negates nothing
    assert compact(goals("the tv and the floor lamp should be on", scene)) == [
        "Television isToggled=True", "FloorLamp isToggled=True"]


def test_without_doing_is_doing_not(scene):  # noqa: F811
    gs = goals("put the egg in the bowl without breaking it", scene)
    assert compact(gs) == ["Egg in Bowl", "Egg isBroken=False"]


def test_a_goal_opposite_to_a_set_goal_is_an_exception_to_the_set(scene):  # noqa: F811
    [g] = goals("turn off the lights without turning off the floor lamp", scene)
    assert g.subject.category == "lights" and g.subject.exclude == [Selector(type="FloorLamp")]
    assert g.condition.state == "isToggled" and g.condition.value is False
    [g] = goals("clear the counter, but leave the knife there", scene)
    assert g.subject.exclude == [Selector(type="Knife")] and g.condition.negate
    # a goal on the set's own type, or one that agrees with the set, is no exception
    gs = goals("turn off the lights and turn off the floor lamp", scene)
    assert all(not g.subject.exclude for g in gs)


def test_an_exception_said_after_the_place_belongs_to_the_objects(scene):  # noqa: F811
    [g] = goals("I want nothing on the counter except the knife", scene)
    assert g.subject.exclude == [Selector(type="Knife")]
    assert g.condition.target == Selector(type="CounterTop") and g.condition.negate


def test_an_indefinite_under_negation_means_none_at_all(scene):  # noqa: F811
    [g] = goals("there shouldn't be any fruit on the counter", scene)
    assert g.subject.category == "fruit" and g.subject.quantifier == "all" and g.condition.negate
    [g] = goals("don't leave a mug in the sink", scene)
    assert g.subject.quantifier == "all" and g.condition.negate


def test_clitic_s_is_is_unless_a_noun_follows():
    lex = lexicon()
    assert lex.clitics(["the", "towel", "'s", "on", "the", "floor"]) == ["the", "towel", "is", "on", "the", "floor"]
    assert lex.clitics(["the", "mug", "'s", "dirty", ","]) == ["the", "mug", "is", "dirty", ","]
    assert lex.clitics(["the", "cat", "'s", "bowl"]) == ["the", "cat", "bowl"]


def test_clitic_s_description_only_introduces_the_object(scene):  # noqa: F811
    assert compact(goals("the mug's on the counter, put it in the sink", scene)) == ["Mug in SinkBasin"]


def test_em_and_dashes(scene):  # noqa: F811
    assert compact(goals("grab the fork and the spoon and put 'em in a drawer", scene)) == [
        "Fork in Drawer", "Spoon in Drawer"]
    assert compact(goals("the fork and the spoon are on the table - put both in a drawer", scene)) == [
        "Fork in Drawer", "Spoon in Drawer"]


def test_the_other_noun_is_what_the_last_one_of_its_kind_leaves(scene):  # noqa: F811
    # one floor lamp: "the other light" is the noun's next type here; several drawers: the rest of them
    gs = goals("turn the floor lamp off and the other light on", scene)
    assert compact(gs) == ["FloorLamp isToggled=False", "LightSwitch isToggled=True"]
    with pytest.raises(NotUnderstood, match="other lamp"):  # the scene has one lamp
        goals("turn the floor lamp off and the other lamp on", scene)
    gs = goals("open a drawer and close the other drawers", scene)
    assert gs[1].subject.quantifier == "rest" and gs[1].subject.rest_of == 0 and gs[1].subject.type == "Drawer"
    gs = goals("put the apple in the fridge and the other fruit in the bowl", scene)
    assert gs[1].subject.category == "fruit" and gs[1].subject.quantifier == "rest"


def test_an_adjective_never_modifies_a_pronoun_or_a_bare_one(scene):  # noqa: F811
    # "…, cut it up, …" and "…, open one …" are verbs after a list, not "a cut it", "an open one"
    gs = goals("grab the potato, cut it up, then cook the slices", scene)
    assert compact(gs)[0] == "Potato isSliced=True" and gs[1].subject.piece and gs[1].stage == 1
    gs = goals("there are lots of drawers, open one and put the fork in it", scene)
    assert compact(gs) == ["Drawer isOpen=True", "Fork in Drawer"] and gs[0].subject.quantifier == "a"
    assert compact(goals("put dirty mugs in the sink", scene)) == ["all Mug (isDirty=True) in SinkBasin"]


def test_a_first_clause_pointing_at_an_object_only_introduces_it(scene):  # noqa: F811
    assert compact(goals("see the kettle on the stove? fill it with water", scene)) == [
        "Kettle isFilledWithLiquid=True (water)"]
    assert compact(goals("you know the cup on the table, put it in the sink", scene)) == ["Cup in SinkBasin"]


def test_back_closing_a_clause_is_where_it_was(scene):  # noqa: F811
    gs = goals("take the kettle off the stove. Wash it. Then put it back.", scene)
    assert compact(gs)[-1] == "then Kettle on StoveBurner"
    # "back" before a place is filler
    assert compact(goals("put the kettle back on the counter", scene)) == ["Kettle on CounterTop"]


def test_the_same_noun_is_the_noun_just_named(scene):  # noqa: F811
    assert compact(goals("put the fork in a drawer and the spoon in the same drawer", scene)) == [
        "Fork in Drawer", "Spoon in Drawer"]


def test_holding_a_tool_is_a_step(scene):  # noqa: F811
    gs = goals("grab the knife and slice the bread with the knife", scene)
    assert compact(gs) == ["Bread isSliced=True"]


def test_the_slices_after_cutting_several_things_are_the_pieces_of_each(scene):  # noqa: F811
    gs = goals("slice the apple and the tomato, then put the slices in the bowl", scene)
    assert [(g.subject.type, g.subject.piece, g.stage) for g in gs[2:]] == [("Apple", True, 1), ("Tomato", True, 1)]


def test_x_should_have_y_on_it(scene):  # noqa: F811
    [g] = goals("the counter should have nothing on it", scene)
    assert g.condition.target == Selector(type="CounterTop") and g.condition.negate
    [g] = goals("the table shouldn't have any fruit on it", scene)
    assert g.subject.category == "fruit" and g.subject.quantifier == "all" and g.condition.negate
    assert compact(goals("the bowl should have the apple in it", scene)) == ["Apple in Bowl"]
    # without a modal it describes the scene and only introduces what it names
    assert compact(goals("the counter has a mug on it, wash it", scene)) == ["Mug isDirty=False"]


def test_state_words_joined_by_and_or_share_the_verb_and_its_negation(scene):  # noqa: F811
    assert compact(goals("don't leave the microwave open or on", scene)) == [
        "Microwave isOpen=False", "Microwave isToggled=False"]
    assert compact(goals("leave the microwave open and on", scene)) == [
        "Microwave isOpen=True", "Microwave isToggled=True"]


def test_there_should_be_no_adjective_noun_asks_for_the_state(scene):  # noqa: F811
    [g] = goals("there should be no dirty dishes anywhere", scene)
    assert g.subject.category == "dishes" and g.subject.quantifier == "all" and not g.subject.states
    assert (g.condition.state, g.condition.value) == ("isDirty", False)
    assert compact(goals("there should be a clean mug", scene)) == ["Mug isDirty=False"]


def test_a_verbless_topic_taken_up_by_a_pronoun_is_no_goal(scene):  # noqa: F811
    [g] = goals("the kettle on the stove — move it to the counter", scene)
    assert g.subject.type == "Kettle" and g.condition.target == Selector(type="CounterTop")
    # a verbless list of outcomes is still goals
    assert compact(goals("the floor lamp on, the tv off", scene)) == [
        "FloorLamp isToggled=True", "Television isToggled=False"]


def test_lying_around_is_filler(scene):  # noqa: F811
    [g] = goals("don't leave anything lying around on the counter", scene)
    assert g.condition.target == Selector(type="CounterTop") and g.condition.negate


def test_a_whole_switched_by_its_parts_is_off_when_every_part_is(scene):  # noqa: F811
    [g] = goals("turn off the stove", scene)
    assert (g.subject.type, g.subject.quantifier, g.condition.value) == ("StoveKnob", "all", False)
    [g] = goals("turn on the stove", scene)
    assert (g.subject.type, g.subject.quantifier, g.condition.value) == ("StoveKnob", "a", True)  # one burner
    [g] = goals("don't leave the stove on", scene)  # no burner on: every knob off
    assert (g.subject.type, g.subject.quantifier, g.condition.value) == ("StoveKnob", "all", False)


def test_a_part_is_named_by_what_it_belongs_to(scene):  # noqa: F811
    assert compact(goals("keep the fridge door shut", scene)) == ["Fridge isOpen=False"]
    with pytest.raises(NotUnderstood, match="door"):
        goals("close the door", scene)


def test_more_wishes_and_negations(scene):  # noqa: F811
    assert compact(goals("I'd rather the tv stayed off", scene)) == ["Television isToggled=False"]
    [g] = goals("no more knives on the counter", scene)
    assert g.subject.quantifier == "all" and g.condition.negate


def test_a_lone_receptacle_after_or_is_another_place_under_negation(scene):  # noqa: F811
    gs = goals("nothing should be left in the microwave or the fridge", scene)
    assert [(g.condition.target.type, g.condition.negate) for g in gs] == [("Microwave", True), ("Fridge", True)]
    gs = goals("don't put anything in the microwave or the fridge", scene)
    assert [(g.condition.target.type, g.condition.negate) for g in gs] == [("Microwave", True), ("Fridge", True)]
    # a pickupable remnant is still another object ("… and the plate"); an alternative place is no goal
    assert compact(goals("put the mug in the sink and the plate", scene)) == ["Mug in SinkBasin", "Plate in SinkBasin"]
    assert compact(goals("put the knife in the sink or the fridge", scene)) == ["Knife in SinkBasin"]


def test_clear_x_off_y_is_x_off_y(scene):  # noqa: F811
    [g] = goals("clear everything off the counter except the knife", scene)
    assert g.subject.exclude == [Selector(type="Knife")] and g.condition.target == Selector(type="CounterTop")
    assert g.condition.negate
    [g] = goals("clear the counter", scene)  # the place as the object: still everything off it
    assert g.condition.target == Selector(type="CounterTop") and g.condition.negate


def test_a_contrast_with_not_adds_nothing(scene):  # noqa: F811
    assert compact(goals("the tv should be switched off, not on", scene)) == ["Television isToggled=False"]
    assert compact(goals("put the mug in the sink, not on the counter", scene)) == ["Mug in SinkBasin"]


def test_whatever_is_there_and_burning(scene):  # noqa: F811
    [g] = goals("grab whatever's in the sink and put it on the counter", scene)
    assert g.subject.located is not None and g.subject.located.target == Selector(type="SinkBasin")
    [g] = goals("no candles should be left burning", scene)
    assert (g.subject.type, g.subject.quantifier, g.condition.value) == ("Candle", "all", False)


def test_there_after_taking_something_off_a_place_is_on_that_place(scene):  # noqa: F811
    gs = goals("take the knife off the counter and put the fork there instead", scene)
    assert [(g.subject.type, g.condition.negate) for g in gs] == [("Knife", True), ("Fork", False)]
    assert gs[1].condition.target == Selector(type="CounterTop")


def test_time_adverbs_leave_the_end_state_as_it_is(scene):  # noqa: F811
    assert compact(goals("the tv shouldn't be left on overnight", scene)) == ["Television isToggled=False"]


def test_a_correction_word_before_the_same_adds_rather_than_replaces(scene):  # noqa: F811
    assert compact(goals("put the bread in the fridge. Actually, do the same with the tomato too", scene)) == [
        "Bread in Fridge", "Tomato in Fridge"]
    assert compact(goals("put the bread in the fridge... actually, the tomato", scene)) == ["Tomato in Fridge"]


def test_but_after_nothing_is_an_exception_not_another_place(scene):  # noqa: F811
    [g] = goals("make sure nothing's left on the counter but the knife", scene)
    assert g.subject.exclude == [Selector(type="Knife")] and g.condition.target == Selector(type="CounterTop")


def test_a_pronoun_in_a_verbs_phrase_is_not_that_verbs_object(scene):  # noqa: F811
    # "it" in "slice the bread with it" is the knife, so holding the knife is a step (a tool)
    gs = goals("grab the bread and the knife; slice the bread with it", scene)
    assert compact(gs) == ["Bread isSliced=True"]
    # with nothing else to refer to, the object itself is still found
    assert compact(goals("grab the mug and fill it with water", scene))[-1] == "Mug isFilledWithLiquid=True (water)"


def test_a_gapped_object_joins_the_list_it_continues(scene):  # noqa: F811
    # "them" after "pick up A, then B" is A and B
    assert compact(goals("pick up the fork, then the spoon, and put them in a drawer", scene)) == [
        "Fork in Drawer", "Spoon in Drawer"]


def test_everything_else_is_everything_not_named_before(scene):  # noqa: F811
    gs = goals("put the apple in the fridge and everything else in the sink", scene)
    assert gs[1].subject.exclude == [Selector(type="Apple")] and gs[1].subject.quantifier == "all"
    gs = goals("leave the floor lamp on but turn everything else off", scene)
    assert gs[0].subject.type == "FloorLamp" and gs[0].condition.value is True
    assert "FloorLamp" not in {g.subject.type for g in gs[1:]} and all(g.condition.value is False for g in gs[1:])


def test_an_exclusion_after_a_comma_leaves_things_out_of_the_sets(scene):  # noqa: F811
    gs = goals("switch off the tv and the lights, apart from the floor lamp", scene)
    assert gs[0].subject.type == "Television" and not gs[0].subject.exclude
    assert gs[1].subject.category == "lights" and gs[1].subject.exclude == [Selector(type="FloorLamp")]
