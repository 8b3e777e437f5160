"""From a parse tree to goals: noun phrases resolved against the scene, verbs applied through their
templates (verbs.yaml), pronouns and "the rest" resolved against what was said before, stages from
the connectives and markers ("then", "once", "before", "after"), conditions from "if"/"unless".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from robocortex.brain.goal_language import Condition, Goal, Placement, Selector, categories
from robocortex.brain.planner import PlanningError
from robocortex.brain.understanding.lexicon import Lexicon, VerbFrames, Word, type_words
from robocortex.knowledge.object_types import OBJECT_TYPES

PICKUPABLES = "pickupables"
# Templates whose objects must be carried: a pronoun for them refers to something that can be.
TEMPLATE_NEEDS = {"opened": "openable", "closed": "openable", "toggled_on": "toggleable",
                  "toggled_off": "toggleable", "sliced": "sliceable", "cooked": "cookable",
                  "dirtied": "dirtyable", "filled": "canFillWithLiquid", "broken": "breakable",
                  "used_up": "canBeUsedUp", "held": "pickupable", "released": "pickupable",
                  "trashed": "pickupable", "place": "pickupable", "target": "receptacle"}


class NotUnderstood(PlanningError):
    """The instruction could not be read; the message names the words and what was meant instead.

    `words`: the words not understood (or not found in the scene), each with the closest known one."""

    def __init__(self, message: str, words: list[tuple[str, str | None]] | None = None):
        super().__init__(message)
        self.words = words or []


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
            flags = known.flags() if known is not None else {}
            for k, v in n.items():
                if isinstance(v, bool) and not k.startswith("is"):
                    flags[k] = flags.get(k, False) or v
            self.flags[t] = flags
        self.ids = {str(n["id"]).lower(): str(n["id"]) for n in objects}

    def has(self, t: str) -> bool:
        return t in self.types

    def can(self, types: frozenset[str], affordance: str) -> bool:
        return any(self.flags.get(t, {}).get(affordance, False) for t in types)

    def close_to(self, word: str, wanted: list[str]) -> list[str]:
        """Scene types close to what was asked: sharing a category with the wanted types, or spelled alike."""
        out: list[str] = []
        for c in categories().values():
            if c & set(wanted) and c != categories()[PICKUPABLES]:
                out += [t for t in sorted(c) if self.has(t) and t not in out and not t.endswith(("Sliced", "Cracked"))]
        by_words = {type_words(t): t for t in self.types}
        for w in difflib.get_close_matches(word, list(by_words), n=3, cutoff=0.6):
            if by_words[w] not in out:
                out.append(by_words[w])
        return out[:5]


# --------------------------------------------------------------------------- noun phrases


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
    refs: list["Ref"] = field(default_factory=list)  # a pronoun standing for several phrases
    role: str = "object"  # object | target: how it was last mentioned


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


def _tokens(tree: Tree | Token) -> list[Token]:
    if isinstance(tree, Token):
        return [tree]
    return list(tree.scan_values(lambda v: isinstance(v, Token)))


def _kind(tok: Token, wanted: set[str]) -> str | None:
    """Which of the wanted readings a (possibly combined) terminal has."""
    parts = set(tok.type[2:].split("_")) if tok.type.startswith("C_") else {tok.type}
    hit = parts & wanted
    return next(iter(sorted(hit))) if hit else None


class Interpreter:
    def __init__(self, lex: Lexicon, scene: SceneWords, words: list[Word]):
        self.lex, self.scene, self.words = lex, scene, words
        self.goals: list[Goal] = []
        self.notes: list[str] = []
        self.mentions: list[Mention] = []
        self.last_action: tuple[Word, list[Any]] | None = None

    def word(self, tok: Token) -> Word:
        return self.words[int(tok.value)]  # type: ignore[arg-type]

    def text(self, tree: Tree | Token) -> str:
        return " ".join(self.word(t).text for t in _tokens(tree))

    # ------------------------------------------------------------------ nouns

    def noun(self, w: Word) -> dict[str, Any]:
        entry = self.lex.nouns.get(w.base)
        if entry is None:
            raise NotUnderstood(f"I don't know the noun {w.text!r}", [(w.text, None)])
        return entry

    def types_for(self, w: Word, entry: dict[str, Any]) -> str:
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
        quant = [self.word(t) for c in tree.children if isinstance(c, Tree) and c.data == "quant" for t in _tokens(c)]
        qtoks = [t for c in tree.children if isinstance(c, Tree) and c.data == "quant" for t in _tokens(c)]
        adjs = [t for c in tree.children if isinstance(c, Tree) and c.data == "adj" for t in _tokens(c)]
        head = next(c for c in tree.children if isinstance(c, Tree) and c.data == "head")
        rel = next((c for c in tree.children if isinstance(c, Tree) and c.data == "relclause"), None)
        ref = self.head(head, quant, qtoks, role)
        for a in adjs:
            self.add_filter(ref, self.word(a))
        if rel is not None:
            self.relclause(ref, rel)
        ref.text = self.text(tree)
        return ref

    def np_of(self, tree: Tree, role: str) -> Ref:
        """"a slice of bread", "the rest of the apples", "two of the mugs"."""
        quant = [self.word(t) for c in tree.children if isinstance(c, Tree) and c.data == "quant" for t in _tokens(c)]
        head = next(c for c in tree.children if isinstance(c, Tree) and c.data == "head")
        inner = self.np(next(c for c in tree.children if isinstance(c, Tree) and c.data in ("np", "np_of")), role)
        htoks = _tokens(head)
        hw = self.word(htoks[-1])
        kind = _kind(htoks[-1], {"NOUN", "REST", "OTHER", "ONE", "PRON", "EVERYTHING"})
        if kind == "NOUN" and self.lex.nouns.get(hw.base, {}).get("piece"):
            sel = inner.selector.model_copy(update={"piece": True})
            sel = self.quantify(sel, quant, hw.plural, category=False)
            return Ref(sel, self.text(tree), inner.types, plural=hw.plural)
        if kind in ("REST", "OTHER"):
            return self.rest(inner, self.text(tree))
        if kind == "NOUN":
            self.notes.append(f"read {self.text(tree)!r} as {hw.text!r}")
            return self.head(head, quant, [], role)
        # "two of the apples", "one of them", "all of them"
        q = quant + [hw] if kind == "ONE" else quant
        sel = self.quantify(inner.selector, q, inner.plural, category=inner.selector.category is not None)
        return Ref(sel, self.text(tree), inner.types, plural=inner.plural)

    def head(self, head: Tree, quant: list[Word], qtoks: list[Token], role: str) -> Ref:
        toks = _tokens(head)
        last = toks[-1]
        w = self.word(last)
        kind = _kind(last, {"NOUN", "ONE", "OTHER", "REST", "EVERYTHING", "NOTHING", "PRON", "ID"})
        negate = any("NO" in x.cats for x in quant)
        if kind == "ID":
            oid = str(w.value)
            return Ref(Selector(id=oid), w.text, frozenset({self.scene.nodes[oid]["objectType"]}))
        if kind in ("EVERYTHING", "NOTHING"):
            sel = Selector(category=PICKUPABLES, quantifier="all")
            return Ref(sel, w.text, categories()[PICKUPABLES], plural=True, negate=kind == "NOTHING")
        if kind == "PRON":
            return self.pronoun(w, quant, role)
        if kind == "ONE":
            other = any("OTHER" in x.cats for x in quant)
            ante = self.antecedent(role, typed=True)
            if other:
                return self.rest(ante, w.text)
            sel = self.quantify(Selector(type=ante.selector.type, category=ante.selector.category,
                                         piece=ante.selector.piece), quant + [w], False, category=False)
            return Ref(sel, w.text, ante.types)
        if kind in ("OTHER", "REST"):
            return self.rest(self.antecedent(role, typed=True), w.text)
        for extra in toks[:-1]:  # "kitchen counter", "living room lights": the last noun is the head
            e = self.lex.nouns.get(self.word(extra).base, {})
            if not e.get("room"):
                self.notes.append(f"read {self.word(extra).text!r} {w.text!r} as {w.text!r}")
        entry = self.noun(w)
        if entry.get("room"):
            return Ref(Selector(category=PICKUPABLES, quantifier="all"), w.text, room=True)
        if entry.get("any"):
            sel = self.quantify(Selector(category=PICKUPABLES), quant, True, category=True)
            return Ref(sel, w.text, categories()[PICKUPABLES], plural=True, negate=negate)
        if role == "with" and entry.get("liquid"):
            return Ref(Selector(), w.text, liquid=entry["liquid"])
        if role == "product" and entry.get("product"):
            return Ref(self.quantify(Selector(), quant, w.plural, False), w.text, product=entry["product"],
                       plural=w.plural)
        if "category" in entry:
            cat = entry["category"]
            self.category_ok(w, cat)
            sel = self.quantify(Selector(category=cat), quant, w.plural, category=bool(entry.get("mass")))
            return Ref(sel, w.text, categories()[cat], plural=sel.quantifier != "the", negate=negate)
        if entry.get("product") and not entry.get("types"):
            return Ref(self.quantify(Selector(), quant, w.plural, False), w.text, product=entry["product"])
        if entry.get("liquid") and not entry.get("types"):
            return Ref(Selector(), w.text, liquid=entry["liquid"])
        t = self.types_for(w, entry)
        sel = self.quantify(Selector(type=t), quant, w.plural, category=False)
        return Ref(sel, w.text, frozenset({t}), plural=sel.quantifier not in ("the", "a"), negate=negate)

    def quantify(self, sel: Selector, quant: list[Word], plural: bool, category: bool) -> Selector:
        """The quantifier the determiners, numbers and plural say."""
        cats = [x.cats for x in quant]
        number = next((x.value if x.value is not None else 1 for x in quant if {"NUM", "ONE"} & x.cats), None)
        has = lambda name: any(name in c for c in cats)  # noqa: E731
        if has("NO"):
            return sel.model_copy(update={"quantifier": "all"})
        if has("EXACTLY") and number is not None:
            return sel.model_copy(update={"quantifier": "exactly", "count": number})
        if has("ATLEAST") and number is not None:
            return sel.model_copy(update={"quantifier": "at_least", "count": number})
        if has("ALL") or has("BOTH"):
            return sel.model_copy(update={"quantifier": "all"})
        if number is not None:
            if number == 1:
                return sel.model_copy(update={"quantifier": "a"})
            return sel.model_copy(update={"quantifier": self.lex.bare_number_quantifier, "count": number})
        if has("INDEF") or has("ANOTHER"):
            return sel.model_copy(update={"quantifier": "a"})
        if plural or category:
            return sel.model_copy(update={"quantifier": "all"})
        return sel.model_copy(update={"quantifier": "the"})

    def pronoun(self, w: Word, quant: list[Word], role: str) -> Ref:
        plural = w.base in self.lex.values["plural_pronouns"]
        if plural:
            refs = self.antecedents(role)
            if len(refs) == 1:
                return refs[0]
            return Ref(refs[0].selector, w.text, frozenset().union(*(r.types for r in refs)), plural=True, refs=refs)
        return self.antecedent(role)

    # ------------------------------------------------------------------ references

    def _candidates(self, role: str) -> list[Mention]:
        """Mentions, most recent clause first; within a clause its objects before its places."""
        return list(reversed(self.mentions))

    def antecedent(self, role: str, typed: bool = False) -> Ref:
        need = TEMPLATE_NEEDS.get(role)
        for m in self._candidates(role):
            if typed and not (m.ref.selector.type or m.ref.selector.category):
                continue
            if need and m.ref.types and not self.scene.can(m.ref.types, need):
                continue
            if m.ref.room or m.ref.product:
                continue
            return m.ref
        raise NotUnderstood("I don't know what 'it' refers to here: name the object", [("it", None)])

    def antecedents(self, role: str) -> list[Ref]:
        """"them": every object of the latest clause whose objects fit."""
        need = TEMPLATE_NEEDS.get(role)
        groups: dict[int, list[Ref]] = {}
        order: list[int] = []
        for m in self.mentions:
            key = m.clause
            if key not in groups:
                order.append(key)
            groups.setdefault(key, []).append(m.ref)
        for key in reversed(order):
            refs = [r for r in groups[key] if not r.room and not r.product
                    and (not need or not r.types or self.scene.can(r.types, need))]
            if refs:
                objects = [r for r in refs if r.role == "object"] or refs
                return objects
        raise NotUnderstood("I don't know what 'them' refers to here: name the objects", [("them", None)])

    def rest(self, ante: Ref, text: str) -> Ref:
        index = next((m.goal for m in reversed(self.mentions) if m.ref is ante and m.goal is not None), None)
        if index is None:
            raise NotUnderstood(f"{text!r}: the rest of what? Say which objects first", [(text, None)])
        base = ante.selector
        sel = Selector(type=base.type, category=base.category, piece=base.piece, quantifier="rest", rest_of=index)
        return Ref(sel, text, ante.types, plural=True)

    def remember(self, ref: Ref, goal: int | None, clause: int, role: str) -> None:
        ref.role = role
        self.mentions.append(Mention(ref, goal, clause))

    # ------------------------------------------------------------------ filters

    def add_filter(self, ref: Ref, w: Word) -> None:
        for cond in self.adjective_conditions(w, ref, as_filter=True):
            sel = ref.selector
            if cond.state is not None:
                ref.selector = sel.model_copy(update={"states": {**sel.states, cond.state: cond.value}})
            elif cond.temperature is not None:
                ref.selector = sel.model_copy(update={"temperature": cond.temperature})

    def relclause(self, ref: Ref, rel: Tree) -> None:
        negate = any(isinstance(c, Tree) and c.data == "be_phrase" and
                     any("NOT" in self.word(t).cats for t in _tokens(c)) for c in rel.children)
        pred = next(c for c in rel.children if isinstance(c, Tree) and c.data == "predicate")
        for part in pred.children:
            if isinstance(part, Tree) and part.data == "pp":
                pp = self.pp(part)
                self.locate(ref, pp, negate)
            else:
                tok = _tokens(part)[-1]
                w = self.word(tok)
                if negate:
                    for cond in self.adjective_conditions(w, ref, as_filter=True):
                        if cond.state is not None:
                            ref.selector = ref.selector.model_copy(
                                update={"states": {**ref.selector.states, cond.state: not cond.value}})
                else:
                    self.add_filter(ref, w)

    def locate(self, ref: Ref, pp: PP, negate: bool = False) -> None:
        if pp.ref.room:
            return
        if negate or pp.kind == "FROM":
            self.notes.append(f"ignored the filter {pp.prep!r} {pp.ref.text!r}")
            return
        relation = self.lex.values["relation"].get(pp.prep, "in_or_on")
        placement = Placement(relation=relation, target=self.target(pp.ref))
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
            everything = Selector(category=PICKUPABLES, quantifier="all")
            return [(everything, Condition(relation=relation, target=self.target(ref), negate=True))]
        if "target" in spec and isinstance(spec["target"], str):
            w = Word(spec["target"], spec["target"], frozenset({"NOUN"}))
            spec["target"] = Selector(type=self.types_for(w, self.noun(w)))
        return [(ref.selector, Condition(**spec))]

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
        if isinstance(entry, str):
            return self.conditions(entry, ref)
        if "template" not in entry and "state" in entry or "temperature" in entry:
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
        prep_tok = _tokens(tree.children[0])[-1]
        kind = tree.children[0].data.upper()
        prep = self.word(prep_tok).base
        inner = tree.children[1]
        ref = self.np(inner, "with" if kind == "WITH" else role)
        return PP(prep, kind, ref)

    def relation(self, pp: PP) -> str:
        return str(self.lex.values["relation"].get(pp.prep, "in_or_on"))

    # ------------------------------------------------------------------ actions

    def frames(self, verb: Word) -> VerbFrames:
        frames = self.lex.verbs.get(verb.base)
        if frames is None:
            raise NotUnderstood(f"I don't know the verb {verb.text!r}", [(verb.text, None)])
        return frames

    def action(self, verb: Word, objects: Tree | None, comps: list[Any], clause: int,
               given: list[Ref] | None = None) -> list[Goal]:
        """Goals of one verb over its objects; `given`: objects already resolved (a passive's subject)."""
        frames = self.frames(verb)
        particles, adjs, pp_trees = self.split_comps(comps)
        template = next((frames.particles[p.base] for p in particles if p.base in frames.particles), None)
        for p in particles:
            if p.base not in frames.particles:
                if p.base in self.lex.adjectives and template is None:
                    adjs.append(p)
                else:
                    self.notes.append(f"ignored {p.text!r} after {verb.text!r}")
        pps = [self.pp(t) for t in pp_trees]
        located_only = set(self.lex.values["located_only"])
        instrument = lambda pp: bool(frames.instruments and pp.ref.types & frames.instruments)  # noqa: E731
        dest = None
        if frames.place and template is None and not adjs:
            dest = next((pp for pp in reversed(pps) if pp.kind in ("PREP", "ON") and pp.prep not in located_only
                         and not pp.ref.room and not instrument(pp)), None)
        liquid, negplace, filters = None, None, []
        for pp in pps:
            if pp is dest:
                continue
            if pp.kind == "WITH":
                if frames.liquid and pp.ref.liquid:
                    liquid = pp.ref.liquid
                else:
                    self.notes.append(f"{pp.prep} {pp.ref.text!r}: the robots choose the tools themselves")
            elif instrument(pp):
                self.notes.append(f"{pp.prep} {pp.ref.text!r}: the robots choose where to {verb.base} themselves")
            elif pp.kind in ("FROM", "OFF") and frames.place and dest is None and template is None and not adjs:
                negplace = pp
            else:
                filters.append(pp)
        if template is None and dest is None and not adjs and negplace is None:
            template = frames.alone
        role = template or ("place" if dest is not None or negplace is not None else "adj")
        refs = given if given is not None else self.objects(objects, "product" if frames.product else role, verb)
        goals: list[Goal] = []
        for ref in refs:
            for pp in filters:
                self.locate(ref, pp)
            start = len(self.goals) + len(goals)
            goals += self.verb_goals(verb, frames, ref, template, dest, adjs, negplace, liquid)
            self.remember(ref, start if len(goals) + len(self.goals) > start else None, clause, "object")
        if dest is not None:
            self.remember(dest.ref, None, clause, "target")
        for pp in filters + ([negplace] if negplace else []):
            self.remember(pp.ref, None, clause, "target")
        self.last_action = (verb, comps)
        return goals

    def split_comps(self, comps: list[Any]) -> tuple[list[Word], list[Word], list[Tree]]:
        particles, adjs, pps = [], [], []
        for c in comps:
            if isinstance(c, Tree) and c.data == "pp":
                pps.append(c)
                continue
            w = self.word(_tokens(c)[-1])
            (adjs if isinstance(c, Tree) and c.data == "adj" else particles).append(w)
        return particles, adjs, pps

    def objects(self, tree: Tree | None, role: str, verb: Word) -> list[Ref]:
        if tree is None:
            raise NotUnderstood(f"{verb.text} what? Name the object(s) to {verb.base}", [(verb.text, None)])
        out: list[Ref] = []
        for np in (c for c in tree.children if isinstance(c, Tree) and c.data in ("np", "np_of")):
            ref = self.np(np, role)
            out += ref.refs or [ref]
        return out

    def verb_goals(self, verb: Word, frames: VerbFrames, ref: Ref, template: str | None, dest: PP | None,
                   adjs: list[Word], negplace: PP | None, liquid: str | None) -> list[Goal]:
        if ref.product:
            return [self.product(ref)]
        if ref.room and dest is None and not adjs and template != "cleared":
            raise NotUnderstood(f"I don't know how to {verb.text} a whole room ({ref.text!r}): name the objects",
                                [(ref.text, None)])
        pairs: list[tuple[Selector, Condition]] = []
        if dest is not None:
            if dest.ref.negate:
                raise NotUnderstood(f"put {ref.text} {dest.prep} nothing?", [(dest.ref.text, None)])
            pairs.append((ref.selector, Condition(relation=self.relation(dest), target=self.target(dest.ref))))
        elif adjs:
            for a in adjs:
                pairs += self.adjective(a, ref)
        elif negplace is not None:
            pairs.append((ref.selector, Condition(relation=self.relation(negplace),
                                                  target=self.target(negplace.ref), negate=True)))
        elif template is not None:
            pairs += self.conditions(template, ref)
        elif frames.place:
            raise NotUnderstood(f"where should {ref.text!r} go? Say {verb.text} it in/on/to a place",
                                [(verb.text, None)])
        else:
            raise NotUnderstood(f"I don't know how to {verb.text} {ref.text!r}", [(verb.text, None)])
        goals = []
        for subject, cond in pairs:
            if liquid and cond.state == "isFilledWithLiquid" and cond.value:
                cond = cond.model_copy(update={"liquid": liquid})
            if ref.negate:
                cond = cond.model_copy(update={"negate": not cond.negate})
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

    # ------------------------------------------------------------------ states ("the fridge should be closed")

    def state(self, tree: Tree, clause: int) -> list[Goal]:
        if tree.data == "state_ensured":
            return self.state(next(c for c in tree.children if isinstance(c, Tree) and c.data != "ensure"), clause)
        subject = next(c for c in tree.children if isinstance(c, Tree) and c.data == "subject")
        be = next((c for c in tree.children if isinstance(c, Tree) and c.data == "be_phrase"), None)
        pred = next((c for c in tree.children if isinstance(c, Tree) and c.data == "predicate"), None)
        negate = be is not None and any("NOT" in self.word(t).cats for t in _tokens(be))
        np_tree = subject.children[0]
        pp_trees = [c for c in subject.children[1:] if isinstance(c, Tree) and c.data == "pp"]
        parts: list[Any] = list(pred.children) if pred is not None else []
        if tree.data == "there_state" and pred is None:
            if not pp_trees:
                raise NotUnderstood(f"there should be {self.text(subject)} — where?", [(self.text(subject), None)])
            parts = [pp_trees.pop()]
        verb_part = next((p for p in parts if isinstance(p, Tree) and p.data == "verb"), None)
        ref = self.np(np_tree, "subject")
        refs = ref.refs or [ref]
        for r in refs:
            for t in pp_trees:
                self.locate(r, self.pp(t))
        if verb_part is not None:  # a passive: "the apple should be put in the fridge", "be turned off"
            rest = [p for p in parts if p is not verb_part]
            goals = self.action(self.word(_tokens(verb_part)[-1]), None, rest, clause, given=refs)
        else:
            goals = []
            for r in refs:
                start = len(self.goals) + len(goals)
                for part in parts:
                    goals += self.state_part(r, part)
                self.remember(r, start, clause, "object")
        if negate:
            goals = [g.model_copy(update={"condition": g.condition.model_copy(update={"negate": not g.condition.negate})})
                     for g in goals]
        return goals

    def state_part(self, ref: Ref, part: Any) -> list[Goal]:
        if isinstance(part, Tree) and part.data == "pp":
            pp = self.pp(part)
            cond = Condition(relation=self.relation(pp), target=self.target(pp.ref), negate=pp.kind in ("FROM", "OFF"))
            pairs = [(ref.selector, cond)]
            self.remember(pp.ref, None, 0, "target")
        else:
            tok = _tokens(part)[-1]
            if isinstance(part, Tree) and part.data == "part":
                return []
            pairs = self.adjective(self.word(tok), ref)
        goals = []
        for subject, cond in pairs:
            if ref.negate:
                cond = cond.model_copy(update={"negate": not cond.negate})
                subject = subject.model_copy(update={"quantifier": "all", "count": None})
            goals.append(Goal(subject=subject, condition=cond))
        return goals

    # ------------------------------------------------------------------ bodies and the sequence

    def body(self, tree: Tree, clause: int) -> list[Goal]:
        if tree.data == "action":
            verb = self.word(_tokens(tree.children[0])[-1])
            objects = next((c for c in tree.children if isinstance(c, Tree) and c.data == "objects"), None)
            comps = [c for c in tree.children[1:] if not (isinstance(c, Tree) and c.data == "objects")]
            return self.action(verb, objects, comps, clause)
        if tree.data == "gapped":
            if self.last_action is None:
                raise NotUnderstood(f"what should I do with {self.text(tree)!r}? Start with a verb",
                                    [(self.text(tree), None)])
            verb, last_comps = self.last_action
            objects = tree.children[0]
            comps = list(tree.children[1:]) or last_comps
            return self.action(verb, objects, comps, clause)
        return self.state(tree, clause)

    def emit(self, goals: list[Goal], stage: int) -> list[int]:
        start = len(self.goals)
        self.goals += [g.model_copy(update={"stage": stage}) for g in goals]
        return list(range(start, len(self.goals)))

    def restage(self, indices: list[int], stage: int) -> None:
        for i in indices:
            self.goals[i] = self.goals[i].model_copy(update={"stage": stage})

    def attach(self, indices: list[int], conds: list[Goal], unless: bool) -> None:
        for i in indices:
            g = self.goals[i]
            same = [c for c in conds if c.condition == g.condition and c.subject.type == g.subject.type]
            if same:  # "close it unless it is already closed", "if it is closed, close it": the goal says it
                continue
            when = [c.model_copy(update={"condition": c.condition.model_copy(update={"negate": not c.condition.negate})})
                    if unless else c for c in conds]
            self.goals[i] = g.model_copy(update={"when": when})

    def sequence(self, tree: Tree) -> None:
        stage, clause = 0, 0
        last: list[int] = []
        pending: tuple[str, Any] | None = None  # a leading marker waiting for the next item
        conn: list[Word] = []
        first = True
        for child in tree.children:
            if child.data == "conn":
                conn = [self.word(t) for t in _tokens(child)]
                continue
            trailing = child.data == "marked" and not first
            inner = child if child.data == "marked" else child.children[0]
            clause += 1
            if any("THEN" in w.cats for w in conn) and any(g.stage == stage for g in self.goals):
                stage += 1
            leading_clause = not trailing and not first
            conn, first = [], False
            if inner.data == "plain":
                idx = self.emit(self.body(inner.children[0], clause), stage)
                if pending is not None:
                    kind, data = pending
                    if kind == "BEFORE":
                        stage += 1
                        self.restage(data, stage)
                    elif kind in ("IF", "UNLESS"):
                        self.attach(idx, data, kind == "UNLESS")
                    pending = None
                last = idx
                continue
            marker = _kind(_tokens(inner.children[0])[-1], {"ONCE", "BEFORE", "AFTER", "IF", "UNLESS"})
            body = inner.children[1]
            if marker in ("IF", "UNLESS"):
                conds = self.body(body, clause)
                if trailing and last:
                    self.attach(last, conds, marker == "UNLESS")
                else:
                    pending = (marker, conds)
                continue
            goals = self.body(body, clause)
            if trailing and last:
                if marker == "BEFORE":  # "P before X"
                    stage += 1
                    last = self.emit(goals, stage)
                else:  # "P after X", "P once X": X first
                    here = self.emit(goals, stage)
                    stage += 1
                    self.restage(last, stage)
                    last = here
            elif marker == "BEFORE":  # "before X, P": X after P
                pending = ("BEFORE", self.emit(goals, stage))
            else:  # "once X, P", "after X, P"
                last = self.emit(goals, stage)
                stage += 1
            del leading_clause

    def finish(self) -> list[Goal]:
        """Drop means that are not ends ("grab the mug … leave it in the sink": holding it is a step),
        repeated goals, and close gaps between stages."""
        placed = {(g.subject.type, g.subject.id) for g in self.goals if g.condition.relation and not g.condition.negate}
        out: list[Goal] = []
        for i, g in enumerate(self.goals):
            if g.condition.held and (g.subject.type, g.subject.id) in placed and not g.when:
                self.notes.append(f"holding {g.subject.describe()} is a step towards placing it, not a goal")
                continue
            if g in out:
                continue
            out.append(g)
        if len(out) != len(self.goals):
            out = self._reindex(out)
        stages = sorted({g.stage for g in out})
        dense = {s: k for k, s in enumerate(stages)}
        return [g.model_copy(update={"stage": dense[g.stage]}) if dense[g.stage] != g.stage else g for g in out]

    def _reindex(self, kept: list[Goal]) -> list[Goal]:
        """rest_of indices point into the goal list: keep them pointing at the same goal."""
        new_index = {}
        for i, g in enumerate(self.goals):
            for k, h in enumerate(kept):
                if h is g:
                    new_index[i] = k
        out = []
        for g in kept:
            r = g.subject.rest_of
            if r is not None and r in new_index:
                g = g.model_copy(update={"subject": g.subject.model_copy(update={"rest_of": new_index[r]})})
            out.append(g)
        return out
