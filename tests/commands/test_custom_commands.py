"""Custom commands: `.kimicode/commands/*.md` run as `kimicode -p /name args`, with
`$ARGUMENTS`, through the real binary and the replay model; broken files are clear errors."""

from __future__ import annotations

from pathlib import Path

from helpers import requests_of, script, turn

REVIEW = """---
description: Review a file for bugs
argument-hint: FILE [FOCUS]
---
Review $1 for bugs, focusing on $2.
The whole request was: $ARGUMENTS
Keep ${HOME} and $PATH as they are.
"""


def _command(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.md").write_text(text)


def _echo(match: str) -> dict:
    return script((match, [turn("reviewed.")]))


def test_a_project_command_expands_its_arguments(repo: Path, replay, kimicode) -> None:
    _command(repo / ".kimicode" / "commands", "review", REVIEW)
    server = replay(_echo("^Review cli.py for bugs"))
    res = kimicode("-p", "/review", "cli.py", "error handling", cwd=repo, server=server)
    assert res.code == 0, res
    assert res.stdout == "reviewed.\n"
    sent = requests_of(server)[0]["messages"][1]["content"]
    assert sent == (
        "Review cli.py for bugs, focusing on error.\n"
        "The whole request was: cli.py error handling\n"
        "Keep ${HOME} and $PATH as they are."
    )


def test_the_user_folder_is_used_and_the_project_wins(
    repo: Path, isolated_dirs: Path, replay, kimicode
) -> None:
    user = isolated_dirs / "config" / "kimicode" / "commands"
    _command(user, "explain", "Explain the architecture in one paragraph.")
    _command(user, "review", "USER review $ARGUMENTS")
    _command(repo / ".kimicode" / "commands", "review", "PROJECT review $ARGUMENTS")
    server = replay(
        script(("^Explain the architecture", [turn("explained.")]), ("^PROJECT", [turn("ok.")]))
    )
    res = kimicode("-p", "/explain", cwd=repo, server=server)
    assert res.code == 0 and res.stdout == "explained.\n", res
    res = kimicode("-p", "/review", "x.py", cwd=repo, server=server)
    assert res.code == 0 and res.stdout == "ok.\n", res
    assert requests_of(server)[1]["messages"][1]["content"] == "PROJECT review x.py"


def test_arguments_without_a_placeholder_are_appended(repo: Path, replay, kimicode) -> None:
    _command(repo / ".kimicode" / "commands", "fix", "Fix the failing test.")
    server = replay(_echo("^Fix the failing test"))
    res = kimicode("-p", "/fix", "test_cli", cwd=repo, server=server)
    assert res.code == 0, res
    assert requests_of(server)[0]["messages"][1]["content"] == (
        "Fix the failing test.\n\nARGUMENTS: test_cli"
    )


def test_a_bad_template_is_a_usage_error_and_asks_nothing(repo: Path, replay, kimicode) -> None:
    folder = repo / ".kimicode" / "commands"
    _command(folder, "broken", "Look at ${ARGUMENTS and fix it\n")
    _command(folder, "badyaml", "---\ndescription: [unclosed\n---\nbody\n")
    _command(folder, "empty", "---\ndescription: nothing\n---\n\n")
    server = replay(_echo("never"))
    cases = {
        "broken": "`${` without a closing `}`",
        "badyaml": "front matter is not valid YAML",
        "empty": "the command has no prompt text",
    }
    for name, reason in cases.items():
        res = kimicode("-p", f"/{name}", "x", cwd=repo, server=server)
        assert res.code == 2, res
        assert f"{name}.md: {reason}" in res.stderr, res
    assert requests_of(server) == []


def test_an_unknown_command_lists_the_known_ones(repo: Path, replay, kimicode) -> None:
    _command(repo / ".kimicode" / "commands", "review", REVIEW)
    server = replay(_echo("never"))
    res = kimicode("-p", "/reveiw", "cli.py", cwd=repo, server=server)
    assert res.code == 2, res
    assert "no custom command /reveiw (commands: /review;" in res.stderr
    assert requests_of(server) == []


def test_a_prompt_starting_with_an_existing_path_is_a_prompt(repo: Path, replay, kimicode) -> None:
    server = replay(_echo("^/tmp is full"))
    res = kimicode("-p", "/tmp is full, why?", cwd=repo, server=server)
    assert res.code == 0, res
