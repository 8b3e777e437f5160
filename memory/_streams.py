"""Reading stream replies the same way whatever the client's protocol (RESP2 or RESP3)."""

from __future__ import annotations


def entries(reply: object) -> list[tuple[str, dict[str, str]]]:
    """Flatten an XREAD/XREADGROUP reply into [(id, fields)]; a deleted entry has empty fields.

    RESP2 replies are [[stream, entries]]; RESP3 ones are {stream: [entries]}."""
    if not reply:
        return []
    if isinstance(reply, dict):
        streams = [(name, v[0] if v and isinstance(v[0], list) else v) for name, v in reply.items()]
    else:
        streams = reply  # type: ignore[assignment]
    out: list[tuple[str, dict[str, str]]] = []
    for _name, items in streams:
        for eid, fields in items:
            out.append((eid, fields or {}))
    return out
