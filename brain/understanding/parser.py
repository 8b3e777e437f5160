"""The lark parser over lexed words.

Each word is one character of the parser's input, coding the set of readings it has ("open" is
ADJ+VERB); each grammar terminal is a character class matching every code that includes its
reading, so Earley's dynamic lexer tries every reading a word has and the grammar keeps the one
that fits. One character per word keeps Earley's chart one column per word. The parser is built
once per process (again only if a word brings a combination of readings not seen yet). Ambiguity is
resolved by the grammar's rule priorities (fewest items, then gapped items, states and heads).
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput

from robocortex.brain.understanding.lexicon import FILLER, Word, lexicon

GRAMMAR = Path(__file__).with_name("grammar.lark")
_BASE = 0xE000  # Unicode private use area: codes never met in text
_lock = threading.Lock()
_codes: dict[frozenset[str], str] = {}


def _code(cats: frozenset[str]) -> str:
    """The character standing for one set of readings (registered on first sight)."""
    code = _codes.get(cats)
    if code is None:
        with _lock:
            code = _codes.setdefault(cats, chr(_BASE + len(_codes)))
    return code


def _known_combinations() -> None:
    """Every set of readings the lexicon's own phrases lex to (a word met later with a new set costs a
    rebuild of the parser)."""
    lex = lexicon()
    for t in sorted(lex.terminals | {"ID"}):
        _code(frozenset({t}))
    for phrase in sorted(lex.phrases):
        words, _ = lex.lex(phrase, {})
        for w in words:
            _code(frozenset(w.cats))


def rendered(word: Word) -> str:
    """A word as the parser sees it: its readings, "ADJ+VERB" for "open"."""
    return "+".join(sorted(word.cats))


@lru_cache(maxsize=4)
def _parser(n_codes: int) -> Lark:
    terminals = sorted(lexicon().terminals | {"ID"})
    text = GRAMMAR.read_text()
    for t in terminals:  # the word classes are terminals: one Earley item fewer per word
        text = re.sub(rf"(?<![\w.]){t.lower()}(?![\w:.])", t, text)
    codes = dict(list(_codes.items())[:n_codes])
    defs = []
    for t in terminals:
        chars = "".join(f"\\u{ord(c):04x}" for cats, c in codes.items() if t in cats)
        defs.append(f"{t}: /[{chars}]/")
    return Lark(text + "\n" + "\n".join(defs) + "\n", parser="earley", lexer="dynamic", ambiguity="resolve",
                maybe_placeholders=False)


def parser() -> Lark:
    if not _codes:
        _known_combinations()
    return _parser(len(_codes))


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
    if not _codes:
        _known_combinations()
    text = "".join(_code(frozenset(w.cats)) for w in words)
    return _parse_text(text, len(_codes))


@lru_cache(maxsize=256)
def _parse_text(text: str, n_codes: int) -> Tree:
    """The parse of a coded sentence (cached: a task replanned asks for the same sentence again; the
    tree is never modified by its readers). Each token's value becomes its word's index."""
    try:
        tree = _parser(n_codes).parse(text)
    except UnexpectedInput as e:
        at = getattr(e, "pos_in_stream", None)
        raise ParseFailure(at if isinstance(at, int) else len(text)) from None
    tree = _word_classes(tree)
    for tok in tree.scan_values(lambda v: isinstance(v, Token)):
        tok.value = tok.start_pos  # type: ignore[assignment]
    return tree
