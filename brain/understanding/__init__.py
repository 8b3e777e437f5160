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
        raise _unparsed(words, e.position) from None
    interp = Interpreter(lex, scene, words)
    interp.sequence(next(c for c in tree.children if getattr(c, "data", None) == "sequence"))
    goals = interp.finish()
    if not goals:
        raise NotUnderstood(f"{instruction.strip()!r} asks for nothing I can check: say what should change")
    return Understanding(goals=goals, notes=interp.notes)


# --------------------------------------------------------------------------- refusals


def _word_class(word: str, first: bool) -> str:
    pos = getAllLemmas(word)
    if "VERB" in pos and ("NOUN" not in pos or first):
        return "verb"
    if "NOUN" in pos:
        return "noun"
    if "ADJ" in pos:
        return "adjective"
    return "verb" if first else "word"


def closest(word: str, candidates: list[str], preferred: frozenset[str] = frozenset()) -> str | None:
    """The most similar candidate (difflib's ratio); among equally similar ones a preferred one (the
    verbs that name a sense, the scene's own object words)."""
    matches = difflib.get_close_matches(word, candidates, n=8, cutoff=0.6)
    if not matches:
        return None
    ratio = {m: round(difflib.SequenceMatcher(None, word, m).ratio(), 3) for m in matches}
    return max(matches, key=lambda m: (ratio[m], m in preferred, -matches.index(m)))


def _unknown(lex: Lexicon, scene: SceneWords, instruction: str, unknown: list[str]) -> NotUnderstood:
    found, parts = [], []
    lowered = instruction.lower().split()
    for w in dict.fromkeys(unknown):
        first = bool(lowered) and lowered[0].strip(",.!?") == w
        cls = _word_class(w, first or _after_separator(lowered, w))
        scene_words = frozenset(type_words(t) for t in scene.types)
        if cls == "verb":
            pool, preferred = [p for p in lex.words_of(VERB) if " " not in p], lex.sense_names
        elif cls == "noun":
            pool, preferred = sorted(scene_words | set(lex.words_of(NOUN))), scene_words
        else:
            pool, preferred = [p for p in lex.known_words() if " " not in p], lex.sense_names | scene_words
        best = closest(w, pool, preferred) or closest(w, [p for p in lex.known_words() if " " not in p], preferred)
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


def _after_separator(words: list[str], w: str) -> bool:
    for k, x in enumerate(words):
        if x.strip(",.!?") == w and k > 0:
            prev = words[k - 1]
            return prev in ("and", "then", "please") or prev.endswith((",", ".", ";"))
    return False


def _unparsed(words: list[Word], position: int) -> NotUnderstood:
    text = " ".join(w.text for w in words)
    if position >= len(words):
        return NotUnderstood(f"{text!r} stops before it says everything: I need a verb and what it acts on, "
                             "e.g. 'put the apple in the fridge'", [(words[-1].text, None)])
    w = words[position]
    return NotUnderstood(f"I could not make sense of {w.text!r} in {text!r}: I read instructions like "
                         "'put the apple in the fridge', 'turn the tv off', 'the fridge should be closed'",
                         [(w.text, None)])
