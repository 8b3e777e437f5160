"""Bad input on the command line: exit code 2 and one line on stderr saying what to fix."""

import pytest

from robocortex.agents.cli import main


@pytest.mark.parametrize("argv, fragment", [
    (["demo", "--scene", "Nowhere-3"], "unknown scene 'Nowhere-3'"),
    (["demo", "--bogus"], "No such option: --bogus"),
    (["world-host", "--agents", "0"], "--agents"),
    (["world-host", "--backend", "bogus"], "bad setting world_backend (--backend): Input should be"),
    (["serve", "--port", "notaport"], "--port"),
    (["serve", "--planner", "bogus"], "no planner named 'bogus'; registered planners: llm, offline (or 'auto')"),
    (["no-such-command"], "No such command"),
])
def test_bad_input_exits_2_with_one_line(argv, fragment, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ": error: " in err, err
    assert fragment in err


def test_a_bad_environment_setting_names_the_variable(monkeypatch, capsys):
    monkeypatch.setenv("ROBOCORTEX_HEARTBEAT_TTL_S", "soon")
    with pytest.raises(SystemExit) as exit_:
        main(["serve"])
    assert exit_.value.code == 2
    assert "ROBOCORTEX_HEARTBEAT_TTL_S" in capsys.readouterr().err
