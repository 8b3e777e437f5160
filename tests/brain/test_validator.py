from robocortex.brain.plan import Goal, Plan, PlannedSubtask
from robocortex.brain.validator import validate
from robocortex.memory.schemas import SkillCall



def st(id, robot, *steps, deps=()):
    return PlannedSubtask(id=id, robot=robot, description=id, depends_on=list(deps),
                          steps=[SkillCall(skill=s, args=a) for s, a in steps])


def goal():
    return [Goal(object="Apple", relation="in", target="Fridge")]


def test_rejects_unknown_robot_skill_object(kitchen, two_robots):
    plan = Plan(goals=goal(), subtasks=[
        st("a", "robot9", ("pick_up", {"object": "Apple|1"})),
        st("b", "robot1", ("teleport", {})),
        st("c", "robot2", ("pick_up", {"object": "Banana|7"})),
    ])
    problems = validate(plan, kitchen, two_robots)
    assert any("unknown robot 'robot9'" in p for p in problems)
    assert any("unknown skill 'teleport'" in p for p in problems)
    assert any("unknown object 'Banana|7'" in p for p in problems)


def test_rejects_skill_robot_lacks(kitchen, make_profile):
    profile = make_profile
    robots = [profile("robot1", "mobile_base")]
    plan = Plan(goals=goal(), subtasks=[st("a", "robot1", ("pick_up", {"object": "Apple|1"}))])
    assert any("robot1 lacks skill pick_up" in p for p in validate(plan, kitchen, robots))


def test_rejects_cycle(kitchen, two_robots):
    plan = Plan(goals=goal(), subtasks=[st("a", "robot1", deps=["b"]), st("b", "robot2", deps=["a"])])
    assert any("cycle" in p for p in validate(plan, kitchen, two_robots))


def test_rejects_payload_overrun(kitchen, make_profile):
    profile = make_profile
    robots = [profile("robot1", "light_manipulator")]
    plan = Plan(goals=[Goal(object="Pumpkin", relation="on", target="GarbageCan")], subtasks=[
        st("a", "robot1", ("navigate_to", {"object": "Pumpkin|1"}), ("pick_up", {"object": "Pumpkin|1"}))])
    assert any("over robot1's payload" in p for p in validate(plan, kitchen, robots))


def test_dry_run_catches_closed_fridge(kitchen, two_robots):
    plan = Plan(goals=goal(), subtasks=[st("a", "robot1", ("pick_up", {"object": "Apple|1"}),
                                            ("put", {"receptacle": "Fridge|1"}))])
    problems = validate(plan, kitchen, two_robots)
    assert problems == ["subtask a step 2: put: Fridge|1 is closed; open it first"]


def test_dry_run_follows_dependencies_across_robots(kitchen, two_robots):
    plan = Plan(goals=goal(), subtasks=[
        st("put", "robot2", ("pick_up", {"object": "Apple|1"}), ("put", {"receptacle": "Fridge|1"}), deps=["open"]),
        st("open", "robot1", ("open", {"object": "Fridge|1"})),
    ])
    assert validate(plan, kitchen, two_robots) == []


def test_unreached_goal_is_reported(kitchen, two_robots):
    plan = Plan(goals=goal(), subtasks=[st("a", "robot1", ("open", {"object": "Fridge|1"}))])
    assert validate(plan, kitchen, two_robots) == ["after all steps, goal 'Apple in Fridge' would still not hold"]


def test_fixed_arm_out_of_reach(kitchen, make_profile):
    profile = make_profile
    robots = [profile("robot1", "fixed_arm")]  # robot1 stands at (0, 0); the fridge is 3 m away
    plan = Plan(goals=[Goal(object="Fridge", state="isOpen", value=True)],
                subtasks=[st("a", "robot1", ("open", {"object": "Fridge|1"}))])
    assert any("out of reach of fixed robot robot1" in p for p in validate(plan, kitchen, robots))


def test_an_earlier_stage_keeps_its_result_and_a_stage_never_reached_is_named(kitchen, two_robots):
    goals = [Goal(object="Fridge", state="isOpen", value=True), Goal(object="Fridge", state="isOpen", value=False, stage=1)]
    both = Plan(goals=goals, subtasks=[st("a", "robot1", ("open", {"object": "Fridge|1"})),
                                       st("b", "robot1", ("close", {"object": "Fridge|1"}), deps=["a"])])
    assert validate(both, kitchen, two_robots) == []
    skipped = Plan(goals=goals, subtasks=[st("a", "robot1", ("toggle_off", {"object": "LightSwitch|1"}))])
    assert validate(skipped, kitchen, two_robots) == ["after all steps, goal 'Fridge isOpen=True' would still not hold"]


def test_pieces_a_slice_creates_are_known_objects(kitchen, two_robots):
    plan = Plan(goals=[Goal.model_validate({"subject": {"type": "Apple", "piece": True},
                                            "condition": {"relation": "in", "target": "GarbageCan"}})],
                subtasks=[st("a", "robot1", ("pick_up", {"object": "Knife|1"}), ("slice", {"object": "Apple|1"}),
                             ("put", {"receptacle": "CounterTop|1"}),
                             ("pick_up", {"object": "Apple|1|AppleSliced_0"}),
                             ("put", {"receptacle": "GarbageCan|1"}))])
    assert validate(plan, kitchen, two_robots) == []
    early = plan.model_copy(update={"subtasks": [st("a", "robot1", ("pick_up", {"object": "Apple|1|AppleSliced_0"}))]})
    assert any("unknown object 'Apple|1|AppleSliced_0'" in p for p in validate(early, kitchen, two_robots))
