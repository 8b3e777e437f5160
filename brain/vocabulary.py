"""Words people use for things, mapped to the AI2-THOR object types of the scene at hand.

Shared by the offline planner (to parse instructions) and the prompt (to keep only the objects a
task is about once a scene is large). The words come from the parser's lexicon (brain/lexicon/):
nouns.yaml for what things are called, verbs.yaml for the tools and appliances a verb needs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from robocortex.brain.goal_language import categories
from robocortex.brain.understanding.lexicon import lemmas, lexicon, type_words

__all__ = ["ARTICLES", "SYNONYMS", "VERB_TOOLS", "Vocabulary", "clean_phrase", "type_words"]


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, list[str]]:
    """Noun → AI2-THOR types in order of preference (a category's types sorted)."""
    out: dict[str, list[str]] = {}
    for word, entry in lexicon().nouns.items():
        if entry.get("types"):
            out[word] = list(entry["types"])
        elif "category" in entry:
            out[word] = sorted(categories()[entry["category"]])
    return out


@lru_cache(maxsize=1)
def _verb_tools() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    """What a verb needs besides its object (a knife to slice, a microwave to heat…), by verb words."""
    lex = lexicon()
    tools: dict[tuple[str, ...], set[str]] = {}
    for frames in lex.verbs.values():
        needed = set(frames.instruments)
        template = lex.templates.get(frames.alone or "")
        for spec in template if isinstance(template, list) else [template] if template else []:
            target = spec.get("target")
            if isinstance(target, str):
                needed.update(lex.nouns.get(target, {}).get("types", []))
        if needed:
            tools.setdefault(tuple(sorted(needed)), set()).add(frames.words)
    out = []
    for needed, words in sorted(tools.items()):
        alternation = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
        out.append((re.compile(rf"\b({alternation})\b"), needed))
    return out


SYNONYMS: dict[str, list[str]] = _synonyms()
VERB_TOOLS: list[tuple[re.Pattern[str], tuple[str, ...]]] = _verb_tools()
ARTICLES = re.compile(r"\b(the|a|an|some|my|your|its|this|that|please)\b")


def clean_phrase(phrase: str) -> str:
    return re.sub(r"\s+", " ", ARTICLES.sub(" ", phrase.lower())).strip()


class Vocabulary:
    """Maps phrases to object types present in the scene."""

    def __init__(self, types: set[str]):
        self.types = types
        self.by_words = {type_words(t): t for t in types} | {t.lower(): t for t in types}

    def resolve(self, phrase: str) -> str | None:
        phrase = clean_phrase(phrase)
        words = phrase.split()
        candidates = [phrase]
        if words:  # the base forms of the last word: "knives" → "knife"
            candidates += [" ".join(words[:-1] + [base]) for base in sorted(lemmas(words[-1])) if base != words[-1]]
        for candidate in candidates:
            # Synonyms first: they name the part people mean ("sink" is the basin things go in).
            for t in SYNONYMS.get(candidate, []):
                if t in self.types:
                    return t
            if candidate in self.by_words:
                return self.by_words[candidate]
        return None

    def mentioned(self, text: str) -> set[str]:
        """Every scene type the text names, by its own words or a synonym."""
        text = f" {clean_phrase(text)} "
        found = {t for words, t in self.by_words.items() if re.search(rf"\b{re.escape(words)}(e?s)?\b", text)}
        for word, candidates in SYNONYMS.items():
            if re.search(rf"\b{re.escape(word)}\b", text):
                found.update(c for c in candidates if c in self.types)
        for verb, tools in VERB_TOOLS:
            if verb.search(text):
                found.update(t for t in tools if t in self.types)
        return found
