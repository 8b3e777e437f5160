"""Noun phrases → `Ref`s: nouns resolved against the scene (types, categories, rooms, products,
liquids, pieces), determiners and numbers as quantifiers, adjectives and relative clauses as filters,
exclusions ("everything but the knife"), and lists of noun phrases."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lark import Token, Tree
from lemminflect import getInflection

from robocortex.brain.goal_language import Condition, Goal, Placement, Selector, categories
from robocortex.brain.understanding.lexicon import Word, type_words
from robocortex.brain.understanding.words import (
    EVERYTHING,
    TEMPLATE_NEEDS,
    NotUnderstood,
    negated,
    Ref,
    Mention,
    PP,
    _tokens,
    _kind,
    _sub,
)


class NounPhrases:
    """Part of the `Interpreter` (semantics.py): its methods read `self`'s lexicon, scene, words,
    goals, notes, mentions and the other parts' methods."""

    def word(self, tok: Token) -> Word:
        """The word a token stands for, with the base form of the reading the grammar chose."""
        w = self.words[int(tok.value)]  # type: ignore[arg-type]
        base = w.bases.get(tok.type)
        return w if base is None or base == w.base else replace(w, base=base)

    def text(self, tree: Tree | Token) -> str:
        return " ".join(self.word(t).text for t in _tokens(tree))

    def noun(self, w: Word) -> dict[str, Any]:
        entry = self.lex.nouns.get(w.base)
        if entry is None:
            raise NotUnderstood(f"I don't know the noun {w.text!r}", [(w.text, None)])
        return entry

    def type_for(self, w: Word, entry: dict[str, Any]) -> str:
        present = [t for t in entry.get("types", []) if self.scene.has(t)]
        if present:
            return present[0]
        wanted = list(entry.get("types", []))
        close = self.scene.close_to(w.base, wanted)
        hint = f" — the closest this scene has: {', '.join(type_words(t) for t in close)}" if close else ""
        raise NotUnderstood(f"there is no {w.base} in this scene{hint}", [(w.text, close[0] if close else None)])

    def category_ok(self, w: Word, cat: str) -> None:
        if not any(self.scene.has(t) for t in categories()[cat]):
            raise NotUnderstood(f"there are no {w.text} in this scene (the category {cat!r}: "
                                f"{', '.join(sorted(type_words(t) for t in categories()[cat]))})", [(w.text, None)])

    def np(self, tree: Tree, role: str = "object") -> Ref:
        if tree.data == "np_of":
            return self.np_of(tree, role)
        qtoks = [t for c in _sub(tree, "quant") for t in _tokens(c)]
        quant = [self.word(t) for t in qtoks]
        ref = self.head(_sub(tree, "head")[0], quant, qtoks, role)
        if _sub(tree, "all", "both"):  # "them all"
            for r in ref.refs or [ref]:
                r.selector = r.selector.model_copy(update={"quantifier": "all", "count": None})
        for a in _sub(tree, "adj"):
            self.add_filter(ref, self.word(_tokens(a)[-1]))
        for rel in _sub(tree, "relclause"):
            self.relclause(ref, rel)
        if ref.unbound:
            ref = self.the_one_there(ref, self.text(tree), role)
        for ex in [e for x in _sub(tree, "np_except") for e in _sub(x, "exclusion")]:
            self.exclude(ref, self.objects(_sub(ex, "objects")[0], "subject", Word("", "", frozenset())))
        ref.text = self.text(tree)
        return ref

    def widen(self, ref: Ref) -> None:
        """"any lamp" under a negation: every type the noun may mean here (their category), not the first."""
        sel = ref.selector
        if sel.quantifier != "a" or not sel.type or not ref.alternatives:
            return
        kinds = {sel.type, *ref.alternatives}
        cat = next((c for c, members in categories().items()
                    if {t for t in members if self.scene.has(t)} == kinds), None)
        if cat is not None:
            ref.selector = sel.model_copy(update={"type": None, "category": cat, "quantifier": "all"})
            ref.types = frozenset(categories()[cat])

    def the_one_there(self, ref: Ref, text: str, role: str = "object") -> Ref:
        """"the one on the toilet" with nothing named before it: the one object there now that affords
        what the verb needs (carrying, unless the verb says otherwise: "turn on the one on the desk");
        several (or none) cannot be told apart, and are refused naming "one"."""
        if ref.selector.located is None:
            raise NotUnderstood(f"{text!r}: which one? Name the object", [("one", None)])
        need = TEMPLATE_NEEDS.get(role) or "pickupable"
        found = {str(n["objectType"]) for n in ref.selector.select(self.scene.nodes)
                 if self.scene.can(frozenset({str(n["objectType"])}), need)}
        if len(found) != 1:
            what = f" ({', '.join(sorted(type_words(t) for t in found))})" if found else ""
            raise NotUnderstood(f"{text!r}: which one? There is {'more than one thing' if found else 'nothing'} "
                                f"there{what}: name it", [("one", None)])
        t = found.pop()
        return Ref(Selector(type=t), type_words(t), frozenset({t}))

    def exclude(self, ref: Ref, out: list[Ref]) -> None:
        """"everything but the knife", "all the fruit except the apple": the objects left out."""
        left = [Selector(type=o.selector.type, category=o.selector.category, id=o.selector.id,
                         states=o.selector.states, located=o.selector.located) for o in out]
        for r in ref.refs or [ref]:
            r.selector = r.selector.model_copy(update={"exclude": [*r.selector.exclude, *left]})

    def np_of(self, tree: Tree, role: str) -> Ref:
        """"a slice of bread", "the rest of the apples", "two of the mugs", "a cup of coffee", "none of"."""
        ref = self._np_of(tree, role)
        for a in _sub(tree, "adj"):  # "a toasted slice of bread": the state is wished for and filters
            self.add_filter(ref, self.word(_tokens(a)[-1]))
        return ref

    def _np_of(self, tree: Tree, role: str) -> Ref:
        qtoks = [t for c in _sub(tree, "quant") for t in _tokens(c)]
        quant = [self.word(t) for t in qtoks]
        head = _sub(tree, "head")[0]
        htoks = _tokens(head)
        hw = self.word(htoks[-1])
        kind = _kind(htoks[-1], {"NOUN", "REST", "OTHER", "ONE", "PRON", "EVERYTHING", "NOTHING", "ALL", "BOTH",
                                 "NUM"})
        inner = self.np(_sub(tree, "np", "np_of")[0], "with" if kind == "NOUN" else role)
        text = self.text(tree)
        if kind == "NOUN":
            entry = self.lex.nouns.get(hw.base, {})
            if inner.liquid and entry.get("types") and not entry.get("piece"):  # "a glass of water", "a cup of coffee"
                t = self.type_for(hw, entry)
                sel = self.quantify(Selector(type=t), quant, hw.plural, category=False)
                wish = Goal(subject=sel, condition=Condition(state="isFilledWithLiquid", liquid=inner.liquid))
                return Ref(sel, text, frozenset({t}), wish=wish)
            if inner.product or inner.liquid:
                return self.made(inner, quant, hw, text)
            if entry.get("piece") and len(inner.refs) > 1 and all(r.selector.type for r in inner.refs):
                # "a slice of each": a piece of every one of them
                refs = [Ref(self.quantify(r.selector.model_copy(update={"piece": True}), quant, hw.plural,
                                          category=False), text, r.types, plural=hw.plural) for r in inner.refs]
                return Ref(refs[0].selector, text, frozenset().union(*(r.types for r in refs)), plural=True, refs=refs)
            if entry.get("piece") and inner.selector.type and not inner.selector.piece:  # "a slice of bread"
                sel = inner.selector.model_copy(update={"piece": True})
                sel = self.quantify(sel, quant, hw.plural, category=False)
                return Ref(sel, text, inner.types, plural=hw.plural)
            if entry.get("piece") or entry.get("any"):  # "two pieces of fruit", "a slice of the rest"
                if inner.selector.quantifier == "rest":
                    return inner
                sel = self.quantify(inner.selector, quant, hw.plural, category=inner.selector.category is not None)
                return Ref(sel, text, inner.types, plural=hw.plural)
            self.notes.append(f"read {text!r} as {hw.text!r}")
            return self.head(head, quant, qtoks, role)
        if kind in ("REST", "OTHER"):
            return self.rest(inner, text)
        if kind == "NOTHING":  # "none of the dishes"
            inner.negate = True
            inner.selector = inner.selector.model_copy(update={"quantifier": "all", "count": None})
            return inner
        if kind in ("ALL", "BOTH", "EVERYTHING"):
            inner.selector = inner.selector.model_copy(update={"quantifier": "all", "count": None})
            return inner
        # a partitive picks a definite subset: "two of the apples" = exactly two, "one of them" = a
        number = hw.value if hw.value is not None else 1
        exact = [Word("exactly", "exactly", frozenset({"EXACTLY"}))] if number > 1 else []
        sel = self.quantify(inner.selector, quant + exact + [Word(hw.text, hw.base, frozenset({"NUM"}), value=number)],
                            False, category=False)
        return Ref(sel, text, inner.types, plural=number > 1)

    def made(self, inner: Ref, quant: list[Word], hw: Word, text: str) -> Ref:
        """"two pieces of toast", "a cup of coffee" (the product's own container unless one is named)."""
        sel = self.quantify(Selector(), quant, hw.plural, category=False)
        return Ref(sel, text, product=inner.product, liquid=inner.liquid)

    def head(self, head: Tree, quant: list[Word], qtoks: list[Token], role: str) -> Ref:
        """What a noun phrase's head names: an id, everything/nothing, a pronoun, "one", "the other(s)",
        an ordinal, or a noun (noun_phrase)."""
        toks = _tokens(head)
        last = toks[-1]
        w = self.word(last)
        kind = _kind(last, {"NOUN", "ONE", "OTHER", "REST", "EVERYTHING", "NOTHING", "PRON", "ID", "ALL", "BOTH", "ORD"})
        if kind == "ORD":  # "take the mug and the cup; put the first in the sink": one of those just named
            k = int(w.value) if w.value is not None else 1
            for group in self._by_clause():  # the latest list long enough
                refs = [m.ref for m in group if m.ref.role == "object" and not m.ref.room and not m.ref.product]
                if len(refs) >= max(2, abs(k)):
                    return refs[k - 1] if k > 0 else refs[k]
            raise NotUnderstood(f"{w.text!r}: of which? Name the objects", [(w.text, None)])
        negate = any("NO" in x.cats for x in quant)
        if kind == "ID":
            oid = str(w.value)
            return Ref(Selector(id=oid), w.text, frozenset({self.scene.nodes[oid]["objectType"]}))
        cat = next((self.lex.nouns[self.word(t).base]["category"] for t in toks[:-1]
                    if "category" in self.lex.nouns.get(self.word(t).base, {})), None)
        if kind == "EVERYTHING" and cat is not None:  # "the sports stuff", "cleaning things"
            sel = self.quantify(Selector(category=cat), quant, True, category=True)
            return Ref(sel, w.text, categories()[cat], plural=True)
        if kind in ("EVERYTHING", "NOTHING"):  # "everything", "nothing", "exactly two things"
            sel = self.quantify(Selector(), quant, True, category=True) if kind == "EVERYTHING" else EVERYTHING
            if w.base in self.lex.values["everything_else"]:  # "… and everything else": what was not named
                named = {m.ref.selector.type for m in self.mentions if m.ref.role == "object" and m.ref.selector.type}
                sel = sel.model_copy(update={"exclude": [Selector(type=t) for t in sorted(named)]})
            return Ref(sel, w.text, categories()["pickupables"], plural=True, negate=kind == "NOTHING")
        if kind in ("PRON", "ALL", "BOTH"):
            return self.pronoun(w, role, plural=kind != "PRON" or None)
        if kind == "ONE":
            try:
                ante = self.antecedent(role, typed=True)
            except NotUnderstood:
                if role == "target" or not any("DET" in x.cats for x in quant) or \
                        any({"OTHER", "ANOTHER"} & x.cats for x in quant):
                    raise
                # "grab the one on the toilet", nothing said before: what is there (np, after its clause)
                return Ref(Selector(), w.text, categories()["pickupables"], unbound=True)
            if any("OTHER" in x.cats for x in quant):
                other = self.other_kind(ante) or self.list_rest(ante, w.text)
                return other if other is not None else self.rest(ante, w.text)
            sel = self.quantify(Selector(type=ante.selector.type, category=ante.selector.category,
                                         piece=ante.selector.piece), quant + [w], False, category=False)
            return Ref(sel, w.text, ante.types)
        if kind in ("OTHER", "REST"):
            ante = self.antecedent(role, typed=True)
            return self.list_rest(ante, w.text) or self.rest(ante, w.text)
        return self.noun_phrase(w, [self.word(t) for t in toks[:-1]], quant, role)

    def noun_phrase(self, w: Word, modifiers: list[Word], quant: list[Word], role: str) -> Ref:
        """A noun head with the nouns before it: a type, a category, a room, a product, a liquid, pieces."""
        negate = any("NO" in x.cats for x in quant)
        entry = self.noun(w)
        while entry.get("room") and modifiers and not self.noun(modifiers[-1]).get("room"):
            w, modifiers = modifiers[-1], modifiers[:-1]  # "the lights in here": the room is the scene
            entry = self.noun(w)
        typed = [m for m in modifiers if self.lex.nouns.get(m.base, {}).get("types")]
        if entry.get("part_of"):  # "the fridge door": the fridge
            if not typed:  # "power down the laptop, shut the lid": the lid of what was just named, if it fits
                try:
                    ante = self.antecedent(role, typed=True)
                except NotUnderstood:
                    ante = None
                if ante is None or not ante.selector.type or ante.room:
                    raise NotUnderstood(f"the {w.text} of what? Name the thing ('the fridge {w.text}')",
                                        [(w.text, None)])
                return Ref(Selector(type=ante.selector.type), ante.text, ante.types)
            w, entry, modifiers = replace(typed[-1], plural=w.plural), self.lex.nouns[typed[-1].base], modifiers[:-1]
            typed = typed[:-1]
        compounds = [m for m in typed if " " in m.base]
        if compounds and entry.get("types") and not entry.get("any") and not entry.get("piece") and \
                len(compounds) == len(modifiers):  # "the salt shaker pepper shaker": a list missing its comma
            refs = [self.noun_phrase(m, [], quant, role) for m in compounds] + [self.noun_phrase(w, [], quant, role)]
            return Ref(refs[0].selector, w.text, frozenset().union(*(r.types for r in refs)), plural=True, refs=refs)
        if entry.get("any") and typed:  # "a toilet paper roll", "the soap bar": the thing the measure is of
            w, entry, modifiers = replace(typed[-1], plural=w.plural), self.lex.nouns[typed[-1].base], []
        if entry.get("any"):  # "the sports stuff", "cleaning things": a category word before a general noun
            cat = next((self.lex.nouns[m.base]["category"] for m in modifiers
                        if "category" in self.lex.nouns.get(m.base, {})), None)
            if cat is not None:
                entry = {"category": cat}
        for m in modifiers:
            e = self.lex.nouns.get(m.base, {})
            if e.get("piece") and entry.get("types") and "ADJ" in m.bases:  # "the sliced apple": its pieces
                t = self.type_for(w, entry)
                sel = self.quantify(Selector(type=t, piece=True), quant, True, category=False)
                whole = Selector(type=t, quantifier="a" if sel.quantifier == "a" else "the")
                return Ref(sel, w.text, frozenset({t}), plural=True,
                           wish=Goal(subject=whole, condition=Condition(state="isSliced")))
            if entry.get("piece") and e.get("types"):  # "a bread slice"
                t = self.type_for(m, e)
                sel = self.quantify(Selector(type=t, piece=True), quant, w.plural, category=False)
                return Ref(sel, w.text, frozenset({t}), plural=w.plural)
            if not e.get("room") and "category" not in e:
                self.notes.append(f"read {m.text!r} {w.text!r} as {w.text!r}")
        if any("OTHER" in x.cats for x in quant):  # "the other lamp", "the other fruit"
            other = self.other_of(w, entry)
            if other is not None:
                return other
        if entry.get("room"):
            return Ref(EVERYTHING, w.text, room=True)
        if entry.get("any"):
            sel = self.quantify(Selector(), quant, True, category=True)
            return Ref(sel, w.text, categories()["pickupables"], plural=True, negate=negate)
        if entry.get("piece") and w.plural and not any({"NUM", "ONE", "INDEF"} & x.cats for x in quant):
            # "slice the apple and the tomato, then put the slices in the bowl": the pieces of each
            antes = [r for r in self.antecedents("sliced") if r.selector.type]
            if len(antes) > 1:
                refs = [Ref(self.quantify(Selector(type=a.selector.type, piece=True), quant, True, category=False),
                            w.text, a.types, plural=True) for a in antes]
                return Ref(refs[0].selector, w.text, frozenset().union(*(r.types for r in refs)), plural=True,
                           refs=refs)
        if entry.get("piece"):  # "a slice", "the slices": of what was just cut
            ante = self.antecedent("sliced", typed=True)
            sel = self.quantify(Selector(type=ante.selector.type, piece=True), quant, w.plural, category=False)
            return Ref(sel, w.text, ante.types, plural=w.plural)
        if entry.get("switched_by") and role in ("toggled_on", "toggled_off", "adj", "subject"):  # "the water off"
            entry = {"types": entry["switched_by"]}
        if entry.get("liquid") and (role == "with" or role != "product" and not entry.get("types")):
            # "pour coffee into …", "a glass of wine"
            return Ref(Selector(), w.text, liquid=entry["liquid"])
        if entry.get("product") and (role in ("product", "with") or not entry.get("types")):
            sel = self.quantify(Selector(), quant, w.plural, category=False)
            return Ref(sel, w.text, product=entry["product"], plural=w.plural)
        if "category" in entry:
            cat = entry["category"]
            self.category_ok(w, cat)
            sel = self.quantify(Selector(category=cat), quant, w.plural, category=True)
            return Ref(sel, w.text, categories()[cat], plural=True, negate=negate)
        if entry.get("liquid") and not entry.get("types"):
            return Ref(Selector(), w.text, liquid=entry["liquid"])
        t = self.type_for(w, entry)
        sel = self.quantify(Selector(type=t), quant, w.plural, category=False)
        alternatives = tuple(x for x in entry.get("types", []) if x != t and self.scene.has(x))
        plural = self.lex.nouns.get(getInflection(w.base, "NNS")[0] if getInflection(w.base, "NNS") else "", {})
        if sel.quantifier == "all" and "category" in plural:  # "every light": the lights
            return Ref(sel.model_copy(update={"type": None, "category": plural["category"]}), w.text,
                       categories()[plural["category"]], plural=True, negate=negate)
        return Ref(sel, w.text, frozenset({t}), plural=sel.quantifier not in ("the", "a"), negate=negate,
                   alternatives=alternatives)

    def quantify(self, sel: Selector, quant: list[Word], plural: bool, category: bool) -> Selector:
        """The quantifier the determiners, numbers and plural say (docs/language.md)."""
        cats = [x.cats for x in quant]
        number = next((x.value if x.value is not None else 1 for x in quant if {"NUM", "ONE"} & x.cats), None)

        def has(name: str) -> bool:
            return any(name in c for c in cats)

        if has("NO"):
            return sel.model_copy(update={"quantifier": "all", "count": None})
        part = next((x for x in quant if "FRAC" in x.cats and isinstance(x.value, dict)), None)
        if part is not None:  # "half of the drawers", "most of the lights", "all but one of the cabinets"
            return self.part_of_set(sel, part)
        if has("EXACTLY") and number is not None:
            return sel.model_copy(update={"quantifier": "exactly", "count": number})
        if has("ATLEAST") and number is not None:
            return sel.model_copy(update={"quantifier": "at_least", "count": number})
        if has("ALL") or has("BOTH"):
            return sel.model_copy(update={"quantifier": "all", "count": None})
        if number is not None:
            if number == 1:
                return sel.model_copy(update={"quantifier": "a", "count": None})
            return sel.model_copy(update={"quantifier": self.lex.bare_number_quantifier, "count": number})
        if has("INDEF") or has("ANOTHER"):
            return sel.model_copy(update={"quantifier": "a", "count": None})
        if plural or category:
            return sel.model_copy(update={"quantifier": "all", "count": None})
        return sel.model_copy(update={"quantifier": "the", "count": None})

    def part_of_set(self, sel: Selector, part: Word, but: int | None = None) -> Selector:
        """A share of the set `sel` names, counted on the scene (function_words.yaml `fractions`)."""
        n = len(sel.model_copy(update={"quantifier": "all", "count": None}).select(self.scene.nodes))
        spec = part.value if isinstance(part.value, dict) else {"but": but}
        if spec.get("but") is not None:
            count, quantifier = n - int(spec["but"]), "exactly"
        else:
            count, quantifier = max(1, int(n * float(spec["share"])) + int(spec.get("more", 0))), spec["quantifier"]
        if count < 1 or count > n or n < 2:
            raise NotUnderstood(f"{part.text!r}: this scene has {n} of those, too few for that", [(part.text, None)])
        if count == n:
            return sel.model_copy(update={"quantifier": "all", "count": None})
        return sel.model_copy(update={"quantifier": quantifier, "count": count})

    def add_filter(self, ref: Ref, w: Word) -> None:
        """"the dirty mugs", "a cracked egg" (pieces), "a hot potato" (kept as a wish too)."""
        for cond in self.adjective_conditions(w, ref, as_filter=True):
            sel = ref.selector
            if cond.state == "isSliced" and cond.value:  # "the sliced apple": all its pieces
                q = "all" if sel.quantifier == "the" else sel.quantifier
                ref.selector = sel.model_copy(update={"piece": True, "quantifier": q})
            elif cond.state is not None:
                ref.selector = sel.model_copy(update={"states": {**sel.states, cond.state: cond.value}})
            elif cond.temperature is not None:
                ref.selector = sel.model_copy(update={"temperature": cond.temperature})
            base = ref.selector.model_copy(update={"states": {}, "temperature": None})
            if cond.state == "isSliced":  # "I want a sliced apple": the apple sliced
                base = base.model_copy(update={"piece": False, "quantifier": "a" if base.quantifier == "a" else "the"})
            ref.wish = Goal(subject=base, condition=cond) if ref.wish is None else ref.wish

    def relclause(self, ref: Ref, rel: Tree) -> None:
        negate = any("NOT" in self.word(t).cats for c in _sub(rel, "be_phrase") for t in _tokens(c))
        for part in _sub(rel, "predicate")[0].children:
            if isinstance(part, Tree) and part.data == "pp":
                self.locate(ref, self.pp(part), negate)
            elif isinstance(part, Tree) and part.data in ("adj", "on", "off"):
                for cond in self.adjective_conditions(self.word(_tokens(part)[-1]), ref, as_filter=True):
                    cond = negated(cond) if negate else cond
                    if cond.state is not None:
                        ref.selector = ref.selector.model_copy(
                            update={"states": {**ref.selector.states, cond.state: cond.value}})
                    elif cond.temperature is not None and not cond.negate:
                        ref.selector = ref.selector.model_copy(update={"temperature": cond.temperature})

    def locate(self, ref: Ref, pp: PP, negate: bool = False) -> None:
        """"the mug in the sink", "the stuff from the fridge": where the objects are now."""
        if pp.ref.room:
            return
        if negate or pp.prep in self.lex.values["located_only"]:  # "next to", "near": not a relation goals have
            self.notes.append(f"ignored the filter 'not {pp.prep} {pp.ref.text}'")
            return
        placement = Placement(relation=self.relation(pp), target=self.target(pp.ref))
        ref.selector = ref.selector.model_copy(update={"located": placement})
        if ref.alternatives and not self._picks(ref.selector):  # "the lamp on the side table": the desk lamp
            alt = next((t for t in ref.alternatives if self._picks(ref.selector.model_copy(update={"type": t}))), None)
            if alt is not None:
                rest = tuple(t for t in (ref.selector.type, *ref.alternatives) if t and t != alt)
                ref.selector = ref.selector.model_copy(update={"type": alt})
                ref.types, ref.alternatives = frozenset({alt}), rest

    def _picks(self, sel: Selector) -> bool:
        return bool(sel.model_copy(update={"quantifier": "all", "count": None}).select(self.scene.nodes))

    def target(self, ref: Ref) -> Selector:
        s = ref.selector
        return Selector(type=s.type, category=s.category, id=s.id)

    def _restriction(self, np: Tree) -> bool:
        """A bare "just one"/"only one" after a noun phrase: a restriction of it, not another object."""
        head, quant = _sub(np, "head"), [t for q in _sub(np, "quant") for t in _tokens(q)]
        return np.data == "np" and bool(head) and _kind(_tokens(head[0])[-1], {"ONE"}) is not None and \
            len(quant) == 1 and _kind(quant[0], {"EXACTLY"}) is not None

    def objects(self, tree: Tree | None, role: str, verb: Word) -> list[Ref]:
        if tree is None:
            raise NotUnderstood(f"{verb.text} what? Name the object(s) to {verb.base}", [(verb.text, None)])
        out: list[Ref] = []
        but: list[Ref] = []  # "everything but the knife": after a whole set, "but" leaves things out
        listed: list[Mention] = []
        nor = False  # "neither the tv nor the lamp": what follows "nor" is negated too
        alternative = False  # after "either A or": B is an alternative to A
        for child in tree.children:
            if isinstance(child, Tree) and child.data == "and" and self.word(_tokens(child)[-1]).base == "but" \
                    and out and all(r.selector.quantifier == "all" for r in out):
                but = out
            elif isinstance(child, Tree) and child.data == "and":
                nor = "NO" in self.word(_tokens(child)[-1]).cats
                alternative = self.word(_tokens(child)[-1]).value == "either" and not self.negating
            elif alternative:  # "turn on either the floor lamp or the desk lamp": the first will do
                self.notes.append(f"or {self.text(child)!r}: an alternative is no goal")
            elif isinstance(child, Tree) and child.data in ("np", "np_of"):
                head = _sub(child, "head")
                if but and head and _kind(_tokens(head[0])[-1], {"ONE", "NUM"}):  # "every drawer but one"
                    w = self.word(_tokens(head[0])[-1])
                    for u in but:  # all of the set but that many: exactly the others
                        u.selector = self.part_of_set(u.selector, w, but=int(w.value or 1))
                    but = []
                    continue
                if out and self._restriction(child):  # "open one drawer, just one": the count, said again
                    out[-1].selector = out[-1].selector.model_copy(update={"quantifier": "exactly", "count": 1})
                    continue
                ref = self.np(child, role)
                if nor:
                    for r in ref.refs or [ref]:
                        r.negate = True
                if nor or self.negating:  # "… nor any lamp": under negation, "any" is every kind the noun names
                    for r in ref.refs or [ref]:
                        self.widen(r)
                if but:
                    for u in but:
                        self.exclude(u, ref.refs or [ref])
                else:
                    for r in ref.refs or [ref]:  # "grab a knife and the other one": earlier in the list
                        listed.append(Mention(r, len(self.goals) + len(out), self.clause))
                        out.append(r)
                    self.mentions += listed[-len(ref.refs or [ref]):]
        self.mentions = [m for m in self.mentions if not any(m is x for x in listed)]  # remembered with goals
        return out
