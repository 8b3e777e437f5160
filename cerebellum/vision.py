"""RoboBrain's spatial skills for the robots: grounding, affordance, pointing and trajectory.

Each role is an OpenAI-compatible chat endpoint (one server may serve several; RoboBrain 1.0's
affordance and trajectory LoRA adapters are just model names, as vLLM serves adapters by name).
A request sends the robot's camera frame as an `image_url` data URL with RoboBrain 2.0's prompt for
the task; the reply's `<think>` is kept and its `<answer>` is read as a box `[x1, y1, x2, y2]` or
points `[(x, y), …]`, in pixels or in 0–1 of the image (told apart by the image size).

Frames are saved once, as PNG files named by their content hash, and events carry that reference
(never the image inline). Mapping an answer to an object goes through the frame's instance
segmentation (`Frames.ids` / `names`): the object whose pixels best fill the box, or the object
under a point.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from robocortex.cerebellum.model_text import split_thinking

Role = Literal["grounding", "affordance", "pointing", "trajectory"]
ROLES: tuple[Role, ...] = ("grounding", "affordance", "pointing", "trajectory")

# RoboBrain 2.0's prompts per task (its inference.py), `{q}` being the query.
PROMPTS: dict[Role, str] = {
    "grounding": "Please provide the bounding box coordinate of the region this sentence describes: {q}.",
    "affordance": 'You are a robot using the joint control. The task is "{q}". '
                  "Please predict a possible affordance area of the end effector.",
    "pointing": "{q}. Your answer should be formatted as a list of tuples, i.e. [(x1, y1), (x2, y2), ...], "
                "where each tuple contains the x and y coordinates of a point satisfying the conditions above. "
                "The coordinates should indicate the normalized pixel locations of the points in the image.",
    "trajectory": 'You are a robot using the joint control. The task is "{q}". Please predict up to 10 key '
                  "trajectory points to complete the task. Your answer should be formatted as a list of tuples, "
                  "i.e. [[x1, y1], [x2, y2], ...], where each tuple contains the x and y coordinates of a point.",
}  # fmt: skip
THINK_SUFFIX = (" You FIRST think about the reasoning process as an internal monologue and then provide the final "
                "answer. The reasoning process MUST BE enclosed within <think> </think> tags and the final answer "
                "MUST BE enclosed within <answer> </answer> tags.")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
MAX_TRAJECTORY_POINTS = 10


class VisionError(Exception):
    """A vision call failed or its answer cannot be read; the message says which and why."""


@dataclass(frozen=True)
class VisionEndpoint:
    base_url: str
    model: str = ""  # empty: the first model the server lists
    api_key: str = "EMPTY"
    timeout_s: float = 60.0
    max_retries: int = 2
    think: bool = True
    max_tokens: int = 1024
    # Qwen2.5-VL (RoboBrain 2.0's base) resizes images to multiples of 28 px and answers in pixels of
    # the resized image; the frame is sent already at that size, so its pixels are the answer's.
    # 0 sends the frame as it is.
    image_factor: int = 28


@dataclass
class VisionAnswer:
    role: Role
    query: str
    text: str  # the raw reply
    thinking: str
    answer: str
    units: Literal["pixel", "fraction"]
    box: tuple[float, float, float, float] | None = None  # 0–1 of the image
    points: list[tuple[float, float]] = field(default_factory=list)  # 0–1 of the image
    image: str = ""  # the saved frame's reference
    model: str = ""
    seconds: float = 0.0

    def event_data(self) -> dict[str, Any]:
        return {"role": self.role, "query": self.query, "image": self.image, "model": self.model,
                "thinking": self.thinking, "answer": self.answer, "units": self.units,
                "box": list(self.box) if self.box else None, "points": [list(p) for p in self.points],
                "seconds": round(self.seconds, 3)}


def parse_answer(role: Role, text: str, width: int, height: int) -> tuple[str, str, str, tuple[float, ...] | None,
                                                                       list[tuple[float, float]]]:
    """(thinking, answer, units, box, points) from a reply; coordinates come back in 0–1 of the image.
    Values all within [0, 1] are read as fractions, otherwise as pixels of a width×height image."""
    thinking, answer = split_thinking(text)
    numbers = [float(n) for n in _NUMBER.findall(answer)]
    wanted = 4 if role in ("grounding", "affordance") else 2
    if len(numbers) < wanted or (wanted == 2 and len(numbers) % 2):
        raise VisionError(f"{role}: cannot read {'a box [x1, y1, x2, y2]' if wanted == 4 else 'points [(x, y), …]'} "
                          f"from the answer {answer[:200]!r}")
    if wanted == 4:
        numbers = numbers[:4]
    fraction = all(0.0 <= v <= 1.0 for v in numbers)
    units: Literal["pixel", "fraction"] = "fraction" if fraction else "pixel"
    scaled = []
    for i, v in enumerate(numbers):
        size = width if i % 2 == 0 else height
        if not fraction and not 0.0 <= v <= size:
            raise VisionError(f"{role}: coordinate {v:g} lies outside the {width}×{height} image in {answer[:200]!r}")
        scaled.append(v if fraction else v / size)
    if wanted == 4:
        x1, y1, x2, y2 = scaled
        return thinking, answer, units, (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)), []
    points = [(scaled[i], scaled[i + 1]) for i in range(0, len(scaled), 2)]
    if role == "trajectory":
        points = points[:MAX_TRAJECTORY_POINTS]
    return thinking, answer, units, None, points


def model_size(width: int, height: int, factor: int = 28, min_pixels: int = 56 * 56,
               max_pixels: int = 28 * 28 * 1280) -> tuple[int, int]:
    """Qwen2.5-VL's `smart_resize`: the size (multiples of `factor`, aspect kept) a frame is seen at."""
    import math

    w = max(factor, round(width / factor) * factor)
    h = max(factor, round(height / factor) * factor)
    if w * h > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w, h = math.floor(width / beta / factor) * factor, math.floor(height / beta / factor) * factor
    elif w * h < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w, h = math.ceil(width * beta / factor) * factor, math.ceil(height * beta / factor) * factor
    return w, h


def png_bytes(frame: np.ndarray, size: tuple[int, int] | None = None) -> bytes:
    """The frame as PNG, resized (nearest pixel, so flat colours stay exact) to `size` = (w, h) if given."""
    from PIL import Image

    image = Image.fromarray(np.asarray(frame, dtype=np.uint8))
    if size is not None and size != image.size:
        image = image.resize(size, Image.NEAREST)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


class FrameStore:
    """Frames saved as `<dir>/<sha1>.png`, once each; the reference is the file's path."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def save(self, png: bytes) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{hashlib.sha1(png).hexdigest()[:20]}.png"
        if not path.exists():
            path.write_bytes(png)
        return str(path)


class VisionClient:
    """Asks each configured role about a frame (openai's client: its retries with backoff after
    429/5xx and connection errors, its timeout per call)."""

    def __init__(self, endpoints: dict[Role, VisionEndpoint], store: FrameStore):
        unknown = set(endpoints) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown vision role(s) {sorted(unknown)}; roles are {', '.join(ROLES)}")
        self.endpoints = dict(endpoints)
        self.store = store
        self._clients: dict[str, Any] = {}
        self._models: dict[str, str] = {}

    def has(self, role: Role) -> bool:
        return role in self.endpoints

    def _client(self, ep: VisionEndpoint) -> Any:
        import openai

        key = f"{ep.base_url}|{ep.api_key}"
        if key not in self._clients:
            self._clients[key] = openai.OpenAI(base_url=ep.base_url, api_key=ep.api_key, timeout=ep.timeout_s,
                                               max_retries=ep.max_retries)
        return self._clients[key]

    def _model(self, ep: VisionEndpoint) -> str:
        if ep.model:
            return ep.model
        if ep.base_url not in self._models:
            listed = [m.id for m in self._client(ep).models.list().data]
            if not listed:
                raise VisionError(f"{ep.base_url} lists no model; set the role's model name")
            self._models[ep.base_url] = listed[0]
        return self._models[ep.base_url]

    def ask(self, role: Role, query: str, frame: np.ndarray) -> VisionAnswer:
        ep = self.endpoints.get(role)
        if ep is None:
            raise VisionError(f"no endpoint configured for the {role} role")
        h, w = frame.shape[:2]
        if ep.image_factor:
            w, h = model_size(w, h, ep.image_factor)
        png = png_bytes(frame, (w, h))
        image = self.store.save(png)
        prompt = PROMPTS[role].format(q=query.strip().rstrip(".")) + (THINK_SUFFIX if ep.think else "")
        url = "data:image/png;base64," + base64.b64encode(png).decode()
        started = time.monotonic()
        try:
            model = self._model(ep)
            reply = self._client(ep).chat.completions.create(
                model=model, temperature=0.0, max_tokens=ep.max_tokens,
                messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                                       {"type": "text", "text": prompt}]}])
        except VisionError:
            raise
        except Exception as exc:  # noqa: BLE001  (openai's errors, after its retries)
            raise VisionError(f"{role} call to {ep.base_url} failed: {type(exc).__name__}: {exc}") from None
        message = reply.choices[0].message
        text = message.content or ""
        reasoning = getattr(message, "reasoning_content", None)
        if reasoning and "<think>" not in text:
            text = f"<think>{reasoning}</think>{text}"
        thinking, answer, units, box, points = parse_answer(role, text, w, h)
        return VisionAnswer(role=role, query=query, text=text, thinking=thinking, answer=answer, units=units,
                            box=box, points=points, image=image, model=model,  # type: ignore[arg-type]
                            seconds=time.monotonic() - started)


# ----------------------------------------------------------------------- answers → objects


def object_in_box(frames: Any, box: tuple[float, float, float, float], object_type: str | None = None,
                  structure: int = 3) -> str | None:
    """The object whose segmentation pixels best match `box` (0–1): highest intersection over
    union of its pixels with the box; objects of `object_type` first when one is named."""
    ids = frames.ids
    h, w = ids.shape
    r0, r1 = int(box[1] * h), max(int(box[1] * h) + 1, int(np.ceil(box[3] * h)))
    c0, c1 = int(box[0] * w), max(int(box[0] * w) + 1, int(np.ceil(box[2] * w)))
    inside = ids[r0:r1, c0:c1]
    area = inside.size
    counts = np.bincount(ids[ids >= structure].ravel(), minlength=len(frames.names))
    best: tuple[tuple[bool, float], str] | None = None
    for index, inter in enumerate(np.bincount(inside[inside >= structure].ravel(), minlength=len(frames.names))):
        if inter == 0:
            continue
        name = frames.names[index]
        iou = inter / (area + counts[index] - inter)
        key = (object_type is not None and name.split("|")[0] == object_type, float(iou))
        if best is None or key > best[0]:
            best = (key, name)
    return best[1] if best else None


def object_at(frames: Any, point: tuple[float, float]) -> str | None:
    return frames.object_at(*point)


def centre_of(frames: Any, object_id: str) -> tuple[float, float] | None:
    """A pixel of the object (0–1): the one of its pixels nearest their mean."""
    if object_id not in frames.names:
        return None
    rows, cols = np.nonzero(frames.ids == frames.names.index(object_id))
    if len(rows) == 0:
        return None
    k = int(np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2))
    h, w = frames.ids.shape
    return (float(cols[k]) + 0.5) / w, (float(rows[k]) + 0.5) / h


def describe(name: str) -> str:
    """What to ask grounding for: an object id's type ("Mug|+01.00|…" → "Mug"), else the text itself."""
    if "|" in name:
        return re.sub(r"(?<!^)(?=[A-Z])", " ", name.split("|")[0]).lower()
    return name


def type_hint(name: str) -> str | None:
    return name.split("|")[0] if "|" in name else None
