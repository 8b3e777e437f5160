"""Understanding instructions offline: ordinary English → goals of the goal language.

    understand("grab the mug, rinse it and leave it in the sink", snapshot)
    → Understanding(goals=[Mug isDirty=False, Mug in SinkBasin], notes=[...])

Deterministic, no network: a lark grammar (grammar.lark) over words lexed and lemmatised against the
lexicon in brain/lexicon/*.yaml (lexicon.py); the semantics (semantics.py) resolves noun phrases
against the scene snapshot and applies each verb's goal template. Anything not understood raises
`NotUnderstood` naming the word and the closest known one. See docs/language.md, "The parser".
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from lemminflect import getAllLemmas

from robocortex.brain.goal_language import Goal
from robocortex.brain.understanding.lexicon import NOUN, VERB, Lexicon, Word, lexicon, type_words
from robocortex.brain.understanding.parser import ParseFailure, parse
from robocortex.brain.understanding.semantics import Interpreter, NotUnderstood, SceneWords
from robocortex.memory.schemas import SceneSnapshot

__all__ = ["NotUnderstood", "Understanding", "understand"]


@dataclass
class Understanding:
    goals: list[Goal]
    notes: list[str] = field(default_factory=list)


def understand(instruction: str, snapshot: SceneSnapshot) -> Understanding:
    """The goals an instruction asks for in this scene; NotUnderstood (a PlanningError) otherwise."""
    if not instruction or not instruction.strip():
        raise NotUnderstood("the instruction is empty")
    lex = lexicon()
    scene = SceneWords(snapshot.node_dicts())
    words, unknown = lex.lex(instruction, scene.ids)
    if unknown:
        raise _unknown(lex, scene, instruction, unknown)
    if not words:
        raise NotUnderstood(f"{instruction.strip()!r} asks for nothing I can do: say what to do, "
                            "e.g. 'put the apple in the fridge'")
    try:
        tree = parse(words)
    except ParseFailure as e:
        raise _unparsed(lex, words, e.position) from None
    interp = Interpreter(lex, scene, words)
    interp.sequence(next(c for c in tree.children if getattr(c, "data", None) == "sequence"))
    goals = interp.finish()
    if not goals:
        raise NotUnderstood(f"{instruction.strip()!r} asks for nothing I can check: say what should change")
    return Understanding(goals=goals, notes=interp.notes)


# --------------------------------------------------------------------------- refusals


_NOUN_CUES = {"the", "a", "an", "my", "your", "this", "that", "these", "those", "some", "any", "all", "every",
              "each", "both", "no", "of", "two", "three", "four", "five", "one", "another", "other"}
_VERB_CUES = {"and", "then", "please", "to", "you", "just", "also"}
_COMMON = frozenset({"the", "and", "in", "on", "of", "to", "it", "then", "off", "into", "with", "all"})


def _word_class(word: str, previous: str | None) -> str:
    """What an unknown word most likely is: by lemminflect's dictionary, else by the word before it."""
    pos = getAllLemmas(word)
    verb_place = previous is None or previous in _VERB_CUES or previous.endswith((",", ".", ";", "!"))
    if previous in _NOUN_CUES:
        return "noun"
    if "VERB" in pos and ("NOUN" not in pos or verb_place):
        return "verb"
    if "NOUN" in pos:
        return "noun"
    if "ADJ" in pos:
        return "adjective"
    return "verb" if verb_place else "word"


def closest(word: str, candidates: list[str], preferred: frozenset[str] = frozenset()) -> str | None:
    """The most similar candidate (difflib's ratio, the word also read without a plural s); among
    nearly as similar ones a preferred one (the verbs that name a sense, the scene's own object words)."""
    forms = {word, word[:-1]} if word.endswith("s") and len(word) > 3 else {word}
    ratio: dict[str, float] = {}
    for form in forms:
        for m in difflib.get_close_matches(form, candidates, n=8, cutoff=0.6):
            ratio[m] = max(ratio.get(m, 0.0), round(difflib.SequenceMatcher(None, form, m).ratio(), 3))
    if not ratio:
        return None
    return max(sorted(ratio), key=lambda m: (ratio[m] + (0.1 if m in preferred else 0.0), m in preferred))


def _unknown(lex: Lexicon, scene: SceneWords, instruction: str, unknown: list[str]) -> NotUnderstood:
    found, parts = [], []
    lowered = [x.strip("\"'") for x in instruction.lower().replace("\u2019", "'").split()]
    scene_words = frozenset(type_words(t) for t in scene.types)
    content = [p for p in lex.known_words() if " " not in p and "FILLER" not in lex.phrases[p]]
    for w in dict.fromkeys(unknown):
        k = next((i for i, x in enumerate(lowered) if x.strip(",.!?;:") == w), 0)
        cls = _word_class(w, lowered[k - 1] if k > 0 else None)
        if cls == "verb":
            pool, preferred = [p for p in lex.words_of(VERB) if " " not in p], lex.sense_names
        elif cls == "noun":
            pool, preferred = sorted(scene_words | set(lex.words_of(NOUN))), scene_words
        else:
            pool, preferred = content, lex.sense_names | scene_words | _COMMON
        best = closest(w, pool, preferred)
        found.append((w, best))
        if best:
            parts.append(f"I don't know the {cls} {w!r} — did you mean {best!r}?")
        elif cls == "noun":
            has = sorted({type_words(t) for t in scene.types if scene.flags[t].get("pickupable")})[:12]
            parts.append(f"I don't know the noun {w!r} (this scene has: {', '.join(has)})")
        else:
            parts.append(f"I don't know the {cls} {w!r} (verbs I know include: put, open, close, turn on/off, "
                         "slice, cook, chill, wash, fill, throw away, break, pick up, clear)")
    return NotUnderstood("; ".join(parts), found)


_CLAUSE_BREAKS = {"AND", "COMMA", "PERIOD", "THEN", "CORRECT", "IF", "UNLESS", "ONCE", "BEFORE", "AFTER", "ELSE"}
_CAN_START = {"VERB", "DET", "INDEF", "ALL", "BOTH", "PRON", "NOTHING", "EVERYTHING", "NO", "NUM", "ONE", "ENSURE",
              "ENSURE_NOT", "THERE", "NOT", "EXACTLY", "ATLEAST", "ADJ", "ID", "ORD", "OTHER", "REST", "ANOTHER"}


def _unparsed(lex: Lexicon, words: list[Word], position: int) -> NotUnderstood:
    text = " ".join(w.text for w in words)
    start = max((i + 1 for i in range(min(position, len(words))) if words[i].cats & _CLAUSE_BREAKS), default=0)
    if start < len(words) and start < position and "VERB" not in words[start].cats and \
            "NOUN" in words[start].cats and start + 1 < len(words) and words[start + 1].cats & _CAN_START:
        w = words[start]  # "water the plant": a noun where the verb should be
        best = closest(w.text, [p for p in lex.words_of(VERB) if " " not in p], lex.sense_names)
        return NotUnderstood(f"I don't know the verb {w.text!r}" + (f" — did you mean {best!r}?" if best else
                                                                     " (verbs I know include: put, open, turn on)"),
                             [(w.text, best)])
    if position >= len(words):
        return NotUnderstood(f"{text!r} stops before it says everything: I need a verb and what it acts on, "
                             "e.g. 'put the apple in the fridge'", [(words[-1].text, None)])
    w = words[position]
    return NotUnderstood(f"I could not make sense of {w.text!r} in {text!r}: I read instructions like "
                         "'put the apple in the fridge', 'turn the tv off', 'the fridge should be closed'",
                         [(w.text, None)])
