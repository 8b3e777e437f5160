"""References: pronouns ("it", "them", "both"), "one", "the other(s)", "the rest" — resolved against
what was said before (mentions, latest clause first), keeping what affords what the verb needs."""

from __future__ import annotations

from typing import Any

from robocortex.brain.goal_language import Selector, categories
from robocortex.brain.understanding.lexicon import Word
from robocortex.brain.understanding.words import TEMPLATE_NEEDS, EVERYTHING, NotUnderstood, Ref, Mention


class References:
    """Part of the `Interpreter` (semantics.py): its methods read `self`'s lexicon, scene, words,
    goals, notes, mentions and the other parts' methods."""

    def pronoun(self, w: Word, role: str, plural: bool | None = None) -> Ref:
        if plural is None:
            plural = w.base in self.lex.values["plural_pronouns"]
        if plural:
            refs = self.antecedents(role)
            if len(refs) == 1:
                return refs[0]
            return Ref(refs[0].selector, w.text, frozenset().union(*(r.types for r in refs)), plural=True, refs=refs)
        return self.antecedent(role)

    def _fits(self, ref: Ref, role: str, typed: bool) -> bool:
        need = TEMPLATE_NEEDS.get(role)
        if ref.room or ref.product or ref.wish is not None and ref.selector == Selector():
            return False
        if typed and not (ref.selector.type or ref.selector.category):
            return False
        if self.local and ref.types and ref.types <= self.local:  # a pronoun in a verb's phrase is not its object
            return False
        types = ref.types | frozenset(self.lex.controls.get(t, t) for t in ref.types)  # a burner's knob
        return not (need and ref.types and not self.scene.can(types, need))

    def _by_clause(self) -> list[list[Mention]]:
        """Mentions grouped by clause, the latest clause first; in a clause its objects before its places."""
        groups: dict[int, list[Mention]] = {}
        for m in self.mentions:
            groups.setdefault(m.clause, []).append(m)
        return [sorted(groups[k], key=lambda m: m.ref.role != "object") for k in sorted(groups, reverse=True)]

    def antecedent(self, role: str, typed: bool = False) -> Ref:
        for loose in (False, True):  # what fits the verb; else the latest object ("heat it up": a cup)
            for group in self._by_clause():
                for m in group:
                    if self._fits(m.ref, "" if loose else role, typed):
                        return m.ref
        if not self.mentions and role in ("adj", "subject", "product"):  # "make it dark", "I want it bright": the room
            return Ref(EVERYTHING, "it", room=True)
        raise NotUnderstood("I don't know what 'it' refers to here: name the object", [("it", None)])

    def antecedents(self, role: str) -> list[Ref]:
        """"them", "both": the objects of the latest clause that fit."""
        for group in self._by_clause():
            refs = [m.ref for m in group if self._fits(m.ref, role, False)]
            objects = [r for r in refs if r.role == "object"]
            if objects or refs:
                return objects or refs
        raise NotUnderstood("I don't know what 'them' refers to here: name the objects", [("them", None)])

    def rest(self, ante: Ref, text: str) -> Ref:
        """"the rest (of X)", "the other one": what goal `ante` (or the latest goal on the same kind of
        thing) leaves."""
        sel = ante.selector
        index = None
        for m in reversed(self.mentions):
            s = m.ref.selector
            if m.goal is None:
                continue
            if m.ref is ante or (s.type and (s.type == sel.type or sel.category and s.type in categories()[sel.category])) \
                    or (s.category and s.category == sel.category):
                index = m.goal
                break
        if index is None:
            raise NotUnderstood(f"{text!r}: the rest of what? Say which objects first", [(text, None)])
        piece = sel.piece or (self.goals[index].subject.piece and self.goals[index].subject.type == sel.type
                              if index < len(self.goals) else False)
        if index < len(self.goals) and self.goals[index].subject.quantifier == "at_least":
            # "two of the toys on the bed and the rest on the floor": a partition, so exactly two
            g = self.goals[index]
            self.goals[index] = g.model_copy(update={"subject": g.subject.model_copy(update={"quantifier": "exactly"})})
        rest = Selector(type=sel.type, category=sel.category, piece=piece, quantifier="rest", rest_of=index)
        return Ref(rest, text, ante.types, plural=True)

    def list_rest(self, ante: Ref, text: str) -> Ref | None:
        """"grab the apple and the tomato, put the first one in the fridge and the other one in the bowl",
        "wash the plate and the bowl, then put the plate away and the rest on the table": when the scene has
        no more of the antecedent's kind, "the other(s)"/"the rest" are the other objects of the latest list
        that named it."""
        t = ante.selector.type
        if not t or ante.selector.category or self.scene.types.get(t, 0) != 1:
            return None
        for group in self._by_clause():
            refs = [m.ref for m in group if m.ref.role == "object" and not m.ref.room and not m.ref.product]
            if len(refs) >= 2 and any(r.selector.type == t for r in refs):
                others = [r for r in refs if r.selector.type != t]
                if not others:
                    return None
                if len(others) == 1:
                    o = others[0]
                    return Ref(o.selector, text, o.types, plural=o.plural)
                return Ref(others[0].selector, text, frozenset().union(*(o.types for o in others)), plural=True,
                           refs=[Ref(o.selector, o.text, o.types, plural=o.plural) for o in others])
        return None

    def other_kind(self, ante: Ref) -> Ref | None:
        """"the desk lamp … the other one" when there is one desk lamp: another lamp (the types the
        antecedent's last word names)."""
        t = ante.selector.type
        if not t or self.scene.types.get(t, 0) != 1 or not ante.text:
            return None
        entry = self.lex.nouns.get(ante.text.split()[-1], {})
        others = [o for o in entry.get("types", []) if o != t and self.scene.has(o)]
        if not others:
            return None
        return Ref(Selector(type=others[0]), ante.text, frozenset({others[0]}))

    def other_of(self, w: Word, entry: dict[str, Any]) -> Ref | None:
        """"the other lamp", "the other fruit": of what the noun names, what the last one of it said
        leaves — the rest of its type when the scene has several, else the noun's next type here
        ("the floor lamp … the other lamp": the desk lamp; refused when there is none). None when
        nothing of the kind was said before ("the other side table" is just a name then)."""
        if "category" in entry:
            kinds = [t for t in categories()[entry["category"]] if self.scene.has(t)]
        else:
            kinds = [t for t in entry.get("types", []) if self.scene.has(t)]
        ante = next((m.ref for m in reversed(self.mentions) if m.ref.selector.type in kinds), None)
        if ante is None:
            return None
        if "category" in entry:
            cat = Ref(Selector(category=entry["category"]), w.text, frozenset(kinds), plural=True)
            return self.rest(cat, w.text)
        if self.scene.types.get(ante.selector.type or "", 0) > 1:
            return self.rest(ante, w.text)
        others = [t for t in kinds if t != ante.selector.type]
        if not others:
            raise NotUnderstood(f"there is no other {w.text} in this scene", [(w.text, None)])
        return Ref(Selector(type=others[0]), w.text, frozenset({others[0]}))

    def remember(self, ref: Ref, goal: int | None, role: str) -> None:
        ref.role = role
        self.mentions.append(Mention(ref, goal, self.clause))
