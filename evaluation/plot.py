"""The suite's rates as a PNG: grouped bars per category and per room (drawn with Pillow, which is
already a dependency, rather than pulling in a plotting library for two charts)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from robocortex.evaluation.metrics import Aggregate, SuiteSummary
from robocortex.evaluation.suite import CATEGORIES

RATES = [("success_rate", "SR", (38, 139, 210)), ("goal_condition_recall", "GCR", (133, 153, 0)),
         ("executability", "Exe", (181, 137, 0)), ("utilisation", "util", (211, 54, 130))]
PANEL_W, PANEL_H, PAD = 620, 300, 50
AXIS, TEXT, GRID = (90, 90, 90), (30, 30, 30), (225, 225, 225)


def _panel(draw: ImageDraw.ImageDraw, top: int, title: str, groups: dict[str, Aggregate]) -> None:
    font, small = ImageFont.load_default(size=14), ImageFont.load_default(size=11)
    x0, y0, x1, y1 = PAD, top + 30, PAD + PANEL_W, top + 30 + PANEL_H - 60
    draw.text((x0, top + 6), title, fill=TEXT, font=font)
    for tick in range(0, 101, 25):
        y = y1 - (y1 - y0) * tick / 100
        draw.line((x0, y, x1, y), fill=GRID)
        draw.text((x0 - 36, y - 6), f"{tick}%", fill=AXIS, font=small)
    slot = (x1 - x0) / max(1, len(groups))
    bar = slot * 0.8 / len(RATES)
    for i, (name, agg) in enumerate(groups.items()):
        left = x0 + i * slot + slot * 0.1
        for j, (field, _, colour) in enumerate(RATES):
            value = getattr(agg, field)
            if value is None:
                continue
            bx = left + j * bar
            draw.rectangle((bx, y1 - (y1 - y0) * value, bx + bar - 2, y1), fill=colour)
        draw.text((left, y1 + 6), f"{name} ({agg.runs})", fill=TEXT, font=small)
    draw.line((x0, y1, x1, y1), fill=AXIS)


def draw_summary(summary: SuiteSummary, path: Path) -> Path:
    categories = {k: summary.by_category[k] for k in sorted(
        summary.by_category, key=lambda c: CATEGORIES.index(c) if c in CATEGORIES else len(CATEGORIES))}
    categories["all"] = summary.overall
    image = Image.new("RGB", (PANEL_W + 2 * PAD, 2 * PANEL_H + 70), "white")
    draw = ImageDraw.Draw(image)
    draw.text((PAD, 10), f"{summary.suite} · planner {summary.planner} · {summary.overall.runs} runs · "
              f"{summary.runs_per_minute:.1f} runs/min", fill=TEXT, font=ImageFont.load_default(size=16))
    legend_x = PAD
    for _, label, colour in RATES:
        draw.rectangle((legend_x, 38, legend_x + 12, 50), fill=colour)
        draw.text((legend_x + 16, 37), label, fill=TEXT, font=ImageFont.load_default(size=12))
        legend_x += 70
    _panel(draw, 60, "by category", categories)
    _panel(draw, 60 + PANEL_H, "by room", summary.by_room)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="PNG")
    return path
