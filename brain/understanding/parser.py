"""The lark parser over lexed words: built once per process from grammar.lark and the lexicon's
terminals; Earley, with the ambiguities a sentence has resolved by `_choose`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from robocortex.brain.understanding.lexicon import Word, lexicon

GRAMMAR = Path(__file__).with_name("grammar.lark")


def terminal(word: Word) -> str:
    cats = sorted(word.cats)
    return cats[0] if len(cats) == 1 else "C_" + "_".join(cats)


def _combos() -> dict[str, set[str]]:
    """Every terminal → the combined terminals (words with several readings) that include it."""
    lex = lexicon()
    out: dict[str, set[str]] = {t: {t} for t in lex.terminals | {"ID"}}
    for cats in {frozenset(c) for c in lex.phrases.values()}:
        cats = cats - {"FILLER"}
        if len(cats) > 1:
            name = "C_" + "_".join(sorted(cats))
            for c in cats:
                out.setdefault(c, {c}).add(name)
    return out


@lru_cache(maxsize=1)
def parser() -> Lark:
    combos = _combos()
    rules, terminals = [], set()
    for t, names in sorted(combos.items()):
        if t in ("COMMA", "PERIOD"):
            terminals.update(names)
            continue
        rules.append(f"{t.lower()}: {' | '.join(sorted(names))}")
        terminals.update(names)
    grammar = GRAMMAR.read_text() + "\n" + "\n".join(rules) + "\n" + "\n".join(
        f'{name}: "{name}"' for name in sorted(terminals)) + '\n%ignore " "\n'
    return Lark(grammar, parser="earley", lexer="basic", ambiguity="explicit", maybe_placeholders=False)


class ParseFailure(Exception):
    def __init__(self, position: int):
        super().__init__(position)
        self.position = position


def parse(words: list[Word]) -> Tree:
    """The chosen parse of the words; ParseFailure(index of the word where it broke)."""
    names = [terminal(w) for w in words]
    starts, text, pos = {}, [], 0
    for i, name in enumerate(names):
        starts[pos] = i
        text.append(name)
        pos += len(name) + 1
    try:
        tree = parser().parse(" ".join(text))
    except UnexpectedInput as e:
        at = getattr(e, "pos_in_stream", None)
        index = starts.get(at, len(words)) if at is not None else len(words)
        raise ParseFailure(index) from None
    tree = _choose(tree)
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
