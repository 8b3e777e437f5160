"""Top-down map of a run: the reachable floor, the objects, each robot's path, where it picked, put and
failed, and a scale bar, as a PNG.

Drawn from the trace alone (its scene map and the positions on its action events), so any saved
trace.json can be drawn again later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from robocortex.evaluation.trace import RunTrace

ROBOT_COLOURS = [(220, 50, 47), (38, 139, 210), (133, 153, 0), (211, 54, 130), (181, 137, 0), (42, 161, 152),
                 (108, 113, 196), (203, 75, 22)]
FLOOR, OBJECT, OUTLINE, TEXT = (232, 232, 232), (200, 200, 200), (120, 120, 120), (30, 30, 30)
FAILURE = (198, 40, 40)
MARGIN, TITLE_H, LEGEND_W, SCALE_H = 20, 56, 230, 30
MARKED_ACTIONS = {"PickupObject": "pick", "PutObject": "put"}  # successful actions marked on the map
Box = tuple[float, float, float, float]


@dataclass
class Marker:
    """Where a robot picked or put something, or where its subtask failed."""

    kind: Literal["pick", "put", "fail"]
    robot: str
    x: float
    z: float
    label: str


def markers(trace: RunTrace) -> list[Marker]:
    """Pick and put markers from the successful actions, a failure marker where each failed subtask ended."""
    out: list[Marker] = []
    at: dict[str, tuple[float, float]] = {r.name: r.start for r in trace.robots if r.start}
    held: dict[str, str] = {}
    for e in trace.events:
        if e.robot is None:
            continue
        pos = e.data.get("position") if e.kind == "action" else None
        if pos:
            at[e.robot] = (pos["x"], pos["z"])
        where = at.get(e.robot)
        if where is None:
            continue
        kind = MARKED_ACTIONS.get(e.data.get("action", "")) if e.kind == "action" else None
        if kind and e.data.get("success"):
            what = str((e.data.get("params") or {}).get("objectId", "")).split("|")[0]
            if kind == "pick":
                held[e.robot] = what
            label = f"pick {what}" if kind == "pick" else f"put {held.pop(e.robot, 'it')} at {what}"
            out.append(Marker(kind, e.robot, *where, label))
        elif e.kind == "result" and e.data.get("success") is False:
            out.append(Marker("fail", e.robot, *where, f"failed: {e.data.get('failure_kind') or 'other'}"))
    return out


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def draw_map(trace: RunTrace, path: Path, max_side_px: int = 820) -> Path:
    """Write the map PNG to `path` and return it."""
    if trace.scene_map is None:
        raise ValueError(f"run {trace.run_id} has no scene map to draw")
    smap = trace.scene_map
    min_x, min_z, max_x, max_z = smap.bounds
    scale = min(160.0, max(40.0, max_side_px / max(max_x - min_x, max_z - min_z)))
    width = int((max_x - min_x) * scale) + 2 * MARGIN + LEGEND_W
    height = int((max_z - min_z) * scale) + 2 * MARGIN + TITLE_H + SCALE_H

    def px(x: float, z: float) -> tuple[float, float]:  # z grows up the page, as seen from above
        return MARGIN + (x - min_x) * scale, TITLE_H + MARGIN + (max_z - z) * scale

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    half = smap.grid * scale / 2
    for x, z in smap.reachable:
        cx, cy = px(x, z)
        draw.rectangle((cx - half, cy - half, cx + half, cy + half), fill=FLOOR)
    named = set(re.findall(r"[A-Za-z]+", " ".join(g.goal for g in trace.goals)))
    for o in sorted(trace.scene_map.objects, key=lambda o: -(o.size_x * o.size_z)):
        if o.type == "Floor":
            continue
        x0, y0 = px(o.x - o.size_x / 2, o.z + o.size_z / 2)
        x1, y1 = px(o.x + o.size_x / 2, o.z - o.size_z / 2)
        draw.rectangle((x0, y0, max(x1, x0 + 2), max(y1, y0 + 2)), fill=OBJECT, outline=OUTLINE)
    labels: list[tuple[int, float, float, str, tuple[int, int, int]]] = []  # (priority, x, y, text, colour)
    for o in trace.scene_map.objects:
        if o.type in named:
            cx, cy = px(o.x, o.z)
            draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill=TEXT)
            labels.append((2, cx, cy, o.type, TEXT))
    paths = trace.paths()
    for i, robot in enumerate(trace.robots):
        colour = ROBOT_COLOURS[i % len(ROBOT_COLOURS)]
        offset = (i - (len(trace.robots) - 1) / 2) * 0.04  # keep paths that share a corridor apart
        points = [px(x + offset, z + offset) for x, z in paths[robot.name]]
        if not points:
            continue
        if len(points) > 1:
            draw.line(points, fill=colour, width=3, joint="curve")
        (sx, sy), (ex, ey) = points[0], points[-1]
        draw.ellipse((sx - 7, sy - 7, sx + 7, sy + 7), outline=colour, width=3)
        draw.rectangle((ex - 6, ey - 6, ex + 6, ey + 6), fill=colour)
    colour_of = {r.name: ROBOT_COLOURS[i % len(ROBOT_COLOURS)] for i, r in enumerate(trace.robots)}
    taken = _draw_markers(draw, markers(trace), px, colour_of, labels)
    _place_labels(draw, labels, taken, (0, TITLE_H, width - LEGEND_W, height - SCALE_H))
    _scale_bar(draw, scale, x=MARGIN, y=height - SCALE_H + 4)
    _title(draw, trace, width)
    _legend(draw, trace, paths, x=width - LEGEND_W + 10)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path


def _draw_markers(draw: ImageDraw.ImageDraw, found: list[Marker], px, colour_of: dict[str, tuple[int, int, int]],
                  labels: list) -> list[Box]:
    """Each marker as a pin above its spot (several at one spot side by side); returns the pins' boxes."""
    taken: list[Box] = []
    at_spot: dict[tuple[int, int], int] = {}
    for m in found:
        sx, sy = px(m.x, m.z)
        nth = at_spot[(round(sx / 6), round(sy / 6))] = at_spot.get((round(sx / 6), round(sy / 6)), -1) + 1
        x, y = sx + nth * 18, sy - 24
        draw.line((sx, sy, x, y + 7), fill=OUTLINE, width=1)
        colour = colour_of.get(m.robot, TEXT)
        if m.kind == "pick":
            draw.polygon([(x, y - 8), (x + 8, y + 6), (x - 8, y + 6)], fill=colour, outline="white")
        elif m.kind == "put":
            draw.polygon([(x, y + 8), (x + 8, y - 6), (x - 8, y - 6)], fill=colour, outline="white")
        else:
            draw.line((x - 7, y - 7, x + 7, y + 7), fill=FAILURE, width=4)
            draw.line((x + 7, y - 7, x - 7, y + 7), fill=FAILURE, width=4)
        taken.append((x - 9, y - 9, x + 9, y + 9))
        labels.append((1, x, y, m.label, FAILURE if m.kind == "fail" else TEXT))
    return taken


def _place_labels(draw: ImageDraw.ImageDraw, labels: list, taken: list[Box], area: Box) -> None:
    """Most important first, each label in the first of eight places around its point that overlaps no
    label or marker already drawn and stays inside `area`; a label with no free place is left out."""
    font = _font(12)
    for _, x, y, text, colour in sorted(labels, key=lambda item: item[0]):
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        w, h = right - left + 4, bottom - top + 4
        for dx, dy in ((11, -h / 2), (-11 - w, -h / 2), (-w / 2, -11 - h), (-w / 2, 11),
                       (11, -h - 3), (11, 3), (-11 - w, -h - 3), (-11 - w, 3)):
            box = (x + dx, y + dy, x + dx + w, y + dy + h)
            inside = area[0] <= box[0] and area[1] <= box[1] and box[2] <= area[2] and box[3] <= area[3]
            if inside and not any(_overlap(box, other) for other in taken):
                taken.append(box)
                draw.rectangle(box, fill=(255, 255, 255))
                draw.text((box[0] + 2 - left, box[1] + 2 - top), text, fill=colour, font=font)
                break


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _scale_bar(draw: ImageDraw.ImageDraw, scale: float, x: float, y: float) -> None:
    """A bar of a round length (0.5, 1, 2 or 5 m) at least 60 px long, with its length written beside it."""
    metres = next((m for m in (0.5, 1, 2, 5) if m * scale >= 60), 5)
    end = x + metres * scale
    draw.line((x, y + 10, end, y + 10), fill=TEXT, width=3)
    draw.line((x, y + 4, x, y + 14), fill=TEXT, width=2)
    draw.line((end, y + 4, end, y + 14), fill=TEXT, width=2)
    draw.text((end + 8, y + 3), f"{metres:g} m", fill=TEXT, font=_font(13))


def _title(draw: ImageDraw.ImageDraw, trace: RunTrace, width: int) -> None:
    met = sum(g.met for g in trace.goals)
    draw.text((MARGIN, 8), f"{trace.task_id} · {trace.scene} · {trace.status} · goals {met}/{len(trace.goals)}",
              fill=TEXT, font=_font(16))
    limit = max(20, (width - 2 * MARGIN) // 7)
    text = trace.instruction if len(trace.instruction) <= limit else trace.instruction[: limit - 1] + "…"
    draw.text((MARGIN, 30), text, fill=TEXT, font=_font(12))


def _legend(draw: ImageDraw.ImageDraw, trace: RunTrace, paths: dict[str, list[tuple[float, float]]], x: int) -> None:
    y = TITLE_H + MARGIN
    font = _font(12)
    for i, robot in enumerate(trace.robots):
        colour = ROBOT_COLOURS[i % len(ROBOT_COLOURS)]
        draw.line((x, y + 7, x + 24, y + 7), fill=colour, width=3)
        draw.text((x + 30, y), f"{robot.name} ({robot.profile})", fill=TEXT, font=font)
        draw.text((x + 30, y + 15), f"{len(paths[robot.name]) - 1} moves", fill=OUTLINE, font=font)
        y += 38
    draw.ellipse((x + 5, y, x + 19, y + 14), outline=TEXT, width=2)
    draw.text((x + 30, y), "start", fill=TEXT, font=font)
    draw.rectangle((x + 6, y + 22, x + 18, y + 34), fill=TEXT)
    draw.text((x + 30, y + 22), "end", fill=TEXT, font=font)
    y += 44
    draw.polygon([(x + 12, y), (x + 20, y + 14), (x + 4, y + 14)], fill=TEXT)
    draw.text((x + 30, y), "picked up", fill=TEXT, font=font)
    draw.polygon([(x + 12, y + 36), (x + 20, y + 22), (x + 4, y + 22)], fill=TEXT)
    draw.text((x + 30, y + 22), "put down", fill=TEXT, font=font)
    draw.line((x + 5, y + 45, x + 19, y + 59), fill=FAILURE, width=4)
    draw.line((x + 19, y + 45, x + 5, y + 59), fill=FAILURE, width=4)
    draw.text((x + 30, y + 45), "subtask failed", fill=TEXT, font=font)
