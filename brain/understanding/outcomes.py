"""Outcomes: states asked for ("the fridge should be closed", "make sure nothing is on the table",
"can the box be closed?"), wishes ("I'd like a coffee"), and descriptions that only introduce referents."""

from __future__ import annotations

from typing import Any

from lark import Token, Tree

from robocortex.brain.goal_language import Condition, Goal
from robocortex.brain.understanding.lexicon import Word
from robocortex.brain.understanding.words import NotUnderstood, denied, negate_goal, Ref, _tokens, _kind, _sub


class Outcomes:
    """Part of the `Interpreter` (semantics.py): its methods read `self`'s lexicon, scene, words,
    goals, notes, mentions and the other parts' methods."""

    def state(self, tree: Tree) -> tuple[list[Goal], bool]:
        """Goals a state says, and whether it asks for them (a modal, "make sure", "I want") or only
        describes the scene ("the egg is in the fridge; …")."""
        if tree.data == "state_ensured":
            goals, _ = self.state(_sub(tree, "state", "there_state", "state_ensured", "state_unwanted", "wish")[0])
            return goals, True
        if tree.data == "wish":
            return self.wish(tree), True
        if tree.data == "state_have":
            return self.have(tree)
        unwanted = tree.data == "state_unwanted"
        subject = _sub(tree, "subject")
        if unwanted and not subject:  # "I don't want the tv on" is a state; "I want no X" alone
            goals = [negate_goal(g) for g in self.wish(tree)]
            return goals, True
        be = _sub(tree, "be_phrase")
        pred = _sub(tree, "predicate")
        negate = any("NOT" in self.word(t).cats for c in be for t in _tokens(c))
        asks = (unwanted or any(_kind(t, {"ENSURE", "MODAL"}) for t in _tokens(tree.children[0]))
                or any("MODAL" in self.word(t).cats for c in be for t in _tokens(c)))
        obj_tree = _sub(subject[0], "objects")[0]
        pp_trees = _sub(subject[0], "pp")
        parts: list[Any] = list(pred[0].children) if pred else []
        if tree.data == "there_state" and not pred:
            if not pp_trees:
                described = self.described(obj_tree) if asks else []
                if described:  # "there should be no dirty dishes (anywhere)": none of them dirty
                    return described, True
                if asks:
                    raise NotUnderstood(f"there should be {self.text(subject[0])} — where?",
                                        [(self.text(subject[0]), None)])
                for r in self.objects(obj_tree, "subject", Word("", "", frozenset())):  # "there are two rolls …;"
                    self.remember(r, None, "object")
                return [], False
            parts = [pp_trees.pop()]
        refs = self.objects(obj_tree, "subject", Word("", "", frozenset()))
        floating = any({"ALL", "BOTH"} & self.word(t).cats for c in be for t in _tokens(c))
        for r in refs:
            for t in pp_trees:
                self.locate(r, self.pp(t))
            if floating:  # "the mugs should all be clean"
                r.selector = r.selector.model_copy(update={"quantifier": "all", "count": None})
        goals = self.outcome(refs, parts)
        if parts and not any(isinstance(p, Tree) and p.data == "verb" for p in parts):
            self.last_action = (None, parts)  # "the mug goes in the sink, the plate too"
        self.last_subject, self.last_negated = refs, negate != unwanted
        if negate != unwanted:
            goals = [denied(g) for g in goals]
        return goals, asks

    def described(self, obj_tree: Tree) -> list[Goal]:
        """"there should be no dirty dishes", "there should be a clean mug": with no place, the state
        words on the objects are what is asked (negated by "no")."""
        goals: list[Goal] = []
        for ref in self.objects(obj_tree, "subject", Word("", "", frozenset())):
            states = ref.selector.states
            if not states:
                return []
            bare = ref.selector.model_copy(update={"states": {}})
            goals += self.goals_of(ref, [(bare, Condition(state=k, value=v)) for k, v in states.items()])
            self.remember(ref, None, "object")
        return goals

    def have(self, tree: Tree) -> tuple[list[Goal], bool]:
        """"the bed should have nothing on it", "the bowl must have the apple in it": the objects in/on the
        subject (the phrase's pronoun is the subject), asked for with a modal."""
        nobody = Word("", "", frozenset())
        for holder in self.objects(_sub(_sub(tree, "subject")[0], "objects")[0], "target", nobody):
            self.remember(holder, None, "target")
        be = [self.word(t) for c in _sub(tree, "be_phrase") for t in _tokens(c)]
        refs = self.objects(_sub(tree, "objects")[0], "subject", nobody)
        goals = self.outcome(refs, _sub(tree, "pp"))
        if any("NOT" in w.cats for w in be):
            goals = [denied(g) for g in goals]
        return goals, any("MODAL" in w.cats for w in be)

    def outcome(self, refs: list[Ref], parts: list[Any]) -> list[Goal]:
        """Goals the objects must meet: a predicate's state words and places, or a passive verb."""
        parts = [p for p in parts if not (isinstance(p, Token) and p.type in ("AND", "COMMA", "PERIOD")) and
                 not (isinstance(p, Tree) and p.data in ("and", "indef", "contrast"))]
        verb_part = next((p for p in parts if isinstance(p, Tree) and p.data == "verb"), None)
        if verb_part is not None:  # a passive: "the apple should be put in the fridge", "be turned off"
            rest = [p for p in parts if p is not verb_part]
            return self.action(self.word(_tokens(verb_part)[-1]), None, rest, given=refs)
        goals: list[Goal] = []
        for r in refs:
            start = len(self.goals) + len(goals)
            for part in parts:
                goals += self.state_part(r, part)
            self.remember(r, start, "object")
        return goals

    def state_part(self, ref: Ref, part: Any) -> list[Goal]:
        if isinstance(part, Tree) and part.data in ("pp", "there", "prep"):
            pp = self.pp(part) if part.data == "pp" else self.pro_pp(part)
            if pp.ref.room and pp.kind in ("ON", "OFF"):  # "the lights off in here": "off", in the scene
                return self.goals_of(ref, self.adjective(self.word(_tokens(part.children[0])[-1]), ref))
            if pp.ref.room:  # "every light in the kitchen off": the room is the scene
                return []
            if pp.ref.selector.exclude:  # "nothing on the table except the remote": the objects' exception
                ref.selector = ref.selector.model_copy(
                    update={"exclude": [*ref.selector.exclude, *pp.ref.selector.exclude]})
            cond = Condition(relation=self.relation(pp), target=self.target(pp.ref),
                             negate=pp.kind in ("FROM", "OFF"))
            self.remember(pp.ref, None, "target")
            self.last_place = pp
            wished = None if cond.negate else self.wished(ref)
            if wished is not None:  # "we need a cooked egg on the plate": cooked, and on the plate
                subject, wish = wished
                return self.goals_of(ref, [(wish.subject, wish.condition), (subject, cond)])
            return self.goals_of(ref, [(ref.selector, cond)])
        if isinstance(part, Tree) and part.data == "full_of":  # "full of water"
            inner = self.np(_sub(part, "np", "np_of")[0], "with")
            pairs = self.adjective(self.word(_tokens(part.children[0])[-1]), ref)
            return self.goals_of(ref, pairs, inner.liquid)
        if isinstance(part, Tree) and part.data == "part":
            return []
        return self.goals_of(ref, self.adjective(self.word(_tokens(part)[-1]), ref))

    def wish(self, tree: Tree) -> list[Goal]:
        """"I'd like a cup of coffee", "I want a hot potato", "bring me the remote"."""
        goals: list[Goal] = []
        for ref in self.objects(_sub(tree, "objects")[0], "product", self.word(_tokens(tree.children[0])[-1])):
            start = len(self.goals) + len(goals)
            if ref.product:
                goals.append(self.product(ref))
            elif ref.wish is not None:
                goals.append(ref.wish)
            else:
                goals.append(Goal(subject=ref.selector, condition=Condition(held=True)))
            self.remember(ref, start, "object")
        return goals
