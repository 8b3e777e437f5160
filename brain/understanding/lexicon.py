"""The lexicon: the YAML files under brain/lexicon/, loaded once, and the lexer that turns an
instruction into words the grammar knows.

Lexing: lowercase, contractions spelled out ("don't" → "do not"), punctuation kept as its own token,
then every word is looked up by its surface form and its base forms (lemminflect), the longest
phrase first ("picked up" matches the verb "pick up", "garbage cans" the noun "garbage can"). A word
with several readings ("on": preposition, particle, state; "clean": verb, state) gets one combined
terminal and the grammar picks the reading that fits. Filler ("could you please", "thanks") is dropped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lemminflect import getAllLemmas, getLemma

from robocortex.brain.goal_language import categories, load_yaml
from robocortex.knowledge.object_types import OBJECT_TYPES

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicon"
MAX_PHRASE = 6

# The open-class terminals; function-word terminals come from function_words.yaml.
VERB, NOUN, ADJ, NUM, FILLER = "VERB", "NOUN", "ADJ", "NUM", "FILLER"
# Words the grammar reads by their own terminal; they are not also adjectives or verbs.
OWN_TERMINAL_WINS = {"on", "off"}


def type_words(type_name: str) -> str:
    """'GarbageCan' → 'garbage can'."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).lower()


@dataclass(frozen=True)
class VerbFrames:
    """What one verb word can mean (merged over every sense that lists it; see verbs.yaml)."""

    words: str
    senses: tuple[str, ...] = ()
    place: bool = False
    alone: str | None = None
    particles: dict[str, str] = field(default_factory=dict)
    result: bool = False
    product: bool = False
    instruments: frozenset[str] = frozenset()
    liquid: bool = False
    pieces: bool = False


@dataclass(frozen=True)
class Word:
    """One lexed token: the words it spans, the lexicon phrase they matched and its readings."""

    text: str
    base: str
    cats: frozenset[str]
    plural: bool = False
    value: Any = None  # a number's value, an objectId
    bases: dict[str, str] = field(default_factory=dict)  # reading → its phrase ("washed": ADJ washed, VERB wash)


def _load(name: str) -> Any:
    return load_yaml((LEXICON_DIR / name).read_text())


@lru_cache(maxsize=4096)
def lemmas(word: str) -> frozenset[str]:
    out = {word}
    for forms in getAllLemmas(word).values():
        out.update(forms)
    return frozenset(out)


@lru_cache(maxsize=4096)
def is_plural(word: str) -> bool:
    nouns = getAllLemmas(word).get("NOUN")
    if nouns:
        return word not in nouns
    return word.endswith("s") and not word.endswith("ss") and len(word) > 3


class Lexicon:
    """Every phrase the parser knows, indexed by first word; plus what verbs, nouns and state words mean."""

    def __init__(self) -> None:
        fw = _load("function_words.yaml")
        vb = _load("verbs.yaml")
        nn = _load("nouns.yaml")
        adj = _load("adjectives.yaml")
        self.templates: dict[str, Any] = vb["templates"]
        self.values: dict[str, Any] = fw["values"]
        self.numbers: dict[str, int] = fw["numbers"]
        self.ordinals: dict[str, int] = fw.get("ordinals", {})
        self.fractions: dict[str, dict[str, Any]] = fw.get("fractions", {})
        self.spellings: dict[str, list[str]] = {str(k): str(v).split() for k, v in fw.get("spellings", {}).items()}
        self.bare_number_quantifier: str = fw.get("bare_number_quantifier", "at_least")
        self.products: dict[str, Any] = nn["products"]
        self.controls: dict[str, str] = nn.get("controls", {})
        self.courtesy: dict[str, list[Any]] = {
            k: [tuple(_split_words(_normalise(str(p)))) for p in v] if k != "modals" and k != "skip" else list(v)
            for k, v in fw["courtesy"].items()}
        self.phrases: dict[str, set[str]] = defaultdict(set)  # phrase → terminals
        self.terminals: set[str] = {VERB, NOUN, ADJ, NUM}
        for terminal, words in fw["terminals"].items():
            self.terminals.add(terminal)
            for w in words:
                self.phrases[self._norm(w)].add(terminal)
        for w in self.numbers:
            if self._norm(w) != "one":
                self.phrases[self._norm(w)].add(NUM)
        for w in fw["filler"]:
            self.phrases[self._norm(w)].add(FILLER)
        self.verbs = self._verbs(vb["senses"])
        self.sense_names = frozenset(vb["senses"])
        for w in self.verbs:
            if w not in OWN_TERMINAL_WINS:
                self.phrases[w].add(VERB)
        self.nouns: dict[str, dict[str, Any]] = {}
        for t in OBJECT_TYPES:  # a piece type by its compact name only: "bread sliced" is no noun
            for w in {t.lower()} if t.endswith(("Sliced", "Cracked")) else {type_words(t), t.lower()}:
                self.nouns[w] = {"types": [t]}
        for w, entry in nn["nouns"].items():
            self.nouns[self._norm(w)] = entry
        for c in categories():  # a category's name is a noun, unless it is a type's plural ("books")
            singular = getLemma(c, "NOUN")[0] if getLemma(c, "NOUN") else c
            if singular not in self.nouns or "types" not in self.nouns[singular]:
                self.nouns.setdefault(c, {"category": c})
        for w in self.nouns:
            self.phrases[w].add(NOUN)
        self.adjectives: dict[str, Any] = {self._norm(k): v for k, v in adj["adjectives"].items()}
        for w in self.adjectives:
            if w not in OWN_TERMINAL_WINS:
                self.phrases[w].add(ADJ)
        self.by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        self.phrases.pop("", None)
        for phrase in self.phrases:
            words = tuple(phrase.split())
            self.by_first[words[0]].append(words)
        for firsts in self.by_first.values():
            firsts.sort(key=len, reverse=True)
        self._check()

    @staticmethod
    def _norm(phrase: str) -> str:
        return " ".join(_split_words(str(phrase).lower()))

    def _verbs(self, senses: dict[str, Any]) -> dict[str, VerbFrames]:
        merged: dict[str, dict[str, Any]] = {}
        for name, sense in senses.items():
            for w in sense["words"]:
                w = self._norm(w)
                m = merged.setdefault(w, {"words": w, "senses": (), "particles": {}, "instruments": frozenset()})
                m["senses"] += (name,)
                m["particles"] = {**sense.get("particles", {}), **m["particles"]}
                m["instruments"] |= frozenset(sense.get("instruments", ()))
                for key in ("place", "result", "product", "liquid", "pieces"):
                    m[key] = m.get(key, False) or bool(sense.get(key))
                if sense.get("alone") and not m.get("alone"):
                    m["alone"] = sense["alone"]
        return {w: VerbFrames(**m) for w, m in merged.items()}

    def _check(self) -> None:
        """Fail loudly on a lexicon that names a template or category that does not exist."""
        names = set(self.templates)
        for v in self.verbs.values():
            for t in [v.alone, *v.particles.values()]:
                if t is not None and t not in names:
                    raise ValueError(f"verbs.yaml: verb {v.words!r} names unknown template {t!r}")
        for w, a in self.adjectives.items():
            t = a if isinstance(a, str) else a.get("template")
            if t is not None and t not in names:
                raise ValueError(f"adjectives.yaml: {w!r} names unknown template {t!r}")
        for w, n in self.nouns.items():
            if "category" in n and n["category"] not in categories():
                raise ValueError(f"nouns.yaml: {w!r} names unknown category {n['category']!r}")
            if "product" in n and n["product"] not in self.products:
                raise ValueError(f"nouns.yaml: {w!r} names unknown product {n['product']!r}")

    # ------------------------------------------------------------------ lookups

    def words_of(self, terminal: str) -> list[str]:
        return sorted(p for p, cats in self.phrases.items() if terminal in cats)

    def known_words(self) -> list[str]:
        return sorted(self.phrases)

    def template(self, name: str) -> list[dict[str, Any]]:
        t = self.templates[name]
        return t if isinstance(t, list) else [t]

    # ------------------------------------------------------------------ lexing

    def lex(self, text: str, ids: dict[str, str]) -> tuple[list[Word], list[str]]:
        """Words of the instruction (filler dropped) and the words not in the lexicon. Unknown words in
        a phrase the speaker takes back ("… and dry… no, just wash them") go with the phrase."""
        raw = [w for t in _split_words(_normalise(text)) for w in self.spellings.get(t, [t])]
        raw = self.presented(self.courteous(self.clitics(self.located_one(self.walked(self.tooled(raw))))))
        out, unknown, at = self._lex(raw, ids)
        while at:
            described = self._description(raw, at[0])
            if described is not None:  # "the faucet is dripping, turn it off": there is the faucet; …
                raw = described
                out, unknown, at = self._lex(raw, ids)
                continue
            fix = next((k for k in range(at[0] + 1, len(raw)) if self._has(raw, k, "CORRECT")
                        and not self._has(raw, k, "AND")), None)
            if fix is None or any(a > fix for a in at):
                break
            start = max((k for k in range(at[0]) if raw[k] in {",", ";", ".", "!", "?", "and"}), default=-1)
            if start < 0:
                break
            n = self._match(raw, fix)[1]  # type: ignore[index]
            raw = raw[:start + 1] + raw[fix + n:]
            out, unknown, at = self._lex(raw, ids)
        return out, unknown

    def tooled(self, raw: list[str]) -> list[str]:
        """"use it to slice the bread", "use the sponge to wash the plate": a clause that opens with one of
        `tools` and reaches "to" and a verb is read as "slice the bread with it": the tool is a means."""
        seps = {",", ";", ":", ".", "!", "?"}
        tools = self.courtesy.get("tools", [])
        out: list[str] = []
        i = 0
        while i < len(raw):
            start = i == 0 or raw[i - 1] in seps or raw[i - 1] in ("and", "then")
            n = next((len(t) for t in tools if tuple(raw[i:i + len(t)]) == t), 0) if start else 0
            if n:
                to = next((k for k in range(i + n + 1, len(raw)) if raw[k] in seps or raw[k] == "to"), None)
                if to is not None and raw[to] == "to" and to + 1 < len(raw) and self._has(raw, to + 1, VERB) \
                        and 0 < to - (i + n) <= 4:
                    end = next((k for k in range(to + 1, len(raw)) if raw[k] in seps), len(raw))
                    out += raw[to + 1:end] + ["with"] + raw[i + n:to]
                    i = end
                    continue
            out.append(raw[i])
            i += 1
        return out

    def walked(self, raw: list[str]) -> list[str]:
        """Steps of getting somewhere ("walk to the counter.", "turn around and go to the sink, …") are no
        goal: a clause of a `walks` word, `directions` and at most one `towards` phrase is dropped, its place
        kept as "there is <place>" so that "it"/"there" after it can name it (`courtesy` in
        function_words.yaml)."""
        c = self.courtesy
        seps = {",", ";", ":", ".", "!", "?"}
        walks = sorted(c.get("walks", []), key=len, reverse=True)  # phrases, already split
        dirs = sorted(c.get("directions", []), key=len, reverse=True)
        towards = sorted(c.get("towards", []), key=len, reverse=True)

        def lead(k: int, options: list[tuple[str, ...]]) -> int:
            return next((len(o) for o in options if tuple(raw[k:k + len(o)]) == o), 0)

        out: list[str] = []
        i = 0
        while i < len(raw):
            start = i == 0 or raw[i - 1] in seps or raw[i - 1] in ("and", "then")
            n = lead(i, walks) if start else 0
            if n:
                k = i + n
                while k < len(raw) and raw[k] not in seps and lead(k, dirs):
                    k += lead(k, dirs)
                place: list[str] = []
                t = lead(k, towards) if k < len(raw) else 0
                if t and k + t < len(raw) and self._has(raw, k + t, "DET"):
                    end = next((e for e in range(k + t, len(raw)) if raw[e] in seps or raw[e] in ("and", "then")),
                               len(raw))
                    place, k = raw[k + t:end], end
                clause_end = k >= len(raw) or raw[k] in seps or raw[k] in ("and", "then")
                if clause_end and (place or k > i + n or n > 1):  # "then go back and …", "walk over.
                    if place and not any(self._has(place, q, VERB) for q in range(len(place))):
                        out += ["there", "is", *place]
                        i = k
                        continue
                    if not place:
                        # drop the step and the connective after it
                        i = k + 1 if k < len(raw) and raw[k] in (",", ";", ":", "and", "then") else k
                        if k < len(raw) and raw[k] in (".", "!", "?"):
                            i = k + 1
                        continue
            out.append(raw[i])
            i += 1
        while out and out[0] in seps:
            out.pop(0)
        return out

    def located_one(self, raw: list[str]) -> list[str]:
        """"the one on the counter" is "the one that is on the counter" (`one_located`)."""
        preps = [tuple(str(p).split()) for p in self.values.get("one_located", [])]
        out: list[str] = []
        for k, w in enumerate(raw):
            out.append(w)
            if w == "one" and k > 0 and raw[k - 1] == "the" and \
                    any(tuple(raw[k + 1:k + 1 + len(p)]) == p and self._has(raw, k + 1 + len(p), "DET") for p in preps):
                out += ["that", "is"]
        return out

    def presented(self, raw: list[str]) -> list[str]:
        """"see the vase on the side table? move it …": a first clause that points at an object (one of
        `presentatives`, then a determiner) and is followed by more of the sentence only introduces the
        object — read as "there is the vase on the side table"."""
        seps = {",", ";", ":", ".", "!", "?"}
        end = next((k for k in range(len(raw)) if raw[k] in seps), len(raw))
        for p in sorted(self.courtesy["presentatives"], key=len, reverse=True):
            n = len(p)
            if tuple(raw[:n]) == p and n < end and self._has(raw, n, "DET") and end < len(raw) - 1 \
                    and any(self._has(raw, k, NOUN) for k in range(n, end)):
                return ["there", "is"] + raw[n:]
        return raw

    def clitics(self, raw: list[str]) -> list[str]:
        """"'s" after a noun: the possessive before a noun phrase ("mum's mug", "the cat's clean bowl"),
        otherwise "is" ("the towel's on the floor", "the laptop's still on", "the mug's dirty")."""
        out: list[str] = []
        for k, w in enumerate(raw):
            if w != "'s":
                out.append(w)
                continue
            nxt = k + 1 < len(raw) and self._has(raw, k + 1, NOUN)
            adj_noun = k + 2 < len(raw) and self._has(raw, k + 1, ADJ) and self._has(raw, k + 2, NOUN)
            if not (nxt or adj_noun):
                out.append("is")
        return out

    def _description(self, raw: list[str], u: int) -> list[str] | None:
        """A clause describing an object in words the lexicon lacks, before another clause ("the faucet is
        dripping, …", "the towel fell off, …"): it only introduces the object, so it is read as "there is
        the faucet". The clause must open with a determiner and name a known object before the unknown
        word, hold no verb of the lexicon, and be followed by more of the sentence."""
        seps = {",", ";", ".", "!", "?"}
        start = max((k + 1 for k in range(u) if raw[k] in seps), default=0)
        end = next((k for k in range(u, len(raw)) if raw[k] in seps), len(raw))
        if end >= len(raw) - 1 or not self._has(raw, start, "DET"):
            return None
        if any(self._has(raw, u - 1, t) for t in ("DET", "INDEF", "PREP", "ON", "OFF", "ALL", NUM, "OF", "FROM")):
            return None  # "… is in the dishwasher": an unknown object, not a description
        noun = max((k for k in range(start, u) if self._has(raw, k, NOUN)), default=None)
        if noun is None or any(self._has(raw, k, VERB) and not self._has(raw, k, NOUN)
                               for k in range(start, end) if self._match(raw, k)):
            return None
        m = self._match(raw, noun)
        return raw[:start] + ["there", "is"] + raw[start:noun + (m[1] if m else 1)] + raw[end:]

    def _lex(self, raw: list[str], ids: dict[str, str]) -> tuple[list[Word], list[str], list[int]]:
        at: list[int] = []
        out: list[Word] = []
        unknown: list[str] = []
        i = 0
        while i < len(raw):
            w = raw[i]
            if "|" in w:
                oid = ids.get(w) or ids.get(w.rstrip(".!?"))
                if oid is None:
                    unknown.append(w)
                    at.append(i)
                else:
                    out.append(Word(w, w, frozenset({"ID"}), value=oid))
                i += 1
                continue
            if w.isdigit():
                out.append(Word(w, w, frozenset({NUM}), value=int(w)))
                i += 1
                continue
            match = self._match(raw, i)
            if match is None:
                unknown.append(w)
                at.append(i)
                i += 1
                continue
            phrases, n = match
            phrase = phrases[0]
            bases: dict[str, str] = {}
            for p in phrases:
                for cat in self.phrases[p]:
                    bases.setdefault(cat, p)
            cats = frozenset(bases)
            i += n
            nxt = raw[i] if i < len(raw) else ""
            counted = nxt.isdigit() or nxt in self.numbers  # "just one", "only two"
            after_subject = bool({"MODAL", "HAVE"} & cats) and out and \
                out[-1].cats & {NOUN, "PRON", "EVERYTHING", "NOTHING", "ID"}
            after_subject = after_subject or "HAVE" in cats and out and out[-1].cats & {"MODAL", "NOT"}  # "should have"
            closing = phrase in self.values["clause_final"] and (nxt == "" or nxt in {",", ";", ":", ".", "!", "?"})
            if FILLER in self.phrases[phrase] and not (len(cats) > 1 and (out and "DET" in out[-1].cats or counted
                                                                          or after_subject or closing)):
                continue  # filler, unless a determiner or a number makes it a word ("the first", "just one")
            cats = cats - {FILLER}
            if n == 1 and {VERB, NOUN} <= cats and raw[i - 1] != bases[VERB] and raw[i - 1].endswith("s") \
                    and is_plural(raw[i - 1]):
                cats = cats - {VERB}  # "lights off": an order never says "lights", a plural noun does
            if n == 1 and NOUN in cats and len(cats) > 1 and raw[i - 1] != bases[NOUN] \
                    and "NOUN" not in getAllLemmas(raw[i - 1]):
                cats = cats - {NOUN}  # "toasted", "sliced": a verb's form, never the noun "toast", "slice"
            if n == 1 and VERB in cats and ADJ not in cats and raw[i - 1] != bases[VERB] and \
                    raw[i - 1].endswith(("ed", "en")) and self.verbs[bases[VERB]].alone and \
                    i < len(raw) and self._has(raw, i, NOUN) and i > 1 and raw[i - 2] in ("a", "an", "the", "some"):
                cats = cats | {ADJ}  # "a rinsed mug", "the washed plate": the participle as a state word
                bases = {**bases, ADJ: bases[VERB]}
            span = " ".join(raw[i - n:i])
            value = self.numbers.get(phrase, self.ordinals.get(phrase, self.fractions.get(phrase)))
            if phrase in self.values.get("disjunctions", []) and "either" in raw[:i - n]:
                value = "either"  # "either the fridge or the bowl": an alternative, not one more
            out.append(Word(span, phrase, cats, plural=is_plural(raw[i - 1]), value=value, bases=bases))
        return out, unknown, at

    # ------------------------------------------------------------------ courtesy

    def _has(self, raw: list[str], i: int, terminal: str) -> bool:
        m = self._match(raw, i)
        return m is not None and any(terminal in self.phrases[p] for p in m[0])

    def _names_object(self, raw: list[str]) -> bool:
        return any("|" in w or w.isdigit() or self._has(raw, i, NOUN) for i, w in enumerate(raw))

    @staticmethod
    def _ends_with(raw: list[str], phrases: list[tuple[str, ...]]) -> bool:
        return any(len(raw) >= len(p) and tuple(raw[len(raw) - len(p):]) == p for p in phrases)

    def courteous(self, raw: list[str]) -> list[str]:
        """The words of the request, without the courtesy around it (function_words.yaml `courtesy`):
        asides ("when you get a chance", "sorry to bother you", "thanks so much") — a clause between
        separators that opens with an aside word, addresses the listener and names no object — and a
        request frame before the verb ("I was hoping you could", "any chance someone could", "can I ask
        you to"): words naming no object that end in listener + modal, modal + listener or listener +
        "to", followed by a verb. Words in them need not be in the lexicon."""
        c = self.courtesy
        seps = {",", ";", ":", ".", "!", "?"}
        out: list[str] = []
        i = 0
        while i < len(raw):  # asides between separators
            j = next((k for k in range(i, len(raw)) if raw[k] in seps), len(raw))
            seg = raw[i:j]
            opens = any(tuple(seg[:len(a)]) == a for a in c["asides"])
            thanks = any(tuple(seg[:len(a)]) == a for a in c["thanks"])
            addressed = any(tuple(seg[k:k + len(a)]) == a for a in c["listeners"] for k in range(len(seg)))
            if opens and not addressed:  # "if it's no trouble": words of no request, one of them unknown
                found = [self._match(seg, k) for k in range(len(seg))]
                addressed = None in found and not any(
                    {VERB, ADJ, NOUN, "ON", "OFF", "PREP"} & self.phrases[p] for m in found if m for p in m[0])
            chat = not opens and addressed and any(self._match(seg, k) is None for k in range(len(seg))) and not any(
                self._has(seg, k, VERB) for k in range(len(seg)))  # "hope you're well", "I know you're busy"
            asked = any(tuple(seg[:len(q)]) == q for q in c.get("questions", [])) and j < len(raw) and raw[j] == "?"
            if seg and (thanks or opens and addressed or chat or asked) and not self._names_object(seg):
                i = j + 1 if j < len(raw) and raw[j] in {",", ";", ":"} else j  # keep a sentence end
                continue
            k = next((k for k in range(i + 1, j) if any(tuple(raw[k:k + len(a)]) == a for a in c["asides"])
                      and any(tuple(raw[k + len(a):k + len(a) + len(lst)]) == lst
                              for a in c["asides"] if tuple(raw[k:k + len(a)]) == a for lst in c["listeners"])
                      and not self._names_object(raw[k:j]) and not self._has(raw, k, "THEN")), None)
            if k is not None:  # "… in the sink when you get the chance": an aside closing the clause
                out += raw[i:k] + raw[j:j + 1]
            else:
                out += raw[i:j + 1]
            i = j + 1
        opening = self._match(out, 0) if out else None
        if opening and any({"ENSURE", "ENSURE_NOT"} & self.phrases[x] for x in opening[0]) and \
                not any(tuple(out[opening[1]:opening[1] + len(lst)]) == lst for lst in c["listeners"]):
            return out  # "I'd like toast": a wish, not a request frame before a verb
        frames = [(m, *lst) for m in c["modals"] for lst in c["listeners"]] + \
                 [(*lst, m) for m in c["modals"] for lst in c["listeners"]] + \
                 [(*lst, "to") for lst in c["listeners"]]
        best = 0
        named = [("|" in w or w.isdigit() or self._has(out, i, NOUN)) for i, w in enumerate(out[:16])]
        for p in range(1, min(len(out), 16) + 1):
            if any(named[:p]):
                break
            if not self._ends_with(out[:p], frames):
                continue
            rest = p
            while rest < len(out) and (out[rest] in seps or out[rest] in c["skip"] or self._has(out, rest, FILLER)
                                       and not self._has(out, rest, VERB)):
                rest += 1
            for n in (4, 3):  # "could you be a sweetheart and …", "would you be kind and …"
                tail = out[rest:rest + n]
                if len(tail) == n and tail[0] == "be" and tail[-1] == "and" and (n == 3 or tail[1] in ("a", "an")) \
                        and not self._names_object(tail):
                    best_from = rest + n
                    if best_from < len(out) and self._has(out, best_from, VERB):
                        return out[best_from:]
            if rest < len(out) and self._has(out, rest, VERB):
                best = p
        return out[best:]

    def _match(self, raw: list[str], i: int) -> tuple[list[str], int] | None:
        """The longest phrases starting at word i (every reading of that length; the surface form's first)."""
        found: list[tuple[int, int, str]] = []
        for rank, first in enumerate(sorted(lemmas(raw[i]), key=lambda f: f != raw[i])):
            for phrase in self.by_first.get(first, ()):
                n = len(phrase)
                if i + n > len(raw):
                    continue
                if all(p == raw[i + k] or p in lemmas(raw[i + k]) for k, p in enumerate(phrase[1:], start=1)):
                    found.append((n, rank, " ".join(phrase)))
                    break  # phrases are sorted longest first
        if not found:
            return None
        n = max(f[0] for f in found)
        return [p for m, _, p in sorted(found, key=lambda f: f[1]) if m == n], n


_CONTRACTIONS = [
    (r"\bcan't\b", "can not"), (r"\bwon't\b", "will not"), (r"\bshan't\b", "shall not"),
    (r"n't\b", " not"), (r"'d\b", " would"), (r"'ll\b", " will"), (r"'re\b", " are"), (r"'m\b", " am"),
    (r"'ve\b", " have"), (r"\blet's\b", "let us"), (r"\b(it|that|what|there|here|he|she)'s\b", r"\1 is"),
    (r"'s\b", " 's"), (r"s'\B", "s"), (r"(?<![\w'])'em\b", "them"),
    (r"\s[-\u2013\u2014]+\s|[\u2013\u2014]", " , "), (r"\s&\s", " and "),  # a dash between words is a pause, as a comma
]


def _normalise(text: str) -> str:
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.lower()
    for pattern, repl in _CONTRACTIONS:
        text = re.sub(pattern, repl, text)
    return text


_TOKEN = re.compile(r"[a-z][a-z0-9_]*\|[^\s,;]+|\d+|[a-zà-ÿ]+|'s\b|[,;:.!?]")


def _split_words(text: str) -> list[str]:
    return _TOKEN.findall(text)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon()
