"""A task planned by a model: the console shows the model's thinking beside the plan. The model is the
scripted OpenAI-compatible server on loopback; everything else is the real set of processes."""

from __future__ import annotations

import json
import os
import uuid

import pytest
from playwright.sync_api import expect

from robocortex.agents.launcher import Stack

from tests.support.scripted_llm import Reply, ScriptedLLM
from tests.web.conftest import save_shot

pytestmark = pytest.mark.e2e
THINKING = "The light switch is on; <b>one</b> goal: the switch off. robot2 is free."


def test_the_models_thinking_is_shown_as_text(browser, tmp_path, shots):
    goals = {"goals": [{"object": "LightSwitch", "state": "isToggled", "value": False}]}
    answer = Reply(content=f"<think>{THINKING}</think><answer>```json\n{json.dumps(goals)}\n```</answer>")
    with ScriptedLLM([answer], repeat_last=True) as llm, Stack(
            scene="Kitchen-0", redis_url=os.environ.get("ROBOCORTEX_REDIS_URL") or None,
            key_prefix=f"web-{uuid.uuid4().hex[:8]}", log_dir=tmp_path / "logs",
            extra_env={"ROBOCORTEX_LLM__BASE_URL": llm.base_url, "ROBOCORTEX_PLANNER": "llm"}) as stack:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(stack.api_url)
        page.fill("#instruction", "turn off the light")
        page.click("#submit-button")
        expect(page.locator("#detail-status")).to_have_class("badge succeeded", timeout=120_000)
        expect(page.locator("#thinking")).to_have_text(THINKING)  # markup in it stays text
        assert page.locator("#thinking b").count() == 0
        assert llm.requests, "the plan came from the model"
        save_shot(page, shots, "model-thinking")
        page.close()
