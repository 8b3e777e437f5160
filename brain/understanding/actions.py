"""Actions: one verb over its objects — its frame, particles, destination, the place things are taken
out of, instruments, filters — and the goals each object gets."""

from __future__ import annotations

from typing import Any

from lark import Tree

from robocortex.brain.goal_language import Condition, Goal, Selector, piece_type
from robocortex.brain.understanding.lexicon import VerbFrames, Word, type_words
from robocortex.knowledge.placement import accepts
from robocortex.brain.understanding.words import STATE_NEEDS, NotUnderstood, Ref, PP, Said, Reading, _tokens, _sub


class Actions:
    """Part of the `Interpreter` (semantics.py): its methods read `self`'s lexicon, scene, words,
    goals, notes, mentions and the other parts' methods."""

    def frames(self, verb: Word) -> VerbFrames:
        frames = self.lex.verbs.get(verb.base)
        if frames is None:
            raise NotUnderstood(f"I don't know the verb {verb.text!r}", [(verb.text, None)])
        return frames

    def split_comps(self, comps: list[Any]) -> tuple[list[Word], list[Word], list[PP], list[Tree]]:
        particles, adjs, pps, pros = [], [], [], []
        for c in comps:
            if isinstance(c, Tree) and c.data == "contrast":  # "off, not on": what is denied adds nothing
                continue
            if isinstance(c, Tree) and c.data == "pp" and c.children[0].data in ("on", "off") and \
                    self.lex.nouns.get(self.word(_tokens(c.children[1])[-1]).base, {}).get("room"):
                particles.append(self.word(_tokens(c.children[0])[-1]))  # "turn the lights off in here"
            elif isinstance(c, Tree) and c.data == "pp":
                pps.append(c)
            elif isinstance(c, Tree) and c.data in ("there", "prep", "where_was", "where_is"):
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
        self.local = self.named_types(objects)  # "slice the bread with it": "it" is not the bread
        try:
            r = self.read_comps(verb, comps)
        except NotUnderstood:
            if not self.local:
                raise
            self.local = frozenset()
            r = self.read_comps(verb, comps)
        finally:
            self.local = frozenset()
        role = r.template or ("place" if r.dest is not None or r.negplace is not None else "adj")
        refs = given if given is not None else self.objects(objects, "product" if r.frames.product else role, verb)
        poured = [pp for pp in r.pps if pp.kind in ("PREP", "ON") and not pp.ref.room]
        if r.frames.liquid and refs and all(x.liquid and not x.selector.type for x in refs) and poured:
            # "pour water into the mug": the mug filled with water
            r.liquid, refs, r.template, r.dest = refs[0].liquid, [poured[-1].ref], "filled", None
            r.filters = [pp for pp in r.filters if pp is not poured[-1]]
        for ex in exclusions:  # "put everything in the drawer except the knife"
            left = self.objects(_sub(ex, "objects")[0], "subject", verb)
            for ref in refs:  # only from the sets it can be part of ("the tv and the lamps, apart from …")
                if not ref.selector.type or any(x.selector.type == ref.selector.type for x in left):
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

    def named_types(self, objects: Tree | None) -> frozenset[str]:
        """The types a verb's objects name by a noun (read without resolving them)."""
        types: set[str] = set()
        for np in _sub(objects, "np") if objects is not None else []:
            for head in _sub(np, "head"):
                entry = self.lex.nouns.get(self.word(_tokens(head)[-1]).base, {})
                types.update(t for t in entry.get("types", [])[:1] if self.scene.has(t))
        return frozenset(types)

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
        if frames.place and r.template is not None and any(p.base in ("down", "up", "back", "over") for p in particles) \
                and any(pp.kind in ("PREP", "ON") and pp.prep not in located_only and not pp.ref.room for pp in r.pps):
            r.template = None  # "set it down on the table": a direction on the way to a place, not "turn down"
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
                    self.tools.append(pp.ref)
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
        source = next((pp for pp in r.filters if pp.kind in ("FROM", "OFF")), None)
        if r.template and source is not None and self.lex.template(r.template)[0].get("clear"):
            # "clear everything off the counter": what is named goes off the place, as "take … off"
            r.negplace, r.template = source, None
            r.filters = [pp for pp in r.filters if pp is not source]
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
            subject = ref.selector
            wished = self.wished(ref)
            if wished is not None:  # "put a heated potato on the counter": heat it, and put it there
                subject, wish = wished
                pairs.append((wish.subject, wish.condition))
            pairs.append((self.placed(subject, dest, frames.pieces),
                          Condition(relation=self.relation(dest), target=target)))
        elif adjs:
            for a in adjs:
                pairs += self.adjective(a, ref)
            if template is not None:  # "leave the laptop open and on": a state word and a particle
                pairs += self.conditions(template, ref)
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

    def wished(self, ref: Ref) -> tuple[Selector, Goal] | None:
        """A state word on an indefinite object that is being placed ("a chilled tomato", "a clean plate")
        is a state to bring about too, when it does not tell the scene's objects apart (none has it yet,
        or all have it): then the object goes without the filter. When it does ("a dirty mug" with one
        dirty of two), it only picks the object; after "the" it is a description ("the empty roll")."""
        wish = ref.wish
        if wish is None or ref.selector.quantifier != "a" or ref.product or ref.liquid:
            return None
        cond, sel = wish.condition, ref.selector
        states = {k: v for k, v in sel.states.items() if k != cond.state}
        bare = sel.model_copy(update={"states": states, "temperature": None if cond.temperature else sel.temperature})
        if bare == sel:
            return None

        def picks(s: Selector) -> int:
            return len(s.model_copy(update={"quantifier": "all", "count": None}).select(self.scene.nodes))

        have, of = picks(sel), picks(bare)
        if not (have == 0 or have == of):
            return None
        need = STATE_NEEDS.get(cond.state or "")
        if need and bare.type and not bare.piece and not self.scene.can(frozenset({bare.type}), need) and \
                self.scene.can(frozenset({piece_type(bare.type)}), need):  # "a cooked egg": the cracked egg
            bare = bare.model_copy(update={"piece": True})
            return bare, Goal(subject=bare.model_copy(update={"quantifier": "the"}), condition=cond)
        return bare, wish

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
