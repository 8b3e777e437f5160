"""Conditions: verb templates and state words (verbs.yaml, adjectives.yaml) applied to objects,
prepositional phrases and their relations, products ("make toast")."""

from __future__ import annotations

from typing import Any

from lark import Tree

from robocortex.brain.goal_language import Condition, Goal, Selector, categories, piece_type
from robocortex.brain.understanding.lexicon import Word, type_words
from robocortex.brain.understanding.words import STATE_NEEDS, EVERYTHING, NotUnderstood, negated, Ref, PP, _sub, _tokens


class Conditions:
    """Part of the `Interpreter` (semantics.py): its methods read `self`'s lexicon, scene, words,
    goals, notes, mentions and the other parts' methods."""

    def conditions(self, name: str, ref: Ref) -> list[tuple[Selector, Condition]]:
        """What template `name` asks of the objects `ref` names (alternatives chosen by affordance)."""
        options = self.lex.template(name)
        chosen = options[0]
        for opt in options:
            if "requires" not in opt or (ref.types and self.scene.can(ref.types, opt["requires"])):
                chosen = opt
                break
        return self.condition_from(chosen, ref)

    def condition_from(self, spec: dict[str, Any], ref: Ref) -> list[tuple[Selector, Condition]]:
        spec = {k: v for k, v in spec.items() if k != "requires"}
        if spec.get("clear"):
            relation = "in" if ref.types and self.scene.can(ref.types, "openable") else "in_or_on"
            self.last_place = PP("in" if relation == "in" else "on", "PREP", ref)  # "… but leave the knife there"
            return [(EVERYTHING, Condition(relation=relation, target=self.target(ref), negate=True))]
        if "target" in spec and isinstance(spec["target"], str):
            w = Word(spec["target"], spec["target"], frozenset({"NOUN"}))
            spec["target"] = Selector(type=self.type_for(w, self.noun(w)))
        subject = ref.selector
        need = STATE_NEEDS.get(spec.get("state", ""))
        if need and not (subject.type or subject.category or subject.id or subject.ids):
            # "turn everything off": everything that can be, type by type
            left_out = {x.type for x in subject.exclude}
            types = sorted(t for t in self.scene.types if self.scene.can(frozenset({t}), need) and t not in left_out)
            if not types:
                raise NotUnderstood(f"nothing in this scene can be {spec.get('state')}", [(ref.text, None)])
            return [(subject.model_copy(update={"type": t, "exclude": []}), Condition(**spec)) for t in types]
        if need and subject.type and not subject.piece and not self.scene.can(frozenset({subject.type}), need) \
                and self.scene.can(frozenset({piece_type(subject.type)}), need):
            subject = subject.model_copy(update={"piece": True})  # "toast the bread": its slices (AI2-THOR)
        if spec.get("state") == "isToggled" and subject.type and not self.scene.can(frozenset({subject.type}),
                                                                                     "toggleable"):
            control = self.lex.controls.get(subject.type)  # "turn on a burner": its knob
            if control and self.scene.has(control):
                subject = subject.model_copy(update={"type": control, "located": None})  # where the burner is
                whole = self.lex.nouns.get(ref.text.split()[-1] if ref.text else "", {}).get("whole")
                if whole and spec.get("value") is False and subject.quantifier == "the":
                    subject = subject.model_copy(update={"quantifier": "all"})  # "the stove off": every burner
                elif whole and subject.quantifier == "the":  # "the stove on": one burner (negated: none)
                    subject = subject.model_copy(update={"quantifier": "a"})
        return [(subject, Condition(**spec))]

    def adjective_conditions(self, w: Word, ref: Ref, as_filter: bool = False) -> list[Condition]:
        return [c for _, c in self.adjective(w, ref, as_filter)]

    def adjective(self, w: Word, ref: Ref, as_filter: bool = False) -> list[tuple[Selector, Condition]]:
        entry = self.lex.adjectives.get(w.base)
        if entry is None:
            frames = self.lex.verbs.get(w.base)
            if frames is not None and frames.alone:  # a participle: "sliced", "washed"
                entry = frames.alone
            else:
                raise NotUnderstood(f"I don't know how something can be {w.text!r}", [(w.text, None)])
        if ref.room and (isinstance(entry, str) or "room" not in entry):
            raise NotUnderstood(f"I don't know how to make a whole room {w.text!r}: say what should go where",
                                [(w.text, None)])
        if isinstance(entry, str):
            return self.conditions(entry, ref)
        if "template" not in entry:
            return self.condition_from(entry, ref)
        if ref.room and "room" in entry and not as_filter:
            room = entry["room"]
            sub = Selector.model_validate(room["subject"])
            cat = sub.category
            if cat and not any(self.scene.has(t) for t in categories()[cat]):
                raise NotUnderstood(f"this scene has no {cat} to make it {w.text}", [(w.text, None)])
            subject = Ref(sub, ref.text, categories().get(cat or "", frozenset()), plural=True)
            return self.conditions(room["template"], subject)
        if ref.room:
            raise NotUnderstood(f"I don't know how to make a room {w.text!r}", [(w.text, None)])
        return self.conditions(entry["template"], ref)

    def pp(self, tree: Tree, role: str = "target") -> PP:
        kind = tree.children[0].data.upper()
        prep = self.word(_tokens(tree.children[0])[-1]).base
        if prep in self.lex.values["located_only"]:
            role = "subject"  # "next to it": anything, not a receptacle
        ref = self.np(tree.children[1], "with" if kind == "WITH" else role)
        return PP(prep, kind, ref)

    def pro_pp(self, tree: Tree) -> PP:
        """"there" (the last place named), a bare "inside"/"in" (in the last receptacle named)."""
        if tree.data == "where_is":  # "put the phone where the watch is": in/on what holds the watch now
            ref = self.np(_sub(tree, "np", "np_of")[0], "subject")
            where = self.container_of(ref)
            if where is None:
                raise NotUnderstood(f"'where {ref.text} is': it is on nothing I know", [("where", None)])
            return PP("on", "PREP", where.ref)
        if tree.data == "where_was":  # "put the toilet paper where it was": where that thing was at the start
            own = sorted(self.local)  # "leave the vase alone", "put the mug back": where the verb's own object is;
            said = set(self.text(tree).split())  # "… where it was": where the thing said before was
            if said & set(self.lex.values.get("where_before", [])):
                own = []
            thing = Ref(Selector(type=own[0]), type_words(own[0]), frozenset(own[:1])) if len(own) == 1 \
                else self.antecedent("where")
            where = self.container_of(thing)
            if where is None:
                raise NotUnderstood("'where it was': I don't know where that was", [("where", None)])
            return PP("on", "PREP", where.ref)
        if tree.data == "there":
            place = self.last_place
            if place is None:
                raise NotUnderstood("'there': where? Name the place", [("there", None)])
            if place.kind in ("FROM", "OFF"):  # "take X off the toilet and put Y there": on the toilet
                prep = {"in": "in", "on": "on"}.get(self.relation(place), "to")
                return PP(prep, "ON" if prep == "on" else "PREP", place.ref)
            return place
        prep = self.word(_tokens(tree)[-1]).base
        return PP(prep, "PREP", self.antecedent("target"))

    def relation(self, pp: PP) -> str:
        return str(self.lex.values["relation"].get(pp.prep, "in_or_on"))

    def goals_of(self, ref: Ref, pairs: list[tuple[Selector, Condition]], liquid: str | None = None) -> list[Goal]:
        goals = []
        for subject, cond in pairs:
            if liquid and cond.state == "isFilledWithLiquid" and cond.value:
                cond = cond.model_copy(update={"liquid": liquid})
            if ref.negate:
                cond = negated(cond)
                subject = subject.model_copy(update={"quantifier": "all", "count": None})
            goals.append(Goal(subject=subject, condition=cond))
        return goals

    def product(self, ref: Ref) -> Goal:
        spec = self.lex.products[ref.product]
        subject = Selector.model_validate(spec["subject"])
        if subject.type and not self.scene.has(subject.type):
            raise NotUnderstood(f"making {ref.text} needs a {type_words(subject.type)}, and this scene has none",
                                [(ref.text, None)])
        if ref.selector.count and ref.selector.count > 1:
            subject = subject.model_copy(update={"quantifier": ref.selector.quantifier, "count": ref.selector.count})
        return Goal(subject=subject, condition=Condition.model_validate(spec["condition"]))
