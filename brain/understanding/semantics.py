"""From a parse tree to goals: noun phrases resolved against the scene, verbs applied through their
templates (verbs.yaml), pronouns and "the rest" resolved against what was said before, stages from
the connectives and markers ("then", "once", "before", "after"), conditions from "if"/"unless"/
"otherwise", self-corrections ("… no, in the sink") replacing what they correct.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from typing import Any

from lark import Token, Tree
from lemminflect import getInflection

from robocortex.brain.goal_language import Condition, Goal, Placement, Selector, categories, piece_type
from robocortex.brain.planner import PlanningError
from robocortex.brain.understanding.lexicon import Lexicon, VerbFrames, Word, type_words
from robocortex.knowledge.object_types import OBJECT_TYPES
from robocortex.knowledge.placement import accepts

# What a pronoun's referent must afford for the verb at hand ("close it" after "put the apple in the
# fridge" is the fridge: an apple cannot be closed).
TEMPLATE_NEEDS = {"opened": "openable", "closed": "openable", "toggled_on": "toggleable",
                  "toggled_off": "toggleable", "sliced": "sliceable", "cooked": "cookable",
                  "dirtied": "dirtyable", "cleaned": "dirtyable", "filled": "canFillWithLiquid",
                  "emptied": "canFillWithLiquid", "broken": "breakable", "used_up": "canBeUsedUp",
                  "held": "pickupable", "released": "pickupable", "trashed": "pickupable",
                  "place": "pickupable", "target": "receptacle"}
STATE_NEEDS = {"isCooked": "cookable", "isSliced": "sliceable", "isOpen": "openable", "isToggled": "toggleable",
               "isDirty": "dirtyable", "isFilledWithLiquid": "canFillWithLiquid", "isBroken": "breakable",
               "isUsedUp": "canBeUsedUp"}
EVERYTHING = Selector(quantifier="all")  # no type: what can be carried (goal_language, docs/language.md)


class NotUnderstood(PlanningError):
    """The instruction could not be read; the message names the words and what was meant instead.

    `words`: the words not understood (or not found in the scene), each with the closest known one."""

    def __init__(self, message: str, words: list[tuple[str, str | None]] | None = None):
        super().__init__(message)
        self.words = words or []


def negated(cond: Condition) -> Condition:
    """The opposite condition: a state's other value, a place negated."""
    if cond.state is not None and cond.liquid is None:
        return cond.model_copy(update={"value": not cond.value})
    if cond.held is not None:
        return cond.model_copy(update={"held": not cond.held})
    return cond.model_copy(update={"negate": not cond.negate})


def negate_goal(goal: Goal) -> Goal:
    return goal.model_copy(update={"condition": negated(goal.condition)})


# --------------------------------------------------------------------------- the scene, as words see it


class SceneWords:
    """What the scene has, for resolving nouns: types present, ids, and each type's affordances."""

    def __init__(self, nodes: dict[str, dict[str, Any]]):
        self.nodes = nodes
        objects = [n for n in nodes.values() if n.get("kind", "object") == "object" and n.get("objectType")]
        self.types: dict[str, int] = {}
        self.flags: dict[str, dict[str, bool]] = {}
        for n in objects:
            t = str(n["objectType"])
            self.types[t] = self.types.get(t, 0) + 1
            known = OBJECT_TYPES.get(t)
            flags = self.flags.setdefault(t, known.flags() if known is not None else {})
            for k, v in n.items():
                if isinstance(v, bool) and not k.startswith("is"):
                    flags[k] = flags.get(k, False) or v
        self.ids = {str(n["id"]).lower(): str(n["id"]) for n in objects}

    def has(self, t: str) -> bool:
        return t in self.types

    def can(self, types: frozenset[str], affordance: str) -> bool:
        return any(self.flags.get(t, _flags(t)).get(affordance, False) for t in types)

    def close_to(self, word: str, wanted: list[str]) -> list[str]:
        """Scene types close to what was asked: sharing a category with the wanted types, or spelled alike."""
        out: list[str] = []
        for name, c in categories().items():
            if c & set(wanted) and name != "pickupables":
                out += [t for t in sorted(c) if self.has(t) and t not in out and not t.endswith(("Sliced", "Cracked"))]
        by_words = {type_words(t): t for t in self.types}
        for w in difflib.get_close_matches(word, list(by_words), n=3, cutoff=0.6):
            if by_words[w] not in out:
                out.append(by_words[w])
        return out[:5]


def _flags(t: str) -> dict[str, bool]:
    known = OBJECT_TYPES.get(t)
    return known.flags() if known is not None else {}


# --------------------------------------------------------------------------- what was said


@dataclass
class Ref:
    """A noun phrase, resolved: the selector it stands for and what else the semantics needs."""

    selector: Selector
    text: str
    types: frozenset[str] = frozenset()
    plural: bool = False
    negate: bool = False
    room: bool = False
    product: str | None = None
    liquid: str | None = None
    wish: Goal | None = None  # "a cup of coffee", "a hot potato": the goal the phrase itself asks for
    refs: list["Ref"] = field(default_factory=list)  # a pronoun standing for several phrases
    role: str = "object"  # object | target: how it was last mentioned
    alternatives: tuple[str, ...] = ()  # other types the noun may mean here ("holder": towel or hand towel holder)


@dataclass
class Mention:
    ref: Ref
    goal: int | None  # index of the first goal said of it
    clause: int = 0


@dataclass
class PP:
    prep: str  # the preposition's lexicon phrase
    kind: str  # PREP, ON, OFF, FROM, WITH
    ref: Ref


@dataclass
class Said:
    """One item of the sequence, kept so that a self-correction can redo it."""

    start: int  # its first goal index
    verb: Word | None = None
    refs: list[Ref] = field(default_factory=list)
    comps: list[Any] = field(default_factory=list)


@dataclass
class Reading:
    """How one verb is read with what follows its objects."""

    frames: VerbFrames
    template: str | None = None
    adjs: list[Word] = field(default_factory=list)
    pps: list[PP] = field(default_factory=list)
    dest: PP | None = None  # where the objects go
    negplace: PP | None = None  # where they must not be ("take X out of Y")
    filters: list[PP] = field(default_factory=list)  # where they are now ("the mug from the desk")
    liquid: str | None = None

    def instrument(self, pp: PP) -> bool:
        """A phrase naming the verb's tool or appliance ("in the microwave"): the means, not a goal."""
        return bool(self.frames.instruments and pp.ref.types & self.frames.instruments)


@dataclass
class Flow:
    """Where the sequence is: the stage, the last item's goals, a marker or condition still open."""

    stage: int = 0
    last: list[int] = field(default_factory=list)
    last_said: Said = field(default_factory=lambda: Said(0))
    pending_before: list[int] | None = None  # "before X, P": X's goals, staged once P is read
    condition: tuple[list[Goal], bool] | None = None  # the last "if" (negated for "unless")
    conn: list[Word] = field(default_factory=list)
    first: bool = True
    asked_state: bool = False
    new_sentence: bool = False


def _items(tree: Tree) -> list[Tree]:
    """The sequence's children as items and connectives ("if C G" without a comma is two items)."""
    children: list[Tree] = []
    for c in tree.children:
        if isinstance(c, Tree) and c.data == "item" and len(c.children) > 1:
            children += [Tree("item", [c.children[0]]), Tree("item", [c.children[1]])]
        elif isinstance(c, Tree) and c.data == "corr":  # a correction is a connective
            children.append(Tree("conn", c.children))
        elif isinstance(c, Tree) and c.data == "fragment":
            children.append(Tree("item", [Tree("plain", [c])]))
        elif isinstance(c, Tree):
            children.append(c)
    return children


def _tokens(tree: Tree | Token) -> list[Token]:
    if isinstance(tree, Token):
        return [tree]
    return list(tree.scan_values(lambda v: isinstance(v, Token)))


def _kind(tok: Token, wanted: set[str]) -> str | None:
    """Which of the wanted readings a (possibly combined) terminal has."""
    parts = set(tok.type[2:].split("_")) if tok.type.startswith("C_") else {tok.type}
    if "ENSURE" in parts and "NOT" in parts:
        parts = parts - {"ENSURE", "NOT"} | {"ENSURE_NOT"}
    hit = parts & wanted
    return next(iter(sorted(hit))) if hit else None


def _sub(tree: Tree, *names: str) -> list[Tree]:
    return [c for c in tree.children if isinstance(c, Tree) and c.data in names]


class Interpreter:
    def __init__(self, lex: Lexicon, scene: SceneWords, words: list[Word]):
        self.lex, self.scene, self.words = lex, scene, words
        self.goals: list[Goal] = []
        self.notes: list[str] = []
        self.mentions: list[Mention] = []
        self.last_action: tuple[Word | None, list[Any]] | None = None
        self.last_place: PP | None = None
        self.clause = 0

    def word(self, tok: Token) -> Word:
        """The word a token stands for, with the base form of the reading the grammar chose."""
        w = self.words[int(tok.value)]  # type: ignore[arg-type]
        base = w.bases.get(tok.type)
        return w if base is None or base == w.base else replace(w, base=base)

    def text(self, tree: Tree | Token) -> str:
        return " ".join(self.word(t).text for t in _tokens(tree))

    # ------------------------------------------------------------------ nouns

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
        for ex in [e for x in _sub(tree, "np_except") for e in _sub(x, "exclusion")]:
            self.exclude(ref, self.objects(_sub(ex, "objects")[0], "subject", Word("", "", frozenset())))
        ref.text = self.text(tree)
        return ref

    def exclude(self, ref: Ref, out: list[Ref]) -> None:
        """"everything but the knife", "all the fruit except the apple": the objects left out."""
        left = [Selector(type=o.selector.type, category=o.selector.category, id=o.selector.id,
                         states=o.selector.states, located=o.selector.located) for o in out]
        for r in ref.refs or [ref]:
            r.selector = r.selector.model_copy(update={"exclude": [*r.selector.exclude, *left]})

    def np_of(self, tree: Tree, role: str) -> Ref:
        """"a slice of bread", "the rest of the apples", "two of the mugs", "a cup of coffee", "none of"."""
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
            return Ref(sel, w.text, categories()["pickupables"], plural=True, negate=kind == "NOTHING")
        if kind in ("PRON", "ALL", "BOTH"):
            return self.pronoun(w, role, plural=kind != "PRON" or None)
        if kind == "ONE":
            ante = self.antecedent(role, typed=True)
            if any("OTHER" in x.cats for x in quant):
                other = self.other_kind(ante)
                return other if other is not None else self.rest(ante, w.text)
            sel = self.quantify(Selector(type=ante.selector.type, category=ante.selector.category,
                                         piece=ante.selector.piece), quant + [w], False, category=False)
            return Ref(sel, w.text, ante.types)
        if kind in ("OTHER", "REST"):
            return self.rest(self.antecedent(role, typed=True), w.text)
        return self.noun_phrase(w, [self.word(t) for t in toks[:-1]], quant, role)

    def noun_phrase(self, w: Word, modifiers: list[Word], quant: list[Word], role: str) -> Ref:
        """A noun head with the nouns before it: a type, a category, a room, a product, a liquid, pieces."""
        negate = any("NO" in x.cats for x in quant)
        entry = self.noun(w)
        while entry.get("room") and modifiers and not self.noun(modifiers[-1]).get("room"):
            w, modifiers = modifiers[-1], modifiers[:-1]  # "the lights in here": the room is the scene
            entry = self.noun(w)
        typed = [m for m in modifiers if self.lex.nouns.get(m.base, {}).get("types")]
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
        if entry.get("room"):
            return Ref(EVERYTHING, w.text, room=True)
        if entry.get("any"):
            sel = self.quantify(Selector(), quant, True, category=True)
            return Ref(sel, w.text, categories()["pickupables"], plural=True, negate=negate)
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

    # ------------------------------------------------------------------ references

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

    def remember(self, ref: Ref, goal: int | None, role: str) -> None:
        ref.role = role
        self.mentions.append(Mention(ref, goal, self.clause))

    # ------------------------------------------------------------------ filters

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

    def target(self, ref: Ref) -> Selector:
        s = ref.selector
        return Selector(type=s.type, category=s.category, id=s.id)

    # ------------------------------------------------------------------ templates

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
            return [(EVERYTHING, Condition(relation=relation, target=self.target(ref), negate=True))]
        if "target" in spec and isinstance(spec["target"], str):
            w = Word(spec["target"], spec["target"], frozenset({"NOUN"}))
            spec["target"] = Selector(type=self.type_for(w, self.noun(w)))
        subject = ref.selector
        need = STATE_NEEDS.get(spec.get("state", ""))
        if need and not (subject.type or subject.category or subject.id or subject.ids):
            # "turn everything off": everything that can be, type by type
            types = sorted(t for t in self.scene.types if self.scene.can(frozenset({t}), need))
            if not types:
                raise NotUnderstood(f"nothing in this scene can be {spec.get('state')}", [(ref.text, None)])
            return [(subject.model_copy(update={"type": t}), Condition(**spec)) for t in types]
        if need and subject.type and not subject.piece and not self.scene.can(frozenset({subject.type}), need) \
                and self.scene.can(frozenset({piece_type(subject.type)}), need):
            subject = subject.model_copy(update={"piece": True})  # "toast the bread": its slices (AI2-THOR)
        if spec.get("state") == "isToggled" and subject.type and not self.scene.can(frozenset({subject.type}),
                                                                                     "toggleable"):
            control = self.lex.controls.get(subject.type)  # "turn on a burner": its knob
            if control and self.scene.has(control):
                subject = subject.model_copy(update={"type": control, "located": None})  # where the burner is
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

    # ------------------------------------------------------------------ prepositional phrases

    def pp(self, tree: Tree, role: str = "target") -> PP:
        kind = tree.children[0].data.upper()
        prep = self.word(_tokens(tree.children[0])[-1]).base
        if prep in self.lex.values["located_only"]:
            role = "subject"  # "next to it": anything, not a receptacle
        ref = self.np(tree.children[1], "with" if kind == "WITH" else role)
        return PP(prep, kind, ref)

    def pro_pp(self, tree: Tree) -> PP:
        """"there" (the last place named), a bare "inside"/"in" (in the last receptacle named)."""
        if tree.data == "where_was":  # "put the toilet paper where it was": where that thing was at the start
            where = self.container_of(self.antecedent("subject"))
            if where is None:
                raise NotUnderstood("'where it was': I don't know where that was", [("where", None)])
            return PP("on", "PREP", where.ref)
        if tree.data == "there":
            if self.last_place is None:
                raise NotUnderstood("'there': where? Name the place", [("there", None)])
            return self.last_place
        prep = self.word(_tokens(tree)[-1]).base
        return PP(prep, "PREP", self.antecedent("target"))

    def relation(self, pp: PP) -> str:
        return str(self.lex.values["relation"].get(pp.prep, "in_or_on"))

    # ------------------------------------------------------------------ actions

    def frames(self, verb: Word) -> VerbFrames:
        frames = self.lex.verbs.get(verb.base)
        if frames is None:
            raise NotUnderstood(f"I don't know the verb {verb.text!r}", [(verb.text, None)])
        return frames

    def split_comps(self, comps: list[Any]) -> tuple[list[Word], list[Word], list[PP], list[Tree]]:
        particles, adjs, pps, pros = [], [], [], []
        for c in comps:
            if isinstance(c, Tree) and c.data == "pp" and c.children[0].data in ("on", "off") and \
                    self.lex.nouns.get(self.word(_tokens(c.children[1])[-1]).base, {}).get("room"):
                particles.append(self.word(_tokens(c.children[0])[-1]))  # "turn the lights off in here"
            elif isinstance(c, Tree) and c.data == "pp":
                pps.append(c)
            elif isinstance(c, Tree) and c.data in ("there", "prep", "where_was"):
                pros.append(c)
            else:
                w = self.word(_tokens(c)[-1])
                (adjs if isinstance(c, Tree) and c.data == "adj" else particles).append(w)
        return particles, adjs, pps, pros

    def action(self, verb: Word, objects: Tree | None, comps: list[Any], given: list[Ref] | None = None,
               said: Said | None = None) -> list[Goal]:
        """Goals of one verb over its objects; `given`: objects already resolved (a passive's subject)."""
        self.last_action = (verb, comps)  # before anything can fail: "turn on the tv… sorry, the radio"
        exclusions = [c for c in comps if isinstance(c, Tree) and c.data == "exclusion"]
        comps = [c for c in comps if not (isinstance(c, Tree) and c.data == "exclusion")]
        r = self.read_comps(verb, comps)
        role = r.template or ("place" if r.dest is not None or r.negplace is not None else "adj")
        refs = given if given is not None else self.objects(objects, "product" if r.frames.product else role, verb)
        poured = [pp for pp in r.pps if pp.kind in ("PREP", "ON") and not pp.ref.room]
        if r.frames.liquid and refs and all(x.liquid and not x.selector.type for x in refs) and poured:
            # "pour water into the mug": the mug filled with water
            r.liquid, refs, r.template, r.dest = refs[0].liquid, [poured[-1].ref], "filled", None
            r.filters = [pp for pp in r.filters if pp is not poured[-1]]
        for ex in exclusions:  # "put everything in the drawer except the knife"
            left = self.objects(_sub(ex, "objects")[0], "subject", verb)
            for ref in refs:
                self.exclude(ref, left)
        if said is not None:
            said.verb, said.refs, said.comps = verb, refs, comps
        goals: list[Goal] = []
        for ref in refs:
            goals += self.object_goals(verb, r, ref, len(self.goals) + len(goals))
        for pp in ([r.dest] if r.dest else []) + r.filters + ([r.negplace] if r.negplace else []):
            if pp.ref.text != "where it is":
                self.remember(pp.ref, None, "target")
                self.last_place = pp
        self.last_action = (verb, comps)
        return goals

    def read_comps(self, verb: Word, comps: list[Any]) -> Reading:
        """What a verb's particles, state words and phrases say: its template, destination, liquid,
        a place to take things out of, and filters on the objects."""
        frames = self.frames(verb)
        particles, adjs, pp_trees, pros = self.split_comps(comps)
        if " " in verb.base and any(p.base not in frames.particles for p in particles):
            head = self.lex.verbs.get(verb.base.split()[0])  # "turn on the tv and off the lamp": turn … off
            if head is not None and any(p.base in head.particles for p in particles):
                frames = head
        r = Reading(frames, adjs=adjs)
        r.template = next((frames.particles[p.base] for p in particles if p.base in frames.particles), None)
        for p in particles:
            if p.base not in frames.particles and not (p.base == "out" and frames.place):
                if p.base in self.lex.adjectives and r.template is None:
                    r.adjs.append(p)
                else:
                    self.notes.append(f"ignored {p.text!r} after {verb.text!r}")
        r.pps = [self.pp(t) for t in pp_trees] + [self.pro_pp(t) for t in pros]
        located_only = set(self.lex.values["located_only"])
        open_slot = frames.place and r.template is None and not r.adjs
        if open_slot:
            r.dest = next((pp for pp in reversed(r.pps) if pp.kind in ("PREP", "ON") and pp.prep not in located_only
                           and not pp.ref.room and not (r.instrument(pp) and frames.alone)), None)
            near = next((pp for pp in reversed(r.pps) if pp.prep in self.lex.values["alongside"]), None)
            if r.dest is None and near is not None:  # "the keys next to it": where it is, or is going
                r.dest = self.beside(near)
                r.pps = [pp for pp in r.pps if pp is not near]
        for pp in r.pps:
            if pp is r.dest:
                continue
            if pp.kind == "WITH":
                if frames.liquid and pp.ref.liquid:
                    r.liquid = pp.ref.liquid
                else:
                    self.notes.append(f"{pp.prep} {pp.ref.text!r}: the robots choose the tools themselves")
            elif r.instrument(pp):
                self.notes.append(f"{pp.prep} {pp.ref.text!r}: the robots choose where to {verb.base} themselves")
                self.last_place = pp
            elif pp.kind in ("FROM", "OFF") and open_slot and r.dest is None:
                r.negplace = pp
            else:
                r.filters.append(pp)
        if any(p.base == "out" for p in particles) and open_slot and r.dest is None and r.negplace is None:
            self.notes.append(f"{verb.text} … out: out of where each object is now")
            r.negplace = PP("out of", "FROM", Ref(Selector(), "where it is"))  # resolved per object
        if r.template is None and r.dest is None and not r.adjs and r.negplace is None:
            r.template = frames.alone
        return r

    def object_goals(self, verb: Word, r: Reading, ref: Ref, start: int) -> list[Goal]:
        """The goals of one object of the verb; the object is remembered for the pronouns after it."""
        for pp in r.filters:
            self.locate(ref, pp)
        source = r.negplace
        if source is not None and source.ref.text == "where it is":  # "take out the egg"
            source = self.container_of(ref)
            if source is None:
                raise NotUnderstood(f"take {ref.text!r} out of what? It is in nothing now", [(verb.text, None)])
            self.remember(source.ref, None, "target")
        made = self.verb_goals(verb, r.frames, ref, r.template, r.dest, r.adjs, source, r.liquid, r.filters)
        if source is not None and not (ref.selector.type or ref.selector.category or ref.selector.id):
            self.locate(ref, source)  # "take everything out of the sink and put it …": what was in it
        if r.template == "sliced" and made and not made[0].condition.negate:  # after slicing, "it" is the pieces
            ref = Ref(ref.selector.model_copy(update={"piece": True, "quantifier": "all", "count": None}),
                      ref.text, ref.types, plural=True)
        self.remember(ref, start if made else None, "object")
        return made

    def beside(self, near: PP) -> PP | None:
        """"next to X", "by X": on or in what X is put on in this instruction, else what X is on now."""
        sel = near.ref.selector
        for g in reversed(self.goals):
            if g.condition.relation and not g.condition.negate and g.condition.target is not None and \
                    (g.subject.type, g.subject.id) == (sel.type, sel.id):
                t = g.condition.target
                self.notes.append(f"{near.prep} {near.ref.text!r}: on the {t.describe()} too")
                return PP("on", "PREP", Ref(t, t.describe(), frozenset({t.type}) if t.type else frozenset()))
        if near.ref.types and self.scene.can(near.ref.types, "receptacle") and not self.scene.can(
                near.ref.types, "pickupable"):
            return None  # next to a piece of furniture: no relation says that
        where = self.container_of(near.ref)
        if where is not None:
            self.notes.append(f"{near.prep} {near.ref.text!r}: on the {where.ref.text} it is on")
            return PP("on", "PREP", where.ref)
        return None

    def container_of(self, ref: Ref) -> PP | None:
        """"take out the egg": out of the receptacle the egg is in now (the scene says)."""
        for node in ref.selector.model_copy(update={"quantifier": "the"}).select(self.scene.nodes):
            for r in node.get("relations") or []:
                parent = self.scene.nodes.get(r["target"])
                if r["rel"] in ("in", "on") and parent is not None:
                    t = str(parent["objectType"])
                    return PP("out of", "FROM", Ref(Selector(type=t), type_words(t), frozenset({t})))
        return None

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
        for child in tree.children:
            if isinstance(child, Tree) and child.data == "and" and self.word(_tokens(child)[-1]).base == "but" \
                    and out and all(r.selector.quantifier == "all" for r in out):
                but = out
            elif isinstance(child, Tree) and child.data in ("np", "np_of"):
                head = _sub(child, "head")
                if but and head and _kind(_tokens(head[0])[-1], {"ONE", "NUM"}):  # "every drawer but one"
                    w = self.word(_tokens(head[0])[-1])
                    raise NotUnderstood(f"'but {w.text}': I cannot leave out a number of things; say how many "
                                        "to act on ('open four drawers')", [(w.text, None)])
                if out and self._restriction(child):  # "open one drawer, just one": the count, said again
                    out[-1].selector = out[-1].selector.model_copy(update={"quantifier": "exactly", "count": 1})
                    continue
                ref = self.np(child, role)
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

    def verb_goals(self, verb: Word, frames: VerbFrames, ref: Ref, template: str | None, dest: PP | None,
                   adjs: list[Word], negplace: PP | None, liquid: str | None,
                   filters: list[PP] | None = None) -> list[Goal]:
        if ref.product:
            return [self.product(ref)]
        if ref.liquid and not (ref.selector.type or ref.selector.category):
            raise NotUnderstood(f"{verb.text} {ref.text!r}: a liquid is not an object; name what holds it "
                                f"(e.g. 'fill the kettle with {ref.liquid}')", [(ref.text, None)])
        if ref.room and dest is None and not adjs:
            raise NotUnderstood(f"I don't know how to {verb.text} a whole room ({ref.text!r}): name the objects",
                                [(ref.text, None)])
        pairs: list[tuple[Selector, Condition]] = []
        if dest is not None:
            if dest.ref.negate:
                raise NotUnderstood(f"put {ref.text} {dest.prep} nothing?", [(dest.ref.text, None)])
            target = self.fitting(dest.ref, ref)
            pairs.append((self.placed(ref.selector, dest, frames.pieces),
                          Condition(relation=self.relation(dest), target=target)))
        elif adjs:
            for a in adjs:
                pairs += self.adjective(a, ref)
        elif negplace is not None:
            pairs.append((ref.selector, Condition(relation=self.relation(negplace),
                                                  target=self.target(negplace.ref), negate=True)))
        elif template is not None:
            pairs += self.conditions(template, ref)
        elif ref.wish is not None:
            pairs.append((ref.wish.subject, ref.wish.condition))
        elif frames.place:
            near = [f"{f.prep!r}" for f in filters if f.prep in self.lex.values["located_only"]] if filters else []
            why = f" ({', '.join(near)} is not a place I can check: say in, on or to)" if near else ""
            raise NotUnderstood(f"where should {ref.text!r} go? Say where ('{verb.text} it in/on …'){why}",
                                [(verb.text, None)])
        else:
            raise NotUnderstood(f"I don't know how to {verb.text} {ref.text!r}", [(verb.text, None)])
        return self.goals_of(ref, pairs, liquid)

    def fitting(self, place: Ref, thing: Ref) -> Selector:
        """The receptacle a place noun means for this object: of the types the noun may mean here, the
        first AI2-THOR lets the object go in/on ("the hand towel on its holder": the hand towel holder)."""
        target = self.target(place)
        if not place.alternatives or not thing.selector.type or thing.selector.piece:
            return target
        for t in (place.selector.type, *place.alternatives):
            if t and accepts(t, thing.selector.type):
                return Selector(type=t)
        return target

    def placed(self, subject: Selector, dest: PP, pieces: bool) -> Selector:
        """What goes to the destination: the pieces when the verb makes them ("crack an egg into the pan")
        or when the receptacle only takes pieces (AI2-THOR's toaster takes bread slices)."""
        if subject.piece or not subject.type:
            return subject
        if pieces:
            return subject.model_copy(update={"piece": True})
        r = dest.ref.selector.type
        sliceable = self.scene.can(frozenset({subject.type}), "sliceable")
        if r and sliceable and not accepts(r, subject.type) and accepts(r, piece_type(subject.type)):
            return subject.model_copy(update={"piece": True})
        return subject

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

    # ------------------------------------------------------------------ states and wishes

    def state(self, tree: Tree) -> tuple[list[Goal], bool]:
        """Goals a state says, and whether it asks for them (a modal, "make sure", "I want") or only
        describes the scene ("the egg is in the fridge; …")."""
        if tree.data == "state_ensured":
            goals, _ = self.state(_sub(tree, "state", "there_state", "state_ensured", "state_unwanted", "wish")[0])
            return goals, True
        if tree.data == "wish":
            return self.wish(tree), True
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
        if negate != unwanted:
            goals = [negate_goal(g) for g in goals]
        return goals, asks

    def outcome(self, refs: list[Ref], parts: list[Any]) -> list[Goal]:
        """Goals the objects must meet: a predicate's state words and places, or a passive verb."""
        parts = [p for p in parts if not (isinstance(p, Token) and p.type in ("AND",)) and
                 not (isinstance(p, Tree) and p.data == "and")]
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
            cond = Condition(relation=self.relation(pp), target=self.target(pp.ref),
                             negate=pp.kind in ("FROM", "OFF"))
            self.remember(pp.ref, None, "target")
            self.last_place = pp
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

    # ------------------------------------------------------------------ bodies and the sequence

    def body(self, tree: Tree, said: Said) -> tuple[list[Goal], bool]:
        """Goals of one item, and whether they are asked for (False: a description of the scene)."""
        if tree.data == "action":
            nots = _sub(tree, "not")
            objects = next(iter(_sub(tree, "objects")), None)
            kids = [k for c in tree.children for k in (c.children if isinstance(c, Tree) and c.data == "comp" else [c])]
            comps = [c for c in kids  # "… off the sofa and onto the table": the "and" joins two phrases
                     if not (isinstance(c, Tree) and c.data in ("objects", "verb", "not", "exactly", "and"))]
            goals = []
            for v in _sub(tree, "verb"):  # "heat up and slice the potato": each verb over the objects
                goals += self.action(self.word(_tokens(v)[-1]), objects, comps, said=said)
            return ([negate_goal(g) for g in goals] if nots else goals), True
        if tree.data == "gapped":
            objects = _sub(tree, "objects")[0]
            nots = _sub(tree, "not")
            comps = [c for c in tree.children if c is not objects and not (isinstance(c, Tree) and c.data == "not")]
            if self.last_action is None or self.last_action[0] is None:  # "the floor lamp on, the desk lamp off"
                comps = comps or (self.last_action[1] if self.last_action else [])
                refs = self.objects(objects, "subject", Word("", "", frozenset()))
                self.last_action = (None, comps)
                goals = self.outcome(refs, comps)
            else:
                verb, last_comps = self.last_action
                lead = comps[0] if comps and tree.children.index(comps[0]) < tree.children.index(objects) else None
                nps = _sub(objects, "np", "np_of")
                if lead is not None and lead.data in ("on", "off") and len(nps) == 1 and \
                        not self._particle(verb, lead, nps[0]):
                    # "… actually on the bed": a place for the last objects, not "turn … on"
                    return self.body(Tree("fragment", [Tree("pp", [lead, nps[0]]), *comps[1:]]), said)
                goals = self.action(verb, objects, comps or last_comps, said=said)
            return ([negate_goal(g) for g in goals] if nots else goals), True
        if tree.data == "fragment":  # "… no, in the sink": the last verb and objects, these words
            verb = said.verb or (self.last_action[0] if self.last_action else None)
            if verb is None or not said.refs:
                raise NotUnderstood(f"what should go {self.text(tree)!r}? Start with a verb", [(self.text(tree), None)])
            return self.action(verb, None, list(tree.children), given=said.refs), True
        return self.state(tree)

    def _particle(self, verb: Word, tree: Tree, np: Tree) -> bool:
        """Whether "on"/"off" before `np` is the verb's particle for it ("… and off the light") rather
        than a place ("… actually on the bed"): the verb takes it and the object affords it."""
        p = self.word(_tokens(tree)[-1]).base
        frames = [self.lex.verbs.get(verb.base), self.lex.verbs.get(verb.base.split()[0])]
        templates = [f.particles[p] for f in frames if f is not None and p in f.particles]
        if not templates:
            return False
        need = TEMPLATE_NEEDS.get(templates[0])
        try:
            types = self.np(np, "subject").types
        except NotUnderstood:
            return True
        return not need or not types or self.scene.can(types, need) or self.scene.can(
            frozenset(self.lex.controls.get(t, t) for t in types), need)

    def emit(self, goals: list[Goal], stage: int) -> list[int]:
        start = len(self.goals)
        self.goals += [g.model_copy(update={"stage": stage}) for g in goals]
        return list(range(start, len(self.goals)))

    def restage(self, indices: list[int], stage: int) -> None:
        for i in indices:
            self.goals[i] = self.goals[i].model_copy(update={"stage": stage})

    def attach(self, indices: list[int], conds: list[Goal], negate: bool) -> None:
        when = [negate_goal(c) if negate else c for c in conds]
        when = [c.model_copy(update={"stage": 0, "when": []}) for c in when]
        for i in indices:
            self.goals[i] = self.goals[i].model_copy(update={"when": when})

    def sequence(self, tree: Tree) -> None:
        """Items in order; connectives and markers set stages, conditions and corrections."""
        flow = Flow()
        children = _items(tree)
        for k, child in enumerate(children):
            if child.data == "conn":
                flow.conn = [self.word(t) for t in _tokens(child)]
                continue
            inner = child if child.data == "marked" else child.children[0]
            trailing = not flow.first and (child.data == "marked" or inner.data == "marked" and self._ends(children, k))
            self.clause += 1
            self.connective(flow)
            said = Said(len(self.goals), refs=flow.last_said.refs, verb=flow.last_said.verb)
            if inner.data == "plain":
                self.plain(flow, inner.children[0], said, corrected=self._corrected(children, k))
            else:
                self.marked(flow, inner, said, trailing)

    def connective(self, flow: Flow) -> None:
        """What the words before an item say: a correction, the next stage, a new sentence."""
        conn = flow.conn
        if any("CORRECT" in w.cats and not ({"AND", "COMMA", "THEN"} & w.cats) for w in conn) and not flow.first:
            del self.goals[flow.last_said.start:]  # a self-correction replaces what it corrects
            flow.last = []
        ordinal_step = any("ORD" in w.cats and w.value not in (None, 1) for w in conn)  # "second, …"
        if (ordinal_step or any("THEN" in w.cats for w in conn)) and any(g.stage == flow.stage for g in self.goals):
            flow.stage += 1
        flow.new_sentence = any("PERIOD" in w.cats for w in conn)
        if flow.new_sentence:
            flow.condition = None
        flow.conn, flow.first = [], False

    def plain(self, flow: Flow, body: Tree, said: Said, corrected: bool) -> None:
        try:
            goals, asked = self.body(body, said)
            if not asked and flow.asked_state and not flow.new_sentence:
                asked = True  # "make sure the tv is off and the lights are off"
            flow.asked_state = asked and body.data.startswith("state")
        except NotUnderstood:
            if not corrected:
                raise
            goals, asked = [], False  # "… next to them... actually on the bed": corrected next
        idx = self.emit(goals, flow.stage) if asked else []
        if flow.pending_before is not None:  # "before X, P": X after P
            flow.stage += 1
            self.restage(flow.pending_before, flow.stage)
            flow.pending_before = None
        if flow.condition is not None:  # "if C, G1 and G2"
            self.attach(idx, *flow.condition)
        flow.last, flow.last_said = idx, said

    def marked(self, flow: Flow, inner: Tree, said: Said, trailing: bool) -> None:
        marker = _kind(_tokens(inner.children[0])[-1], {"ONCE", "BEFORE", "AFTER", "IF", "UNLESS", "ELSE"})
        body = inner.children[1]
        if marker == "IF" and body.data in ("action", "gapped"):  # "when you've put X …": an order, not a test
            marker = "ONCE"
        if marker == "ELSE":
            if flow.condition is None:
                raise NotUnderstood("'otherwise' needs an 'if' before it", [("otherwise", None)])
            goals, _ = self.body(body, said)
            idx = self.emit(goals, flow.stage)
            self.attach(idx, flow.condition[0], not flow.condition[1])
            flow.condition, flow.last, flow.last_said = None, idx, said
            return
        if marker in ("IF", "UNLESS"):
            conds, _ = self.body(body, said)
            if trailing and flow.last:
                self.attach(flow.last, conds, marker == "UNLESS")
                flow.condition = None
            else:
                flow.condition = (conds, marker == "UNLESS")
            return
        goals, _ = self.body(body, said)
        if trailing and flow.last:
            if marker == "BEFORE":  # "P before X"
                flow.stage += 1
                flow.last = self.emit(goals, flow.stage)
            else:  # "P after X", "P once X": X first
                here = self.emit(goals, flow.stage)
                flow.stage += 1
                self.restage(flow.last, flow.stage)
                flow.last = here
        elif marker == "BEFORE":  # "before X, P": X after P
            flow.pending_before = self.emit(goals, flow.stage)
        else:  # "once X, P", "after X, P"
            flow.last = self.emit(goals, flow.stage)
            flow.stage += 1
        flow.last_said = said

    def _corrected(self, children: list[Tree], k: int) -> bool:
        """Whether item k is followed by a self-correction ("no", "actually", "I mean")."""
        nxt = children[k + 1] if k + 1 < len(children) else None
        return nxt is not None and nxt.data == "conn" and any(
            "CORRECT" in self.word(t).cats for t in _tokens(nxt))

    def _ends(self, children: list[Tree], k: int) -> bool:
        """Whether item k closes its sentence ("put the egg in the fridge, unless it is there")."""
        for c in children[k + 1:]:
            if c.data == "conn":
                return any("PERIOD" in self.word(t).cats for t in _tokens(c))
            return False
        return True

    # ------------------------------------------------------------------ the end state

    def finish(self) -> list[Goal]:
        """Goals describe the end state: drop means (holding, taking out of) that a later goal on the
        same objects completes, states a later goal in the same stage undoes, and repeats."""
        keep = []
        referenced = {g.subject.rest_of for g in self.goals}
        for i, g in enumerate(self.goals):
            later = [h for h in self.goals[i + 1:] if _same_subject(g, h)]
            if i in referenced:
                keep.append(g)
                continue
            if g.condition.held and later and not g.when:  # "grab the mug and wash it": holding it is a step
                self.notes.append(f"holding {g.subject.describe()} is a step, not a goal")
                continue
            if g.condition.relation and g.condition.negate and not g.when and \
                    any(h.condition.relation and not h.condition.negate and h.stage == g.stage for h in later):
                continue  # "take the egg out of the fridge and put it on the counter"
            if g.condition.state and any(h.stage == g.stage and h.condition.state == g.condition.state and
                                         h.condition.value != g.condition.value and not h.when for h in later):
                continue  # "open the microwave, put the potato inside and close it"
            if any(h == g for h in keep):
                continue
            keep.append(g)
        out = self._reindex(keep)
        stages = sorted({g.stage for g in out})
        dense = {s: k for k, s in enumerate(stages)}
        return [g.model_copy(update={"stage": dense[g.stage]}) if dense[g.stage] != g.stage else g for g in out]

    def _reindex(self, kept: list[Goal]) -> list[Goal]:
        """rest_of indices point into the goal list: keep them pointing at the same goal."""
        new_index = {i: k for i, g in enumerate(self.goals) for k, h in enumerate(kept) if h is g}
        out = []
        for k, g in enumerate(kept):
            r = g.subject.rest_of
            if r is not None and new_index.get(r, r) >= k:
                raise NotUnderstood(f"'the rest' of {g.subject.describe()}: of what? Name the objects first")
            if r is not None and r in new_index and new_index[r] != r:
                g = g.model_copy(update={"subject": g.subject.model_copy(update={"rest_of": new_index[r]})})
            out.append(g)
        return out


def _same_subject(a: Goal, b: Goal) -> bool:
    return (a.subject.type, a.subject.id, a.subject.category) == (b.subject.type, b.subject.id, b.subject.category)
