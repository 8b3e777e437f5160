"""From a parse tree to goals: noun phrases resolved against the scene, verbs applied through their
templates (verbs.yaml), pronouns and "the rest" resolved against what was said before, stages from
the connectives and markers ("then", "once", "before", "after"), conditions from "if"/"unless"/
"otherwise", self-corrections ("… no, in the sink") replacing what they correct.

The interpreter is built from parts a reader can take one at a time: nouns.py (noun phrases),
references.py (pronouns, "the rest"), conditions.py (templates, state words, places), actions.py (a verb
over its objects), outcomes.py (states and wishes), sequence.py (stages, conditions, corrections, the end
state); words.py holds what they share.
"""

from __future__ import annotations

from typing import Any

from robocortex.brain.goal_language import Goal
from robocortex.brain.understanding.actions import Actions
from robocortex.brain.understanding.conditions import Conditions
from robocortex.brain.understanding.lexicon import Lexicon, Word
from robocortex.brain.understanding.nouns import NounPhrases
from robocortex.brain.understanding.outcomes import Outcomes
from robocortex.brain.understanding.references import References
from robocortex.brain.understanding.sequence import Sequence
from robocortex.brain.understanding.words import PP, Mention, NotUnderstood, Ref, SceneWords, negate_goal, negated

__all__ = ["Interpreter", "NotUnderstood", "SceneWords", "negate_goal", "negated"]


class Interpreter(Sequence, Outcomes, Actions, Conditions, References, NounPhrases):
    """Reads one parse tree into goals (`sequence`, then `finish`)."""

    def __init__(self, lex: Lexicon, scene: SceneWords, words: list[Word]):
        self.lex, self.scene, self.words = lex, scene, words
        self.goals: list[Goal] = []
        self.notes: list[str] = []
        self.mentions: list[Mention] = []
        self.last_action: tuple[Word | None, list[Any]] | None = None
        self.last_place: PP | None = None
        self.tools: list[Ref] = []  # objects named as a verb's tool ("slice the bread with it")
        self.last_subject: list[Ref] = []  # the objects of the last action or state
        self.last_negated = False  # whether it was said with "not" ("don't put …", "… shouldn't be …")
        self.negating = False  # whether the action being read is negated ("don't …")
        self.disjunct = False  # whether the connective before this item is "or"
        self.contrastive = False  # whether it is "but"
        self.local: frozenset[str] = frozenset()  # types the verb being read names as its objects
        self.clause = 0
