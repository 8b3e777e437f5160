"""Top-down map of a run: the reachable floor, the objects, and each robot's path, as a PNG.

Drawn from the trace alone (its scene map and the positions on its action events), so any saved
trace.json can be drawn again later.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from robocortex.agents.evaluation.trace import RunTrace

ROBOT_COLOURS = [(220, 50, 47), (38, 139, 210), (133, 153, 0), (211, 54, 130), (181, 137, 0), (42, 161, 152),
                 (108, 113, 196), (203, 75, 22)]
FLOOR, OBJECT, OUTLINE, TEXT = (232, 232, 232), (200, 200, 200), (120, 120, 120), (30, 30, 30)
MARGIN, TITLE_H, LEGEND_W = 20, 56, 230


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
    height = int((max_z - min_z) * scale) + 2 * MARGIN + TITLE_H

    def px(x: float, z: float) -> tuple[float, float]:  # z grows up the page, as seen from above
        return MARGIN + (x - min_x) * scale, TITLE_H + MARGIN + (max_z - z) * scale

    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    half = smap.grid * scale / 2
    for x, z in smap.reachable:
        cx, cy = px(x, z)
        draw.rectangle((cx - half, cy - half, cx + half, cy + half), fill=FLOOR)
    named = set(re.findall(r"[A-Za-z]+", " ".join(g.goal for g in trace.goals)))
    small = _font(11)
    for o in sorted(trace.scene_map.objects, key=lambda o: -(o.size_x * o.size_z)):
        if o.type == "Floor":
            continue
        x0, y0 = px(o.x - o.size_x / 2, o.z + o.size_z / 2)
        x1, y1 = px(o.x + o.size_x / 2, o.z - o.size_z / 2)
        draw.rectangle((x0, y0, max(x1, x0 + 2), max(y1, y0 + 2)), fill=OBJECT, outline=OUTLINE)
    for o in trace.scene_map.objects:
        if o.type in named:
            cx, cy = px(o.x, o.z)
            draw.ellipse((cx - 4, cy - 4, cx + 4, cy + 4), fill=TEXT)
            draw.text((cx + 6, cy - 6), o.type, fill=TEXT, font=small)
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
    _title(draw, trace, width)
    _legend(draw, trace, paths, x=width - LEGEND_W + 10)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path


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
