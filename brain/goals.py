"""Goal checking on the scene graph (or on any node map of the same shape, e.g. world ground truth).

The semantics live with the goal language (`goal_language.py`); this module is the checking API.
"""

from __future__ import annotations

from robocortex.brain.goal_language import Nodes, final_goals, goal_holds, ground, satisfying, unmet_goals

__all__ = ["Nodes", "final_goals", "goal_holds", "ground", "satisfying", "unmet_goals"]
