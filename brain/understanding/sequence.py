"""The sequence: items in order; connectives and markers set stages ("then", "once", "before"),
conditions ("if", "unless", "otherwise") and self-corrections; the end state kept at the finish."""

from __future__ import annotations

from lark import Tree

from robocortex.brain.goal_language import Condition, Goal, Selector, categories
from robocortex.brain.understanding.lexicon import Word
from robocortex.brain.understanding.words import (
    TEMPLATE_NEEDS,
    NotUnderstood,
    denied,
    negate_goal,
    Said,
    Flow,
    _items,
    _tokens,
    _kind,
    _sub,
)


class Sequence:
    """Part of the `Interpreter` (semantics.py): its methods read `self`'s lexicon, scene, words,
    goals, notes, mentions and the other parts' methods."""

    def body(self, tree: Tree, said: Said) -> tuple[list[Goal], bool]:
        """Goals of one item, and whether they are asked for (False: a description of the scene)."""
        if tree.data == "light":  # "give the mug a quick wash": the noun's verb over the objects
            verb = _sub(tree, "verb")[-1]
            objects = _sub(tree, "objects")[0]
            comps = [c for c in tree.children if isinstance(c, Tree) and c.data not in ("verb", "objects", "indef")]
            return self.action(self.word(_tokens(verb)[-1]), objects, comps, said=said), True
        if tree.data == "action":
            nots = _sub(tree, "not")
            objects = next(iter(_sub(tree, "objects")), None)
            kids = [k for c in tree.children for k in (c.children if isinstance(c, Tree) and c.data == "comp" else [c])]
            comps = [c for c in kids  # "… off the sofa and onto the table": the "and" joins two phrases
                     if not (isinstance(c, Tree) and c.data in ("objects", "verb", "not", "exactly", "and"))]
            goals = []
            self.negating = bool(nots)  # "don't touch either the vase or the statue": neither
            try:
                for v in _sub(tree, "verb"):  # "heat up and slice the potato": each verb over the objects
                    goals += self.action(self.word(_tokens(v)[-1]), objects, comps, said=said)
            finally:
                self.negating = False
            self.last_subject, self.last_negated = said.refs, bool(nots)
            return ([denied(g) for g in goals] if nots else goals), True
        if tree.data == "gapped":
            objects = next(iter(_sub(tree, "objects")), None)
            if objects is None:  # "… and then off again": the last verb over its objects, this particle
                return self.body(Tree("fragment", tree.children), said)
            nots = _sub(tree, "not")
            comps = [c for c in tree.children
                     if c is not objects and not (isinstance(c, Tree) and c.data in ("not", "same"))]
            if not comps and not nots:
                alternative = self.place_remnant(objects)
                if alternative is not None:
                    return alternative, True
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
                if not comps:  # "pick up the pillow, then the remote, and put them …": one list, said in two
                    self.clause -= 1
                goals = self.action(verb, objects, comps or last_comps, said=said)
            return ([denied(g) for g in goals] if nots else goals), True
        if tree.data == "fragment":  # "… no, in the sink": the last verb and objects, these words
            verb = said.verb or (self.last_action[0] if self.last_action else None)
            if verb is None or not said.refs:
                raise NotUnderstood(f"what should go {self.text(tree)!r}? Start with a verb", [(self.text(tree), None)])
            return self.action(verb, None, list(tree.children), given=said.refs), True
        return self.state(tree)

    def place_remnant(self, objects: Tree) -> list[Goal] | None:
        """"nothing should be left in the microwave or the toaster", "don't put anything on the bed or the
        desk": a lone receptacle after an item with a place is another place for that item's objects.
        After a negation it is one more goal (neither place); an alternative place without one ("in the
        fridge or the bowl") is no goal."""
        nps = _sub(objects, "np")
        if self.last_action is None or not self.last_subject or len(nps) != 1 or self.contrastive:
            return None  # "nothing on the counter but the toaster": "but" is no other place
        verb, last_comps = self.last_action
        pps = [c for c in last_comps if isinstance(c, Tree) and c.data == "pp"]
        if not pps:
            return None
        try:
            place = self.np(nps[0], "target")
        except NotUnderstood:
            return None
        negated = self.last_negated or any(r.negate for r in self.last_subject)
        if not place.types or not self.scene.can(place.types, "receptacle") or self.scene.can(place.types, "pickupable") \
                and not (self.disjunct and not negated):  # "in the fridge or the bowl": the bowl, another place
            return None
        if self.disjunct and not negated:
            self.notes.append(f"or {place.text!r}: an alternative place is no goal")
            return []
        comps = [Tree("pp", [pps[-1].children[0], nps[0]]) if c is pps[-1] else c for c in last_comps]
        subject, was_negated = self.last_subject, self.last_negated
        goals = self.outcome(subject, comps) if verb is None else self.action(verb, None, comps, given=subject)
        self.last_subject, self.last_negated = subject, was_negated
        return [denied(g) for g in goals] if was_negated else goals

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
            self.disjunct = any(w.base in self.lex.values["disjunctions"] for w in flow.conn)
            self.contrastive = any(w.base == "but" for w in flow.conn)
            self.connective(flow, repeats=self._repeats(inner))
            said = Said(len(self.goals), refs=flow.last_said.refs, verb=flow.last_said.verb)
            if inner.data == "plain" and k == 0 and self._topic(children):
                self.introduce(inner.children[0])
            elif inner.data == "plain":
                self.plain(flow, inner.children[0], said, corrected=self._corrected(children, k))
            else:
                self.marked(flow, inner, said, trailing)

    @staticmethod
    def _repeats(item: Tree) -> bool:
        """Whether an item repeats the last one for other objects ("… actually, do the same with X")."""
        body = item.children[-1]  # a plain item's body, or a marked item's
        return isinstance(body, Tree) and body.data == "gapped" and bool(_sub(body, "same"))

    def connective(self, flow: Flow, repeats: bool = False) -> None:
        """What the words before an item say: a correction (not before an item that repeats the last one:
        "… actually, do the same with the lettuce"), the next stage, a new sentence."""
        conn = flow.conn
        waiting = any("THEN" in w.cats for w in conn)  # "turn on the shower, wait, then turn it off": a pause
        if any("CORRECT" in w.cats and not ({"AND", "COMMA", "THEN"} & w.cats) and not (waiting and w.base == "wait")
               for w in conn) and not flow.first and not repeats:
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

    def _topic(self, children: list[Tree]) -> bool:
        """A verbless phrase opening the sentence that the next item takes up with a pronoun ("the spray
        bottle on the toilet — move it to the counter"): a topic, not a goal."""
        if len(children) < 3 or children[1].data != "conn" or children[2].data != "item":
            return False
        first, nxt = children[0].children[0], children[2].children[0]
        if first.data != "plain" or first.children[0].data != "gapped" or nxt.data != "plain" \
                or nxt.children[0].data != "action" or not _sub(first.children[0], "objects"):
            return False
        objects = _sub(nxt.children[0], "objects")
        heads = [h for o in objects[:1] for np in _sub(o, "np")[:1] for h in _sub(np, "head")]
        return bool(heads) and _kind(_tokens(heads[0])[-1], {"PRON"}) is not None

    def introduce(self, body: Tree) -> None:
        """A topic's objects, located by its phrases, only become referents."""
        refs = self.objects(_sub(body, "objects")[0], "subject", Word("", "", frozenset()))
        for r in refs:
            for pp in _sub(body, "pp"):
                self.locate(r, self.pp(pp))
            self.remember(r, None, "object")

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

    def finish(self) -> list[Goal]:
        """Goals describe the end state: drop means (holding, taking out of) that a later goal on the
        same objects completes, states a later goal in the same stage undoes, and repeats."""
        keep = []
        referenced = {g.subject.rest_of for g in self.goals}
        excepted = self._fold_exceptions()
        for i, g in enumerate(self.goals):
            later = [h for h in self.goals[i + 1:] if _same_subject(g, h)]
            if i in excepted:
                continue
            if i in referenced:
                keep.append(g)
                continue
            if g.condition.held and later and not g.when:  # "grab the mug and wash it": holding it is a step
                self.notes.append(f"holding {g.subject.describe()} is a step, not a goal")
                continue
            if g.condition.held and not g.when and any(_same_subject(g, Goal(subject=t.selector, condition=g.condition))
                                                       for t in self.tools):
                self.notes.append(f"holding {g.subject.describe()} is a step: it is a tool")  # "… slice it with the knife"
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

    def _fold_exceptions(self) -> set[int]:
        """"Clear the counter but leave the knife there", "turn off the lights without turning off the desk
        lamp": a goal on one type of a set's objects, in the same stage, that says the opposite of the
        set's goal makes that type an exception to the set (its `exclude`). Returns the goals folded."""
        folded: set[int] = set()
        for i, g in enumerate(self.goals):
            if g.subject.quantifier != "all" or g.subject.id or g.when:
                continue
            for j, h in enumerate(self.goals):
                t = h.subject.type
                if j == i or j in folded or h.stage != g.stage or h.when or h.subject.quantifier != "the" \
                        or not t or t == g.subject.type or not _opposite(g.condition, h.condition):
                    continue
                if g.subject.type or g.subject.category and t not in categories()[g.subject.category]:
                    continue
                left = g.subject.exclude + [Selector(type=t)]
                g = self.goals[i] = g.model_copy(update={"subject": g.subject.model_copy(update={"exclude": left})})
                folded.add(j)
        return folded

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



def _opposite(a: Condition, b: Condition) -> bool:
    """One condition denies the other: a state's two values, or a place and its negation (in, on and
    in_or_on are one relation, as in the goal check)."""
    if a.state is not None:
        return a.state == b.state and a.value != b.value and a.liquid is None and b.liquid is None
    if a.relation is not None and b.relation is not None and a.target is not None and b.target is not None:
        return a.negate != b.negate and (a.target.type, a.target.category, a.target.id) == \
            (b.target.type, b.target.category, b.target.id)
    return False


def _same_subject(a: Goal, b: Goal) -> bool:
    return (a.subject.type, a.subject.id, a.subject.category) == (b.subject.type, b.subject.id, b.subject.category)
