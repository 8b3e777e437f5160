"""What counts as an empty instruction is one set of characters, the same for the service and for the
OpenAPI pattern clients check (ECMAScript's `\\s` is not Python's: U+0085 is blank to one only)."""

import re

import pytest
from pydantic import ValidationError

from robocortex.agents.api.tasks import BLANK, NOT_BLANK, TaskSubmission


@pytest.mark.parametrize("text", ["   ", "\u0085\u0085", "\u3000\t", "\u2028"])
def test_blank_instructions_are_refused(text):
    with pytest.raises(ValidationError):
        TaskSubmission(instruction=text)


@pytest.mark.parametrize("text, kept", [(" put the apple away\u0085", "put the apple away"), ("\x1c", "\x1c")])
def test_what_the_pattern_accepts_is_kept_stripped_of_the_same_blanks(text, kept):
    assert TaskSubmission(instruction=text).instruction == kept


def test_the_pattern_and_the_strip_name_the_same_characters():
    pattern = re.compile(NOT_BLANK)
    assert [c for c in map(chr, range(0x10000)) if (c in BLANK) == bool(pattern.fullmatch(c))] == []
