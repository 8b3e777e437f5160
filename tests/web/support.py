"""Reading server-sent events in the stream tests (the service itself is tests/support/service.py)."""

from __future__ import annotations

import httpx


class SSE:
    """Reads events from an open SSE response, a few at a time, as (event, id, data)."""

    def __init__(self, resp: httpx.Response):
        self.lines = resp.iter_lines()

    def take(self, count: int) -> list[tuple[str, str | None, str]]:
        out: list[tuple[str, str | None, str]] = []
        kind, eid, data = "message", None, ""
        for line in self.lines:
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("id: "):
                eid = line[4:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and data:
                out.append((kind, eid, data))
                kind, eid, data = "message", None, ""
                if len(out) == count:
                    break
        return out

    def until(self, kind: str) -> tuple[str, str | None, str]:
        """The next event of this kind (others before it are skipped)."""
        while True:
            (event,) = self.take(1)
            if event[0] == kind:
                return event
