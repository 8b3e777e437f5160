"""Every standard skill, run by the executor in the emulator, with the scene graph in a real Redis:
the world ends in the state the skill promises, and the scene graph agrees with it."""

from __future__ import annotations

from robocortex.cerebellum.skills import SKILLS

from tests.cerebellum.robots import Team, events_of, run_steps


def holds(team: Team, robot) -> str | None:
    inventory = team.world.metadata(robot.profile.agent_id)["inventoryObjects"]
    return inventory[0]["objectId"] if inventory else None


def test_navigate_to_ends_where_the_target_is_visible(team: Team):
    robot = team.robot("r1", 0)
    fridge = team.oid("Fridge")
    result = run_steps(robot, ("navigate_to", {"object": fridge}))
    assert result.success, result.error
    seen = {o["objectId"]: o for o in team.world.metadata(0)["objects"]}
    assert seen[fridge]["visible"]
    assert team.scene.node("r1").position.x == team.world.metadata(0)["agent"]["position"]["x"]


def test_pick_up_puts_the_object_in_hand(team: Team):
    robot, apple = team.robot("r1", 0), team.oid("Apple")
    result = run_steps(robot, ("navigate_to", {"object": apple}), ("pick_up", {"object": apple}))
    assert result.success, result.error
    assert holds(team, robot) == apple
    assert team.scene.node("r1").holding == apple and team.scene.node(apple).isPickedUp


def test_put_in_a_closed_fridge_opens_it_first(team: Team):
    robot, apple, fridge = team.robot("r1", 0), team.oid("Apple"), team.oid("Fridge")
    result = run_steps(robot, ("navigate_to", {"object": apple}), ("pick_up", {"object": apple}),
                       ("navigate_to", {"object": fridge}), ("put", {"receptacle": fridge}))
    assert result.success, result.error
    assert team.truth(apple)["parentReceptacles"] == [fridge]
    assert team.scene.node(apple).parents() == [fridge] and team.scene.node(apple).relations[0].rel == "in"
    assert ("thought", f"{fridge} is closed: opening it first") in events_of(team, result)


def test_drop_releases_the_held_object(team: Team):
    robot, apple = team.robot("r1", 0), team.oid("Apple")
    result = run_steps(robot, ("navigate_to", {"object": apple}), ("pick_up", {"object": apple}), ("drop", {}))
    assert result.success, result.error
    assert holds(team, robot) is None and not team.truth(apple)["isPickedUp"]
    assert team.scene.node(apple).parents() == team.truth(apple)["parentReceptacles"]


def test_a_dropped_object_is_picked_up_again(team: Team):
    robot, apple, fridge = team.robot("r1", 0), team.oid("Apple"), team.oid("Fridge")
    assert run_steps(robot, ("navigate_to", {"object": apple}), ("pick_up", {"object": apple}), ("drop", {})).success
    assert team.truth(apple)["parentReceptacles"] == [team.oid("Floor")]
    result = run_steps(robot, ("navigate_to", {"object": apple}), ("pick_up", {"object": apple}),
                       ("navigate_to", {"object": fridge}), ("put", {"receptacle": fridge}))
    assert result.success, result.error
    assert team.truth(apple)["parentReceptacles"] == [fridge]


def test_low_targets_are_reached_crouching_then_the_robot_stands_again(team: Team):
    """What only a crouching pose reaches (AI2-THOR's standing=False poses; here the floor itself)
    is approached crouching; the next standing target makes the robot stand up again."""
    robot = team.robot("r1", 0)
    assert run_steps(robot, ("navigate_to", {"object": team.oid("Floor")})).success
    assert team.world.metadata(0)["agent"]["isStanding"] is False
    assert run_steps(robot, ("navigate_to", {"object": team.oid("Fridge")})).success
    assert team.world.metadata(0)["agent"]["isStanding"] is True


def test_open_and_close(team: Team):
    robot, cabinet = team.robot("r1", 0), team.oid("Cabinet")
    result = run_steps(robot, ("open", {"object": cabinet}))
    assert result.success, result.error
    assert team.truth(cabinet)["isOpen"] and team.scene.node(cabinet).isOpen
    result = run_steps(robot, ("close", {"object": cabinet}))
    assert result.success, result.error
    assert not team.truth(cabinet)["isOpen"] and not team.scene.node(cabinet).isOpen


def test_toggle_on_and_off(team: Team):
    robot, faucet, light = team.robot("r1", 0), team.oid("Faucet"), team.oid("LightSwitch")
    result = run_steps(robot, ("toggle_on", {"object": faucet}))
    assert result.success, result.error
    assert team.truth(faucet)["isToggled"] and team.scene.node(faucet).isToggled
    assert team.truth(light)["isToggled"], "the kitchen light starts on"
    result = run_steps(robot, ("toggle_off", {"object": light}))
    assert result.success, result.error
    assert not team.truth(light)["isToggled"] and team.scene.node(light).isToggled is False


def test_slice_with_a_knife_in_hand(team: Team):
    robot, knife, tomato = team.robot("r1", 0), team.oid("Knife"), team.oid("Tomato")
    without = run_steps(robot, ("slice", {"object": tomato}))
    assert not without.success and without.failure_kind == "precondition"
    assert "needs a Knife or ButterKnife in hand" in without.error
    result = run_steps(robot, ("pick_up", {"object": knife}), ("slice", {"object": tomato}))
    assert result.success, result.error
    assert team.truth(tomato)["isSliced"] and team.scene.node(tomato).isSliced
    assert any(o["objectType"] == "TomatoSliced" for o in team.world.metadata(0)["objects"])


def test_break(team: Team):
    robot, plate = team.robot("r1", 0), team.oid("Plate")
    result = run_steps(robot, ("break", {"object": plate}))
    assert result.success, result.error
    assert team.truth(plate)["isBroken"] and team.scene.node(plate).isBroken


def test_clean_a_dirty_pot(team: Team):
    robot, pot = team.robot("r1", 0), team.oid("Pot")
    assert team.truth(pot)["isDirty"]
    result = run_steps(robot, ("clean", {"object": pot}))
    assert result.success, result.error
    assert not team.truth(pot)["isDirty"] and team.scene.node(pot).isDirty is False


def test_fill_then_empty(team: Team):
    robot, cup = team.robot("r1", 0), team.oid("Cup")
    result = run_steps(robot, ("fill", {"object": cup, "liquid": "water"}))
    assert result.success, result.error
    assert team.truth(cup)["isFilledWithLiquid"] and team.truth(cup)["fillLiquid"] == "water"
    assert team.scene.node(cup).fillLiquid == "water"
    result = run_steps(robot, ("empty", {"object": cup}))
    assert result.success, result.error
    assert not team.truth(cup)["isFilledWithLiquid"] and team.scene.node(cup).isFilledWithLiquid is False


def test_cook_in_the_microwave(team: Team):
    robot, potato, microwave = team.robot("r1", 0), team.oid("Potato"), team.oid("Microwave")
    result = run_steps(robot, ("pick_up", {"object": potato}), ("cook", {"object": potato, "appliance": microwave}))
    assert result.success, result.error
    truth = team.truth(potato)
    assert truth["isCooked"] and truth["parentReceptacles"] == [microwave]
    assert not team.truth(microwave)["isToggled"] and not team.truth(microwave)["isOpen"], "left off and shut"
    node = team.scene.node(potato)
    assert node.isCooked and node.parents() == [microwave], "the robot knows what it cooked, though it is shut in"


def test_cook_on_the_stove_goes_into_the_pan_and_turns_the_knob(team: Team):
    robot, potato, pan = team.robot("r1", 0), team.oid("Potato"), team.oid("Pan")
    burner = team.truth(pan)["parentReceptacles"][0]
    result = run_steps(robot, ("pick_up", {"object": potato}), ("cook", {"object": potato, "appliance": burner}))
    assert result.success, result.error
    assert team.truth(potato)["isCooked"] and team.truth(potato)["parentReceptacles"] == [pan]
    knob_actions = [m for k, m in events_of(team, result) if k == "action" and "StoveKnob" in m]
    assert [m.split()[0] for m in knob_actions] == ["ToggleObjectOn", "ToggleObjectOff"]
    assert team.scene.node(potato).isCooked


def test_explore_looks_all_around(team: Team):
    robot = team.robot("r1", 0)
    before = set(robot.observed)
    yaw = team.world.metadata(0)["agent"]["rotation"]["y"]
    horizon = team.world.metadata(0)["agent"]["cameraHorizon"]
    result = run_steps(robot, ("explore", {}))
    assert result.success, result.error
    assert result.actions == 1 + 4 + 1 + 4 + 1  # the first look, a full turn, then another looking down
    assert team.world.metadata(0)["agent"]["rotation"]["y"] == yaw
    assert team.world.metadata(0)["agent"]["cameraHorizon"] == horizon
    assert robot.observed > before


def test_every_declared_skill_is_covered_here():
    import inspect
    import sys

    source = inspect.getsource(sys.modules[__name__])
    assert all(f'"{name}"' in source for name in SKILLS)
