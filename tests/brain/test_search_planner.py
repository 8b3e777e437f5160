"""The search planner (brain/search): the PDDL domain comes from the skill declarations, plans are found
by Fast Downward through unified-planning, lifted into a DAG, allocated across robots, and checked by
the validator's dry run; every goal gets a report."""

import itertools

import pytest

from robocortex.brain.goal_language import Goal
from robocortex.brain.planner import FailedSubtask, PlanningError, PlanRequest
from robocortex.brain.search import plan_goals
from robocortex.brain.search.domain import domain_pddl, searched_skills
from robocortex.brain.search.problem import AGENT, Exclusions, Scene, _atoms
from robocortex.brain.search.solve import solve_pddl
from robocortex.brain.validator import validate
from robocortex.cerebellum.skills import HEAT_APPLIANCES, PREDICATES, SKILLS, SymbolicWorld
from robocortex.memory.schemas import Relation, RobotProfile, SceneNode, SkillCall


def goal(data):
    return Goal.model_validate(data)


def put(obj, target, **subject):
    return goal({"subject": {"type": obj, **subject}, "condition": {"relation": "in_or_on", "target": target}})


def plan(goals, snapshot, robots, **kw):
    outcome = plan_goals(goals, PlanRequest("", snapshot, robots, **kw))
    assert validate(outcome.plan, snapshot, robots) == [], outcome.plan.reasoning
    return outcome.plan


def with_nodes(snapshot, *nodes):
    return snapshot.model_copy(update={"nodes": {**snapshot.nodes, **{n.id: n for n in nodes}}})


def obj(oid, otype, x, z, parent=None, rel="on", **flags):
    return SceneNode(id=oid, objectType=otype, position={"x": x, "y": 0.9, "z": z},
                     relations=[{"rel": rel, "target": parent}] if parent else [], **flags)


def steps_of(p, skill=None):
    return [(c.skill, c.args) for s in p.subtasks for c in s.steps if skill is None or c.skill == skill]


# --------------------------------------------------------------------------- the domain


def test_domain_is_generated_from_the_skill_declarations():
    pddl = domain_pddl(SKILLS)
    for name in searched_skills(SKILLS):
        sym = SKILLS[name].symbolic
        action = f"(:action {name.replace('_', '-')}"
        assert action in pddl
        assert sym.precondition in pddl and sym.effect in pddl
    for pred, (params, _static, _meaning) in PREDICATES.items():
        assert f"({pred} {params})" in pddl
    assert "(:action navigate-to" not in pddl, "navigation is added when robots get their steps"
    # only the skills some robot has are searched with
    assert "(:action slice" not in domain_pddl(["pick_up", "put", "open"])


def test_generated_pddl_solves_through_unified_planning():
    domain = domain_pddl(SKILLS)
    problem = """(define (problem p) (:domain robocortex)
      (:objects apple fridge counter - object agent - robot)
      (:init (handempty agent) (pickupable apple) (can-lift agent apple) (receptacle fridge) (receptacle counter)
             (openable fridge) (must-open fridge) (can-contain fridge apple) (can-contain counter apple)
             (in apple counter))
      (:goal (in apple fridge)))"""
    steps = solve_pddl(domain, problem, {})
    assert [s.skill for s in steps] == ["open", "pick_up", "put"] or [s.skill for s in steps] == ["pick_up", "open", "put"]


# --------------------------------------------------------------------------- declarations = Python checks


def _world_atoms(nodes, robot):
    scene = Scene(nodes, [RobotProfile(name="agent", agent_id=0, embodiment="m", skills=list(SKILLS), payload_kg=100)],
                  Exclusions())
    objects = sorted(n for n, v in nodes.items() if v.get("kind", "object") == "object")
    heaters = {o for o in objects if nodes[o].get("objectType") in HEAT_APPLIANCES}
    held = {robot["holding"]: "agent"} if robot.get("holding") else {}
    return scene, objects, _atoms(scene, objects, held, heaters)


def _sample_worlds(kitchen):
    base = kitchen.node_dicts()
    yield "start", base, None
    opened = kitchen.node_dicts()
    opened["Fridge|1"]["isOpen"] = True
    yield "fridge open", opened, None
    knife = kitchen.node_dicts()
    knife["Knife|1"].update(relations=[], isPickedUp=True)
    yield "knife in hand", knife, "Knife|1"
    apple = kitchen.node_dicts()
    apple["Apple|1"].update(relations=[], isPickedUp=True)
    apple["Fridge|1"]["isOpen"] = True
    yield "apple in hand, fridge open", apple, "Apple|1"
    potato = kitchen.node_dicts()
    potato["Potato|1"].update(relations=[], isPickedUp=True)
    yield "potato in hand", potato, "Potato|1"


DYNAMIC = {p for p, (_params, static, _m) in PREDICATES.items() if not static} - {"near"}


def test_declarations_agree_with_the_python_checks_and_effects(kitchen):
    """On a sample of scenes and every (skill, arguments) the search may use, the declared precondition
    holds exactly when the skill's Python check passes, and both effects give the same scene."""
    disagreements = []
    checked = 0
    for label, nodes, held in _sample_worlds(kitchen):
        robot = {"id": AGENT, "kind": "robot", "holding": held}
        nodes = {k: v for k, v in nodes.items() if v.get("kind", "object") == "object"}
        scene, objects, atoms = _world_atoms(nodes, robot)
        for name in searched_skills(SKILLS):
            skill, sym = SKILLS[name], SKILLS[name].symbolic
            params = sym.parameters.split()
            arity = params.count("-") - 1  # besides the robot
            for values in itertools.product(objects, repeat=arity):
                args = {arg: values[[v for v in params if v.startswith("?")][1:].index(p)]
                        for arg, p in sym.args.items()}
                if name == "put" and values[0] != held:
                    continue  # put's object is the held one (not an argument of the call)
                if name == "slice" and values[1] != held:
                    continue  # likewise the knife
                world = SymbolicWorld({k: dict(v) for k, v in nodes.items()})
                world.nodes[AGENT] = dict(robot)
                parsed = skill.parse_args(args)
                procedural_ok = skill.check(world, world.nodes[AGENT], parsed) == []
                state = scene_state(atoms, objects)
                declared_ok, _ = state.step(sym.parameters, sym.precondition, sym.effect, [AGENT, *values])
                checked += 1
                if procedural_ok != declared_ok:
                    disagreements.append(f"{label}: {name} {values}: python {procedural_ok}, declared {declared_ok}")
                    continue
                if not procedural_ok:
                    continue
                skill.apply(world, world.nodes[AGENT], parsed)
                after_nodes = {k: v for k, v in world.nodes.items() if k in nodes}
                _, _, after = _world_atoms(after_nodes, world.nodes[AGENT])
                want = {a for a in after if a[0] in DYNAMIC}
                got = {a for a in state.atoms if a[0] in DYNAMIC and all(x in nodes or x == AGENT for x in a[1:])}
                if want != got:
                    disagreements.append(f"{label}: {name} {values}: effects differ: python-only {want - got}, "
                                         f"declared-only {got - want}")
    assert checked > 200
    assert disagreements == []


def scene_state(atoms, objects):
    from robocortex.brain.search.logic import State

    return State(set(atoms), {"object": list(objects), "robot": [AGENT]})


# --------------------------------------------------------------------------- plans


def test_independent_goals_run_in_parallel_on_two_robots(kitchen, two_robots):
    p = plan([put("Egg", "CounterTop"), goal({"object": "LightSwitch", "state": "isToggled", "value": False})],
             kitchen, two_robots)
    assert len(p.subtasks) == 2
    assert {s.robot for s in p.subtasks} == {"robot1", "robot2"}
    assert all(not s.depends_on for s in p.subtasks)
    assert [r.status for r in p.reports] == ["planned", "planned"]


def test_plans_pass_the_validator_dry_run(kitchen, two_robots):
    kitchen.nodes["Potato|1"].sliceable = True
    for goals in ([put("Apple", "Fridge")],
                  [goal({"object": "Potato", "state": "isCooked", "value": True})],
                  [goal({"object": "Mug", "state": "isDirty", "value": False}),
                   goal({"object": "Mug", "state": "isFilledWithLiquid", "value": True, "liquid": "wine"})],
                  [goal({"object": "Apple", "state": "isSliced", "value": True}),
                   goal({"object": "Potato", "state": "isSliced", "value": True})]):
        p = plan(goals, kitchen, two_robots)
        assert p.subtasks and all(r.status == "planned" for r in p.reports)
    assert ("fill", {"object": "Mug|1", "liquid": "wine"}) in steps_of(p_fill := plan(
        [goal({"object": "Mug", "state": "isFilledWithLiquid", "value": True, "liquid": "wine"})], kitchen, two_robots))
    assert p_fill.reports[0].status == "planned"


def _opener_and_carrier():
    return [RobotProfile(name="robot1", agent_id=0, embodiment="door_opener", skills=["navigate_to", "open", "close"],
                         payload_kg=0),
            RobotProfile(name="robot2", agent_id=1, embodiment="carrier", skills=["navigate_to", "pick_up", "put"],
                         payload_kg=5)]


def test_coalition_one_robot_opens_the_fridge_another_puts_the_apple_in(kitchen):
    robots = _opener_and_carrier()
    p = plan([put("Apple", "Fridge")], kitchen, robots)
    by_robot = {s.robot: s for s in p.subtasks}
    opening = next(s for s in p.subtasks if "open" in [c.skill for c in s.steps])
    carrying = next(s for s in p.subtasks if "put" in [c.skill for c in s.steps])
    closing = next(s for s in p.subtasks if "close" in [c.skill for c in s.steps])
    assert opening.robot == "robot1" and carrying.robot == "robot2" and closing.robot == "robot1"
    assert opening.id in carrying.depends_on, "the apple goes in once the fridge is open"
    assert carrying.id in closing.depends_on, "and the fridge is closed after"
    assert set(by_robot) == {"robot1", "robot2"}


def test_fixed_arm_takes_what_is_within_its_reach(kitchen, make_profile):
    """A fixed arm by the counter and a base without an arm: the arm moves the mug within its reach;
    the egg in the far fridge is out of reach of every robot that could pick it up."""
    kitchen = with_nodes(kitchen, SceneNode(id="arm", kind="robot", position={"x": 0.5, "y": 0.9, "z": 0.5}),
                         SceneNode(id="base", kind="robot", position={"x": 3, "y": 0.9, "z": 1}),
                         obj("Plate|1", "Plate", 1.0, 0.8, "CounterTop|1", receptacle=True, pickupable=True, mass=0.5))
    robots = [make_profile("arm", "fixed_arm"), make_profile("base", "mobile_base", agent_id=1)]
    p = plan([put("Mug", "Plate"), put("Egg", "Plate")], kitchen, robots)
    assert [r.status for r in p.reports] == ["planned", "infeasible"]
    assert "out of its reach" in p.reports[1].reason and "base: lacks skill" in p.reports[1].reason
    assert {s.robot for s in p.subtasks} == {"arm"}
    assert "navigate_to" not in [c.skill for s in p.subtasks for c in s.steps], "a fixed arm does not navigate"


# --------------------------------------------------------------------------- the goal language


def _three_apples(kitchen):
    return with_nodes(kitchen,
                      obj("Apple|2", "Apple", 2.0, 0.5, "CounterTop|1", pickupable=True, mass=0.2),
                      obj("Apple|3", "Apple", -1.5, 1.0, "CounterTop|1", pickupable=True, mass=0.2))


def test_all_moves_every_matching_instance(kitchen, two_robots):
    kitchen = _three_apples(kitchen)
    p = plan([put("Apple", "Fridge", quantifier="all")], kitchen, two_robots)
    assert sorted(a["object"] for _, a in steps_of(p, "pick_up")) == ["Apple|1", "Apple|2", "Apple|3"]


def test_exactly_n_takes_the_nearest_and_at_least_n_likewise(kitchen, two_robots):
    kitchen = _three_apples(kitchen)
    p = plan([put("Apple", "Fridge", quantifier="exactly", count=2)], kitchen, two_robots)
    moved = sorted(a["object"] for _, a in steps_of(p, "pick_up"))
    assert moved == ["Apple|1", "Apple|3"], "the two nearest the robots (Apple|2 is 2 m away)"
    p = plan([put("Apple", "Fridge", quantifier="at_least", count=1)], kitchen, two_robots)
    assert len(steps_of(p, "pick_up")) == 1


def test_exactly_n_takes_out_the_extra_ones(kitchen, two_robots):
    kitchen = _three_apples(kitchen)
    for a in ("Apple|1", "Apple|2"):
        kitchen.nodes[a].relations = [Relation(rel="in", target="Fridge|1")]
    p = plan([put("Apple", "Fridge", quantifier="exactly", count=1)], kitchen, two_robots)
    assert len(steps_of(p, "pick_up")) == 1, "one of the two apples in the fridge comes out"


def test_nothing_on_the_counter_moves_each_object_where_the_placement_rules_allow(kitchen, two_robots):
    kitchen = with_nodes(kitchen, obj("DiningTable|1", "DiningTable", 1, 2, receptacle=True))
    g = goal({"subject": {"quantifier": "all", "category": None}, "condition": {"relation": "on",
              "target": "CounterTop", "negate": True}})
    p = plan([g], kitchen, two_robots)
    moved = {a["object"] for _, a in steps_of(p, "pick_up")}
    assert moved == {"Apple|1", "Knife|1", "Potato|1", "Mug|1", "Pumpkin|1"}
    from robocortex.knowledge.placement import accepts

    world = SymbolicWorld(kitchen.node_dicts())
    for s in p.subtasks:
        held = None
        for c in s.steps:
            if c.skill == "pick_up":
                held = c.args["object"]
            if c.skill == "put":
                assert accepts(world.get(c.args["receptacle"])["objectType"], world.get(held)["objectType"])


def test_a_slice_of_tomato_in_the_fridge_slices_first_then_moves_a_piece(kitchen, two_robots):
    kitchen = with_nodes(kitchen, obj("Tomato|1", "Tomato", 0.3, 0.2, "CounterTop|1", pickupable=True,
                                      sliceable=True, mass=0.12))
    p = plan([goal({"subject": {"type": "Tomato", "piece": True}, "condition": {"relation": "in",
                    "target": "Fridge"}})], kitchen, two_robots)
    steps = steps_of(p)
    slicing = steps.index(("slice", {"object": "Tomato|1"}))
    picked = [a["object"] for _, a in steps_of(p, "pick_up")]
    assert "Tomato|1|TomatoSliced_0" in picked
    assert slicing < steps.index(("pick_up", {"object": "Tomato|1|TomatoSliced_0"}))


def test_then_pursues_the_next_stage_after_the_first(kitchen, two_robots):
    p = plan([goal({"object": "LightSwitch", "state": "isToggled", "value": False}),
              goal({"object": "Mug", "state": "isDirty", "value": False, "stage": 1})], kitchen, two_robots)
    light = next(s for s in p.subtasks if "toggle_off" in [c.skill for c in s.steps])
    mug = next(s for s in p.subtasks if "clean" in [c.skill for c in s.steps])
    assert light.id in mug.depends_on


def test_stages_that_contradict_are_searched_one_after_the_other(kitchen, two_robots):
    """'open the fridge, then close it': no single search reaches both; each stage is searched from
    where the one before leaves the scene."""
    p = plan([goal({"object": "Fridge", "state": "isOpen", "value": True}),
              goal({"object": "Fridge", "state": "isOpen", "value": False, "stage": 1})], kitchen, two_robots)
    opening = next(s for s in p.subtasks if "open" in [c.skill for c in s.steps])
    closing = next(s for s in p.subtasks if "close" in [c.skill for c in s.steps])
    assert opening.id in closing.depends_on
    assert [r.status for r in p.reports] == ["planned", "planned"]


def test_a_goal_whose_condition_is_false_is_reported_and_skipped(kitchen, two_robots):
    g = goal({"object": "LightSwitch", "state": "isToggled", "value": False,
              "when": [{"object": "Fridge", "state": "isOpen", "value": True}]})
    p = plan([g, put("Egg", "CounterTop")], kitchen, two_robots)
    assert [r.status for r in p.reports] == ["condition_false", "planned"]
    assert "toggle_off" not in [c for c, _ in steps_of(p)]


def test_goals_that_already_hold_are_reported(kitchen, two_robots):
    p = plan([put("Apple", "CounterTop"), goal({"object": "Fridge", "state": "isOpen", "value": False})],
             kitchen, two_robots)
    assert [r.status for r in p.reports] == ["already_holds", "already_holds"] and p.subtasks == []


# --------------------------------------------------------------------------- infeasible goals


def test_infeasible_goals_are_reported_one_by_one_and_the_rest_is_planned(kitchen, two_robots):
    kitchen = with_nodes(kitchen, obj("Tomato|1", "Tomato", 0.3, 0.2, "CounterTop|1", pickupable=True,
                                      sliceable=True, mass=0.12))
    p = plan([put("Tomato", "Microwave"), put("Banana", "Fridge"), put("Egg", "CounterTop"),
              goal({"object": "Apple", "state": "isCooked", "value": True})], kitchen, two_robots)
    status = [(r.status, r.reason) for r in p.reports]
    assert status[0] == ("infeasible", "AI2-THOR's placement rules do not allow a Tomato in or on a Microwave")
    assert status[1] == ("infeasible", "there is no Banana in this scene")
    assert status[2] == ("planned", "")
    assert status[3] == ("infeasible", "the apple cannot be cooked")
    assert [g.describe() for g in p.goals] == ["Egg in/on CounterTop"], "the plan checks only what it pursues"


def test_tomato_in_microwave_is_refused_at_planning_time(kitchen, two_robots):
    kitchen = with_nodes(kitchen, obj("Tomato|1", "Tomato", 0.3, 0.2, "CounterTop|1", pickupable=True, mass=0.12))
    with pytest.raises(PlanningError, match="placement rules do not allow a Tomato in or on a Microwave"):
        plan_goals([put("Tomato", "Microwave")], PlanRequest("", kitchen, two_robots))


def test_payload_and_missing_skills_are_named(kitchen, make_profile):
    light = [make_profile("robot1", "light_manipulator")]
    with pytest.raises(PlanningError, match=r"no robot can pick up the pumpkin \(3.0 kg\)"):
        plan_goals([put("Pumpkin", "GarbageCan")], PlanRequest("", kitchen, light))
    carrier = [_opener_and_carrier()[1]]
    with pytest.raises(PlanningError, match="no robot has skill toggle_off"):
        plan_goals([goal({"object": "LightSwitch", "state": "isToggled", "value": False})],
                   PlanRequest("", kitchen, carrier))


# --------------------------------------------------------------------------- replanning after failures


def _failure(robot, skill, args, code, **details):
    step = SkillCall(skill=skill, args=args)
    return FailedSubtask(robot=robot, steps=[step], error="(text the planner never reads)", code=code,
                         failed_step=step, details={**args, **details})


def test_replan_takes_another_instance_when_the_object_is_missing(kitchen, two_robots):
    kitchen = _three_apples(kitchen)
    first = plan([put("Apple", "Fridge")], kitchen, two_robots)
    (picked,) = [a["object"] for _, a in steps_of(first, "pick_up")]
    again = plan([put("Apple", "Fridge")], kitchen, two_robots,
                 failures=[_failure("robot1", "pick_up", {"object": picked}, "object_missing")])
    (other,) = [a["object"] for _, a in steps_of(again, "pick_up")]
    assert other != picked


def test_replan_gives_a_failed_step_to_another_robot(kitchen, two_robots):
    first = plan([goal({"object": "LightSwitch", "state": "isToggled", "value": False})], kitchen, two_robots)
    (subtask,) = first.subtasks
    failure = _failure(subtask.robot, "toggle_off", {"object": "LightSwitch|1"}, "action_failed")
    again = plan([goal({"object": "LightSwitch", "state": "isToggled", "value": False})], kitchen, two_robots,
                 failures=[failure])
    assert [s.robot for s in again.subtasks] != [subtask.robot]
    with pytest.raises(PlanningError, match="toggle_off on LightSwitch\\|1 failed before"):
        plan_goals([goal({"object": "LightSwitch", "state": "isToggled", "value": False})],
                   PlanRequest("", kitchen, [r for r in two_robots if r.name == subtask.robot], failures=[failure]))


def test_replan_puts_into_another_receptacle_of_the_kind(kitchen, two_robots):
    kitchen = with_nodes(kitchen, obj("GarbageCan|2", "GarbageCan", 2, -2, receptacle=True))
    g = put("Apple", "GarbageCan")
    first = plan([g], kitchen, two_robots)
    (target,) = [a["receptacle"] for _, a in steps_of(first, "put")]
    again = plan([g], kitchen, two_robots,
                 failures=[_failure("robot1", "put", {"receptacle": target}, "action_failed", world_code="no_room")])
    assert [a["receptacle"] for _, a in steps_of(again, "put")] == [({"GarbageCan|1", "GarbageCan|2"} - {target}).pop()]


def test_a_lost_robot_gets_nothing(kitchen, two_robots):
    failure = FailedSubtask(robot="robot2", steps=[], error="", code="robot_lost")
    p = plan([goal({"object": "LightSwitch", "state": "isToggled", "value": False})], kitchen, two_robots,
             failures=[failure])
    assert {s.robot for s in p.subtasks} == {"robot1"}


def test_the_same_problem_on_other_objects_is_searched_once():
    from robocortex.brain.search.solve import SearchFailed, plan_cache_info, solve

    def problem(fridge: str) -> tuple[list[str], set, list]:
        return [fridge], {("openable", fridge)}, [["is-open", fridge]]

    before = plan_cache_info()
    objects, init, goal = problem("Fridge|1")
    first = solve({"open"}, objects, init, goal, AGENT)
    objects2, init2, goal2 = problem("Fridge|2")
    second = solve({"open"}, objects2, init2, goal2, AGENT)
    after = plan_cache_info()
    assert [s.skill for s in first] == [s.skill for s in second] and first
    assert "Fridge|1" in first[-1].values and "Fridge|2" in second[-1].values and "Fridge|1" not in second[-1].values
    assert after["misses"] - before["misses"] <= 1 and after["hits"] - before["hits"] >= 1
    # An unsolvable problem is remembered as such: asked again, it fails again without a search.
    with pytest.raises(SearchFailed):
        solve({"open"}, ["Box|1"], set(), [["is-open", "Box|1"]], AGENT)
    misses = plan_cache_info()["misses"]
    with pytest.raises(SearchFailed):
        solve({"open"}, ["Box|2"], set(), [["is-open", "Box|2"]], AGENT)
    assert plan_cache_info()["misses"] == misses
