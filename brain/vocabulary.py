"""Words people use for things, mapped to the AI2-THOR object types of the scene at hand.

Shared by the offline planner (to parse instructions) and the prompt (to keep only the objects a
task is about once a scene is large).
"""

from __future__ import annotations

import re

# Words people use → AI2-THOR object types, in order of preference.
SYNONYMS: dict[str, list[str]] = {
    "fridge": ["Fridge"], "refrigerator": ["Fridge"],
    "light": ["LightSwitch", "FloorLamp", "DeskLamp"], "lights": ["LightSwitch", "FloorLamp", "DeskLamp"],
    "light switch": ["LightSwitch"], "lamp": ["FloorLamp", "DeskLamp"],
    "trash": ["GarbageCan"], "trash can": ["GarbageCan"], "garbage": ["GarbageCan"], "bin": ["GarbageCan"],
    "garbage can": ["GarbageCan"], "rubbish bin": ["GarbageCan"],
    "counter": ["CounterTop"], "countertop": ["CounterTop"], "kitchen counter": ["CounterTop"],
    "table": ["DiningTable", "CoffeeTable", "SideTable", "Desk"], "stove": ["StoveBurner"],
    "cooker": ["StoveBurner"], "burner": ["StoveBurner"], "sink": ["SinkBasin", "Sink"],
    "tv": ["Television"], "telly": ["Television"], "couch": ["Sofa"], "sofa": ["Sofa"],
    "cupboard": ["Cabinet"], "tap": ["Faucet"], "coffee maker": ["CoffeeMachine"],
    "bath": ["BathtubBasin", "Bathtub"], "bathtub": ["BathtubBasin", "Bathtub"],
    "phone": ["CellPhone"], "mobile": ["CellPhone"], "remote": ["RemoteControl"],
    "knife": ["Knife", "ButterKnife"], "glass": ["Cup"], "dish": ["Plate"], "frying pan": ["Pan"],
}
# What a verb needs besides its object (a knife to slice, a microwave to heat…), by verb pattern.
VERB_TOOLS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"\b(slice|cut|chop|dice)\b"), ("Knife", "ButterKnife")),
    (re.compile(r"\b(cook|heat|warm|microwave|bake|toast)\b"), ("Microwave", "StoveBurner", "StoveKnob", "Toaster")),
    (re.compile(r"\b(wash|clean|rinse|scrub)\b"), ("SinkBasin", "Faucet")),
    (re.compile(r"\bfill\b"), ("SinkBasin", "Faucet", "CoffeeMachine")),
    (re.compile(r"\b(throw|discard|dispose|bin)\b"), ("GarbageCan",)),
]
ARTICLES = re.compile(r"\b(the|a|an|some|my|your|its|this|that|please)\b")


def type_words(type_name: str) -> str:
    """'GarbageCan' → 'garbage can'."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).lower()


def clean_phrase(phrase: str) -> str:
    return re.sub(r"\s+", " ", ARTICLES.sub(" ", phrase.lower())).strip()


class Vocabulary:
    """Maps phrases to object types present in the scene."""

    def __init__(self, types: set[str]):
        self.types = types
        self.by_words = {type_words(t): t for t in types} | {t.lower(): t for t in types}

    def resolve(self, phrase: str) -> str | None:
        phrase = clean_phrase(phrase)
        for candidate in (phrase, phrase.rstrip("s"), phrase[:-2] if phrase.endswith("es") else phrase):
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
