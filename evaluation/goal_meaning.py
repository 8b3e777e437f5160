"""Whether two goal lists mean the same thing on a scene: the comparison the language corpus scores.

Two parsers (or a parser and a person) can write one meaning in several ways: `in` or `on`, "the
fruit" or the apple and the tomato, "the light off" as `isToggled: false` or as `isToggled: true`
negated, stages 0 and 2 or 0 and 1. `canonical()` rewrites a goal list into a form where those
coincide, by resolving every selector to the objects it picks *in the given scene*:

- subject: the set of objectIds it selects (filters included). A subject with no type, category or
  id ("everything", "nothing on the table") ranges over the objects that can be carried — the only
  ones anyone can move. A piece selector ("a slice of tomato") resolves to the whole objects it
  comes from, marked as pieces (no piece exists before slicing).
- quantifier: `the`/`a` → "any of the set"; `all` → one goal per selected object (so "all the
  fruit" equals "the apple and the tomato"); `exactly N`/`at_least N` keep N unless N covers the
  whole set (then `all`) or `at_least 1` (then any); `rest` → `all` over what its referent leaves
  when the referent picks a known set (a single object, or all of a set), else it keeps its referent;
  all the pieces of an egg are its one cracked piece.
- condition: `in`/`on`/`in_or_on` are one relation (the goal check treats them alike); the target
  resolves to its objectIds; a negated state or `held` becomes the opposite value.
- `when`: the set of canonical conditions; `stage`: renumbered 0, 1, 2… in order.

Duplicates collapse (saying a goal twice does not change what is asked).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from robocortex.brain.goal_language import PIECE_TYPES, Condition, Goal, Selector

Nodes = Mapping[str, Mapping[str, Any]]
Key = tuple[Any, ...]


def _unrestricted(sel: Selector) -> bool:
    return not (sel.type or sel.category or sel.id or sel.ids is not None)


def resolve(sel: Selector, nodes: Nodes) -> frozenset[str]:
    """The objectIds `sel` picks in `nodes`, quantifier aside (for pieces: the whole objects)."""
    if sel.piece:
        sel = sel.model_copy(update={"piece": False})
    picked = sel.select(nodes)
    if _unrestricted(sel):
        picked = [n for n in picked if n.get("pickupable")]
    return frozenset(str(n["id"]) for n in picked)


def _single_piece(node: Mapping[str, Any]) -> bool:
    return str(node.get("objectType")) in PIECE_TYPES  # its piece is one object (Egg → EggCracked)


def _subject_keys(goal: Goal, goals: list[Goal], nodes: Nodes) -> list[Key]:
    """One subject key per canonical goal `goal` stands for."""
    sel = goal.subject
    ids = resolve(sel, nodes)
    q, n = sel.quantifier, sel.count
    piece = sel.piece
    if q == "rest" and sel.rest_of is not None and sel.rest_of < len(goals):
        ref = goals[sel.rest_of].subject
        ref_ids = resolve(ref, nodes)
        if ref.piece == piece and not piece and (ref.quantifier == "all" or
                                                 (ref.quantifier in ("the", "a") and len(ref_ids) == 1)):
            ids, q = ids - ref_ids, "all"
        else:
            return [("rest", piece, ids, _subject_keys(goals[sel.rest_of], goals, nodes)[0])]
    if q in ("exactly", "at_least") and n is not None:
        if not piece and n == len(ids) and n > 0:
            q = "all"
        elif q == "at_least" and n == 1:
            q = "a"
    if q in ("the", "a"):
        return [("any", piece, ids)]
    if q == "all":
        if piece and ids and all(_single_piece(nodes[oid]) for oid in ids):
            return [("any", True, frozenset({oid})) for oid in sorted(ids)]  # an egg cracks into one piece
        if piece or not ids:
            return [("all", piece, ids)]
        return [("any", False, frozenset({oid})) for oid in sorted(ids)]
    return [(q, piece, ids, n)]


def _condition_key(cond: Condition, nodes: Nodes) -> Key:
    if cond.relation is not None:
        assert cond.target is not None
        return ("at", resolve(cond.target, nodes), cond.negate)
    if cond.held is not None:
        return ("held", cond.held != cond.negate)
    if cond.temperature is not None:
        return ("temperature", cond.temperature, cond.negate)
    value = cond.value != cond.negate
    return ("state", cond.state, value, cond.liquid if value else None)


def goal_keys(goal: Goal, goals: list[Goal], nodes: Nodes) -> list[Key]:
    """The canonical goals one goal stands for (its stage aside)."""
    when = frozenset(k for w in goal.when for k in goal_keys(w, goal.when, nodes))
    cond = _condition_key(goal.condition, nodes)
    return [(subject, cond, when) for subject in _subject_keys(goal, goals, nodes)]


def canonical(goals: list[Goal], nodes: Nodes) -> list[frozenset[Key]]:
    """The goals' meaning on `nodes`: a set of canonical goals per stage, stages in order."""
    stages = sorted({g.stage for g in goals})
    out: list[set[Key]] = [set() for _ in stages]
    for g in goals:
        out[stages.index(g.stage)].update(goal_keys(g, goals, nodes))
    return [frozenset(s) for s in out]


def same_meaning(a: list[Goal], b: list[Goal], nodes: Nodes) -> bool:
    return canonical(a, nodes) == canonical(b, nodes)


# --------------------------------------------------------------------------- explaining a difference


def _names(ids: frozenset[str], nodes: Nodes) -> str:
    names = sorted(str(nodes[i].get("objectType")) if i in nodes else i for i in ids)
    return "{" + ", ".join(names) + "}" if len(names) != 1 else names[0]


def describe_key(key: Key, nodes: Nodes) -> str:
    subject, cond, when = key

    def subj(s: Key) -> str:
        kind, piece, ids = s[0], s[1], s[2]
        what = ("piece of " if piece else "") + _names(ids, nodes)
        if kind == "any":
            return what
        if kind == "all":
            return f"all {what}"
        if kind == "rest":
            return f"rest of {what} (after {subj(s[3])})"
        return f"{kind.replace('_', ' ')} {s[3]} {what}"

    if cond[0] == "at":
        text = ("not " if cond[2] else "") + f"in/on {_names(cond[1], nodes)}"
    elif cond[0] == "held":
        text = "held" if cond[1] else "not held"
    elif cond[0] == "temperature":
        text = ("not " if cond[2] else "") + cond[1]
    else:
        text = f"{cond[1]}={cond[2]}" + (f" ({cond[3]})" if cond[3] else "")
    out = f"{subj(subject)} {text}"
    if when:
        out += " if " + " and ".join(sorted(describe_key(w, nodes) for w in when))
    return out


def difference(expected: list[Goal], got: list[Goal], nodes: Nodes) -> str:
    """What `got` lacks and adds compared with `expected`, stage by stage ("" when they agree)."""
    a, b = canonical(expected, nodes), canonical(got, nodes)
    parts = []
    for i in range(max(len(a), len(b))):
        sa = a[i] if i < len(a) else frozenset()
        sb = b[i] if i < len(b) else frozenset()
        missing = sorted(describe_key(k, nodes) for k in sa - sb)
        extra = sorted(describe_key(k, nodes) for k in sb - sa)
        if missing:
            parts.append(f"stage {i} missing: " + "; ".join(missing))
        if extra:
            parts.append(f"stage {i} extra: " + "; ".join(extra))
    return " | ".join(parts)
