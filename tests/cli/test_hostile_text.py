"""Text from the model, the user and the file system is printed as text, never parsed as
Rich markup: `[x=1`, `[/]` or `[link=…]` in a tool name, a prompt or a path cannot crash a
command or change how it looks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import call, git, script, turn

HOSTILE = "[x=1 y [/] [b]bold[/b] [link=http://e]"


def test_print_mode_survives_a_hostile_tool_name_and_prompt(repo: Path, replay, kimicode) -> None:
    server = replay(
        script(
            (
                "hostile",
                [
                    turn(tool_calls=[call(HOSTILE, path=HOSTILE)]),
                    turn(tool_calls=[call("read_file", path=HOSTILE)]),
                    turn(f"done {HOSTILE}"),
                ],
            )
        )
    )
    res = kimicode("-p", f"hostile {HOSTILE}", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    assert res.stdout == f"done {HOSTILE}\n"
    assert HOSTILE in res.stderr  # the unknown tool's name is shown as it was sent
    assert "Traceback" not in res.stderr


def test_sessions_commands_print_hostile_titles_and_paths(tmp_path: Path, replay, kimicode) -> None:
    project = tmp_path / "[x=1 proj"
    project.mkdir()
    git(project, "init", "-q")
    server = replay(script(("hostile", [turn(f"answer {HOSTILE}")])))
    prompt = f"hostile {HOSTILE}"
    res = kimicode("-p", prompt, "--output-format", "json", cwd=project, server=server)
    assert res.code == 0, res
    session_id = json.loads(res.stdout)["session_id"]

    listed = kimicode("sessions", "list", cwd=project)
    assert listed.code == 0, listed
    assert session_id in listed.stdout and "[x=1" in listed.stdout

    shown = kimicode("sessions", "show", session_id, cwd=project)
    assert shown.code == 0, shown
    assert str(project) in shown.stdout.replace("\n", "")
    assert f"answer {HOSTILE}" in shown.stdout

    config = kimicode("config", "show", cwd=project)
    assert config.code == 0, config
    assert "[x=1 proj" in config.stdout.replace("\n", "")
    shutil.rmtree(project)
