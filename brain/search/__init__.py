"""Plans searched from goals: Fast Downward (through unified-planning) over a PDDL domain generated
from the skill declarations, the found plan lifted into a DAG and given to robots.

    domain.py    the PDDL domain, from cerebellum/skills.py's declarations
    problem.py   the problem, from the scene graph snapshot pruned to what the goals need
    solve.py     unified-planning + Fast Downward
    lift.py      the total-order plan → a DAG of steps by causal links; holding chains
    allocate.py  units of steps → robots (skills, payload, reach, travel; makespan), subtasks
    planning.py  plan_goals: all of it, with a report per goal
"""

from robocortex.brain.search.planning import exclusions, plan_goals

__all__ = ["exclusions", "plan_goals"]
