"""The lark parser over lexed words: built once per process from grammar.lark and the lexicon's
terminals; Earley, its ambiguities resolved by the grammar's rule priorities (fewest items, then
gapped items, states and heads) — `_cost` states the same order for checking a forest by hand."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from robocortex.brain.understanding.lexicon import Word, lexicon

GRAMMAR = Path(__file__).with_name("grammar.lark")


def rendered(word: Word) -> str:
    """A word as the parser sees it: its readings, "ADJ+VERB" for "open"."""
    return "+".join(sorted(word.cats))


@lru_cache(maxsize=1)
def parser() -> Lark:
    """Word-class rules (`verb: VERB`, …) over regexp terminals, each matching any word that has that
    reading: Earley's dynamic lexer tries every reading a word has, so ambiguous words cost nothing
    until the grammar needs them."""
    terminals = sorted(lexicon().terminals | {"ID"})
    text = GRAMMAR.read_text()
    for t in terminals:  # the word classes are terminals: one Earley item fewer per word
        text = re.sub(rf"(?<![\w.]){t.lower()}(?![\w:.])", t, text)
    defs = [f"{t}: /(?:[A-Z_]+\\+)*{t}(?:\\+[A-Z_]+)*(?![A-Z_])/" for t in terminals]
    grammar = text + "\n" + "\n".join(defs) + '\n%ignore " "\n'
    return Lark(grammar, parser="earley", lexer="dynamic", ambiguity="resolve", maybe_placeholders=False)


def _word_classes(tree: Tree) -> Tree:
    """Each word as a one-token subtree named by its class (`verb`, `noun`, …), as the semantics reads it."""
    children = []
    for c in tree.children:
        if isinstance(c, Tree):
            children.append(_word_classes(c))
        elif c.type in ("COMMA", "PERIOD"):
            children.append(c)
        else:
            children.append(Tree(c.type.lower(), [c]))
    return Tree(tree.data, children)


class ParseFailure(Exception):
    def __init__(self, position: int):
        super().__init__(position)
        self.position = position


def parse(words: list[Word]) -> Tree:
    """The chosen parse of the words; ParseFailure(index of the word where it broke)."""
    text = [rendered(w) for w in words]
    return _parse_text(" ".join(text))


@lru_cache(maxsize=256)
def _parse_text(text: str) -> Tree:
    """The parse of a rendered sentence (cached: a task replanned asks for the same sentence again;
    the tree is never modified by its readers)."""
    starts, pos = {}, 0
    for i, name in enumerate(text.split(" ")):
        starts[pos] = i
        pos += len(name) + 1
    try:
        tree = parser().parse(text)
    except UnexpectedInput as e:
        at = getattr(e, "pos_in_stream", None)
        index = starts.get(at, len(starts)) if at is not None else len(starts)
        raise ParseFailure(index) from None
    tree = _word_classes(_choose(tree))
    for tok in tree.scan_values(lambda v: isinstance(v, Token)):
        tok.value = starts[tok.start_pos]  # type: ignore[assignment]
    return tree


# --------------------------------------------------------------------------- ambiguity


def _cost(tree: Tree | Token) -> tuple[int, int, int, int]:
    """Lower is better: fewest items, then fewest gapped items, fewest verb-less readings, most
    words in noun phrases' heads (so "coffee mug" is one head)."""
    if not isinstance(tree, Tree):
        return (0, 0, 0, 0)
    items = gapped = states = heads = 0
    for sub in tree.iter_subtrees():
        if sub.data in ("plain", "marked"):
            items += 1
        elif sub.data in ("gapped", "fragment"):
            gapped += 2 if sub.data == "fragment" else 1
        elif sub.data in ("state", "there_state", "state_ensured"):
            states += 1
        elif sub.data == "head":
            heads += 1
    return (items, gapped, states, heads)


def _choose(tree: Tree) -> Tree:
    """Resolve every `_ambig` node bottom-up, keeping the cheapest alternative."""
    children = [(_choose(c) if isinstance(c, Tree) else c) for c in tree.children]
    if tree.data == "_ambig":
        return min(children, key=_cost)
    return Tree(tree.data, children, tree.meta if hasattr(tree, "_meta") else None)
