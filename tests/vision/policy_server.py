"""A small scripted policy server (robocortex-policy/1, RoboBrain-X0 style) on loopback, for tests.

Its policy for `pick_up`: decode the frame it is sent, find the pixels of the target's type (the
emulator's flat palette); none → turn right and look again; some → PickupObject at their middle
pixel, done. It reads the frame, so a stale or wrong frame makes it turn or pick the wrong thing.
"""

from __future__ import annotations

import base64
import io
import threading
from typing import Any

import numpy as np
import uvicorn
from fastapi import FastAPI
from PIL import Image

from tests.support.scripted_llm import _free_port
from tests.vision.servers import mask_of


class PolicyServer:
    def __init__(self, give_up_after: int | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.give_up_after = give_up_after
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/act"
        app = FastAPI()

        @app.post("/act")
        def act(body: dict[str, Any]) -> dict[str, Any]:
            self.requests.append(body)
            return self.policy(body)

        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def policy(self, body: dict[str, Any]) -> dict[str, Any]:
        assert body["protocol"] == "robocortex-policy/1"
        if self.give_up_after is not None and body["round"] >= self.give_up_after:
            return {"actions": [], "done": True, "success": False, "message": "cannot see it"}
        rgb = body["frame"]["rgb"].split(",", 1)[1]
        image = np.asarray(Image.open(io.BytesIO(base64.b64decode(rgb))).convert("RGB"))
        assert image.shape[:2] == (body["frame"]["height"], body["frame"]["width"])
        object_type = body["args"]["object"].split("|")[0]
        mask = mask_of(image, object_type)
        if not mask.any():
            return {"actions": [{"action": "RotateRight"}], "done": False}
        rows, cols = np.nonzero(mask)
        k = int(np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2))
        x, y = (cols[k] + 0.5) / image.shape[1], (rows[k] + 0.5) / image.shape[0]
        return {"actions": [{"action": "PickupObject", "params": {"x": float(x), "y": float(y)}}], "done": True,
                "success": True}

    def __enter__(self) -> "PolicyServer":
        self._thread.start()
        while not self._server.started:
            threading.Event().wait(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
