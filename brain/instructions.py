"""Instruction parsing for the offline planner: clauses of a verb, an object and maybe a place.

"and" joins independent clauses (they may run in parallel); "then" / "after that" makes the next
clause wait for the one before. Anything not understood is named back to the user word for word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from robocortex.brain.planner import PlanningError
from robocortex.brain.vocabulary import clean_phrase

# Separators between clauses; the captured text tells whether the next clause must wait ("then").
_SPLIT = re.compile(r"(\s*(?:,?\s*\band then\b|,?\s*\bthen\b|,?\s*\bafter that\b|,\s*and\b|\band\b|[,;.])\s*)")
_PLACE = r"(?:in|into|inside|on|onto|on top of|to|in to|at)"
_LIQUIDS = {"water": "water", "coffee": "coffee", "wine": "wine"}


@dataclass
class Clause:
    verb: str
    obj: str
    dest: str | None = None  # where to put it (put), or the appliance to use (cook)
    liquid: str | None = None  # fill
    sequential: bool = False


_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("put", re.compile(rf"^(?:put|place|bring|move|set|take|carry|store)\s+(?P<obj>.+?)\s+{_PLACE}\s+(?P<dest>.+)$")),
    ("throw", re.compile(r"^(?:throw away|throw out|discard|bin|dispose of)\s+(?P<obj>.+)$")),
    ("throw", re.compile(r"^(?:throw)\s+(?P<obj>.+?)\s+(?:away|out)$")),
    ("toggle_on", re.compile(r"^(?:turn|switch|power)\s+on\s+(?P<obj>.+)$")),
    ("toggle_off", re.compile(r"^(?:turn|switch|power)\s+off\s+(?P<obj>.+)$")),
    ("toggle_on", re.compile(r"^(?:turn|switch|power)\s+(?P<obj>.+?)\s+on$")),
    ("toggle_off", re.compile(r"^(?:turn|switch|power)\s+(?P<obj>.+?)\s+off$")),
    ("open", re.compile(r"^open\s+(?P<obj>.+)$")),
    ("close", re.compile(r"^(?:close|shut)\s+(?P<obj>.+)$")),
    ("slice", re.compile(r"^(?:slice|cut|chop|dice)(?:\s+up)?\s+(?P<obj>.+?)(?:\s+up)?$")),
    ("cook", re.compile(rf"^(?P<verb>cook|heat|warm|microwave|bake|toast)(?:\s+up)?\s+(?P<obj>.+?)"
                        rf"(?:\s+(?:{_PLACE}|with|using)\s+(?P<dest>.+))?$")),
    ("clean", re.compile(r"^(?:wash|clean|rinse|scrub)(?:\s+up)?\s+(?P<obj>.+?)(?:\s+up)?$")),
    ("fill", re.compile(r"^fill(?:\s+up)?\s+(?P<obj>.+?)(?:\s+up)?(?:\s+with\s+(?P<liquid>\w+))?$")),
]
KNOWN_VERBS = "put/place/bring/move, throw away, open, close, turn on/off, slice/cut, cook/heat/microwave, wash/clean, fill"


def _clause(part: str, sequential: bool) -> Clause | None:
    for verb, pattern in _PATTERNS:
        m = pattern.match(part)
        if not m:
            continue
        groups = m.groupdict()
        dest = groups.get("dest")
        if verb == "cook" and groups.get("verb") == "microwave" and not dest:
            dest = "microwave"
        liquid = groups.get("liquid")
        if verb == "fill":
            liquid = _LIQUIDS.get(liquid or "water")
            if liquid is None:
                return None
        return Clause(verb, m.group("obj").strip(), dest, liquid, sequential)
    return None


def parse(instruction: str) -> list[Clause]:
    """Split an instruction into clauses; raise PlanningError naming the words not understood."""
    text = instruction.strip().lower()
    if not text:
        raise PlanningError("the instruction is empty")
    clauses: list[Clause] = []
    not_understood: list[str] = []
    sequential = False
    for k, piece in enumerate(_SPLIT.split(text)):
        if k % 2 == 1:  # a separator
            sequential = sequential or bool(re.search(r"then|after that", piece))
            continue
        part = clean_phrase(piece)
        if not part:
            continue
        clause = _clause(part, sequential)
        if clause is None:
            not_understood.append(part)
        else:
            clauses.append(clause)
        sequential = False
    if not_understood:
        raise PlanningError("could not understand: " + "; ".join(repr(p) for p in not_understood)
                            + f" (the verbs I know: {KNOWN_VERBS}; e.g. 'put the apple in the fridge')")
    if not clauses:
        raise PlanningError(f"no instruction found in {instruction!r}")
    return clauses
