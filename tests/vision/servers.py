"""Scripted OpenAI-compatible vision servers that READ the image they are sent: they decode the
PNG of the request's data URL, find the pixels of an object type's colours (the emulator's flat
palette) and answer RoboBrain-style, with <think> and <answer>. A wrong frame, or coordinates
mis-scaled on the way back, make the tests that use them fail."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from robocortex.sim.emulator.render import SHADES, type_color
from tests.support.scripted_llm import Reply


def request_image(body: dict[str, Any]) -> tuple[np.ndarray, str]:
    """(the image as H×W×3 uint8, the prompt text) of a chat request."""
    content = body["messages"][-1]["content"]
    url = next(p["image_url"]["url"] for p in content if p.get("type") == "image_url")
    text = next(p["text"] for p in content if p.get("type") == "text")
    assert url.startswith("data:image/png;base64,"), url[:40]
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))
    return image, text


def mask_of(image: np.ndarray, object_type: str, top_only: bool = False) -> np.ndarray:
    base = np.array(type_color(object_type), dtype=np.float64)
    shades = [SHADES[1]] if top_only else SHADES
    mask = np.zeros(image.shape[:2], dtype=bool)
    for s in shades:
        mask |= np.all(image == np.floor(base * s).astype(np.uint8), axis=-1)
    return mask


@dataclass
class VisionServer:
    """Answers by task, read from RoboBrain 2.0's prompt; `words` maps a query to an object type."""

    words: dict[str, str]
    units: str = "pixel"  # or "fraction"
    seen: list[dict[str, Any]] = field(default_factory=list)

    def _type(self, query: str) -> str:
        for phrase, object_type in self.words.items():
            if phrase in query.lower():
                return object_type
        words = re.sub(r"^(pick up|reach for) the ", "", query.lower()).split()
        return "".join(w.capitalize() for w in words)  # "butter knife" → ButterKnife

    def _fmt(self, values: list[float], w: int, h: int) -> list[float]:
        if self.units == "fraction":
            return [round(float(v) / (w if i % 2 == 0 else h), 4) for i, v in enumerate(values)]
        return [int(v) for v in values]

    def __call__(self, body: dict[str, Any]) -> Reply:
        image, text = request_image(body)
        h, w = image.shape[:2]
        if text.startswith("Please provide the bounding box"):
            task, query = "grounding", re.search(r"describes: (.*?)\.", text).group(1)  # type: ignore[union-attr]
        elif "affordance area" in text:
            task, query = "affordance", re.search(r'The task is "(.*?)"', text).group(1)  # type: ignore[union-attr]
        elif "key trajectory points" in text:
            task, query = "trajectory", re.search(r'The task is "(.*?)"', text).group(1)  # type: ignore[union-attr]
        else:
            assert "normalized pixel locations" in text, text
            task, query = "pointing", text.split(". Your answer")[0]
        object_type = self._type(query)
        mask = mask_of(image, object_type, top_only=task == "pointing")
        if task == "pointing" and not mask.any():  # a camera level with the surface sees only its front
            mask = mask_of(image, object_type)
        self.seen.append({"task": task, "query": query, "type": object_type, "size": (w, h),
                          "pixels": int(mask.sum()), "model": body.get("model")})
        if not mask.any():
            return Reply(content=f"<think>I see no {object_type} here.</think><answer>[]</answer>")
        rows, cols = np.nonzero(mask)
        if task in ("grounding", "affordance"):
            x1, y1, x2, y2 = cols.min(), rows.min(), cols.max() + 1, rows.max() + 1
            if task == "affordance":  # grasp the upper half
                y2 = (y1 + y2) // 2 + 1
            box = self._fmt([x1, y1, x2, y2], w, h)
            return Reply(content=f"<think>The {object_type} spans these pixels.</think><answer>{box}</answer>")
        order = np.lexsort((cols, rows))
        picks = [order[len(order) // 2]] if task == "pointing" else order[:: max(1, len(order) // 10)][:10]
        pts = [tuple(self._fmt([cols[k] + 0.5, rows[k] + 0.5], w, h)) for k in picks]
        return Reply(content=f"<think>Free {object_type} surface.</think><answer>{pts}</answer>")
