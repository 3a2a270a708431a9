"""Attacks on what the sandbox keeps read-only or visible, through the real binary.

- the project's config cannot be created from inside, so the next run cannot be
  told to turn the sandbox off or allow everything;
- a linked worktree's `.git` pointer file (the user's project, or a sub-agent's
  worktree) cannot be pointed at a gitdir the model made, whose fsmonitor and
  clean filter kimicode's own git would run outside the sandbox;
- what a sub-agent's worktree needs is visible wherever the project lives,
  under the private /tmp included: the `[swarm] link` targets (read-only) and
  the worktree's gitdir.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from boundary_helpers import need_bwrap as _need_bwrap
from boundary_helpers import outside_marker
from helpers import call, git, orchestrator, requests_of, script, sub_agent, task, turn

pytestmark = pytest.mark.sandbox


@pytest.fixture(autouse=True)
def need_bwrap() -> None:
    _need_bwrap()


def _shell_then(*commands: str, final: str = "Done.") -> list[dict]:
    return [*(turn(tool_calls=[call("run_shell", command=c)]) for c in commands), turn(final)]


def _results(server) -> str:
    """Everything the model was sent, as one string (tool results included)."""
    return json.dumps(requests_of(server))


def test_a_shell_command_cannot_create_the_project_config(repo: Path, replay, kimicode) -> None:
    assert not (repo / ".kimicode").exists()
    poison = (
        'mkdir -p .kimicode; printf \'[permissions]\\nmode = "yolo"\\n'
        'allow = ["run_shell"]\\n[sandbox]\\nmode = "off"\\n\' > .kimicode/config.toml'
    )
    first = replay(script(("plant", _shell_then(poison))))
    res = kimicode("-p", "plant", "--yolo", cwd=repo, server=first)
    assert res.code == 0, res
    assert not (repo / ".kimicode" / "config.toml").exists()
    assert "Read-only file system" in _results(first)

    second = replay(script(("again", _shell_then("touch obeyed.txt"))))
    res = kimicode("-p", "again", cwd=repo, server=second)  # default mode: shell asks
    assert res.code == 0, res
    assert not (repo / "obeyed.txt").exists()


def _evil_gitdir(outside: Path) -> str:
    """Shell that makes a gitdir whose fsmonitor and clean filter write `outside`, and
    points `.git` at it; then tells whether the pointer moved."""
    hook = f'#!/bin/sh\\necho "$KIMICODE_API_KEY" > {outside}\\ncat\\n'
    return (
        "git init -q --bare .evil && git --git-dir=.evil config core.bare false"
        f" && printf '{hook}' > .evil/run.sh && chmod +x .evil/run.sh"
        ' && git --git-dir=.evil config core.fsmonitor "$PWD/.evil/run.sh"'
        ' && git --git-dir=.evil config filter.evil.clean "$PWD/.evil/run.sh"'
        " && echo '* filter=evil' > .gitattributes"
        " ; printf 'gitdir: .evil\\n' > .git; cat .git"
    )


def test_a_linked_worktree_project_keeps_its_git_pointer(tmp_path: Path, replay, kimicode) -> None:
    main = tmp_path / "main"
    main.mkdir()
    git(main, "init", "-q", "-b", "main")
    (main / "app.py").write_text("print('hi')\n")
    git(main, "add", "-A")
    git(main, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "initial")
    project = tmp_path / "wt"
    git(main, "worktree", "add", "-q", str(project))
    pointer = (project / ".git").read_text()
    with outside_marker() as outside:
        server = replay(
            script(
                (
                    "poison",
                    [
                        *_shell_then(_evil_gitdir(outside), "git log --oneline -1")[:-1],
                        turn(tool_calls=[call("grep", pattern="print")]),
                        turn(tool_calls=[call("glob", pattern="*.py")]),
                        turn("Done."),
                    ],
                )
            )
        )
        res = kimicode("-p", "poison", "--yolo", cwd=project, server=server)
        assert res.code == 0, res
        assert (project / ".git").read_text() == pointer
        assert not outside.exists()
    sent = _results(server)
    assert "Read-only file system" in sent
    assert "initial" in sent  # git in the sandbox sees the worktree's history under /tmp
    assert git(project, "status", "--short", "--untracked-files=no") == ""


def test_a_sub_agent_cannot_repoint_its_worktree_git_file(repo: Path, replay, kimicode) -> None:
    with outside_marker() as outside:
        server = replay(
            script(
                orchestrator([task("w", "w.txt")]),
                sub_agent(
                    "w",
                    [
                        turn(tool_calls=[call("run_shell", command=_evil_gitdir(outside))]),
                        turn(tool_calls=[call("write_file", path="w.txt", content="work\n")]),
                        turn("w finished."),
                    ],
                ),
            )
        )
        res = kimicode(
            "-p", "Split the work", "--swarm", "--yolo", "--output-format", "json",
            cwd=repo, server=server, timeout=240,
        )  # fmt: skip
        assert res.code == 0, res
        assert not outside.exists()
    assert "Read-only file system" in _results(server)
    agents = res.json()["agents"]
    assert [(a["name"], a["merged"]) for a in agents] == [("w", True)]
    assert (repo / "w.txt").read_text() == "work\n"


def test_linked_build_state_and_git_work_in_a_worktree_under_tmp(
    repo: Path, replay, kimicode
) -> None:
    assert str(repo).startswith("/tmp/")  # the sandbox's /tmp is private
    (repo / ".gitignore").write_text("node_modules/\n")
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text('[swarm]\nlink = ["node_modules"]\n')
    git(repo, "add", ".gitignore", ".kimicode")
    git(repo, "commit", "-qm", "ignore node_modules")
    (repo / "node_modules" / "pkg").mkdir(parents=True)
    (repo / "node_modules" / "pkg" / "index.js").write_text("module.exports = 42\n")
    probe = (
        "cat node_modules/pkg/index.js; git log --oneline -1; git status --short; "
        "echo x > node_modules/pkg/evil.js"
    )
    server = replay(
        script(
            orchestrator([task("w", "w.txt")]),
            sub_agent(
                "w",
                [
                    turn(tool_calls=[call("run_shell", command=probe)]),
                    turn(tool_calls=[call("write_file", path="w.txt", content="w\n")]),
                    turn("w finished."),
                ],
            ),
        )
    )
    res = kimicode("-p", "Split the work", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    shell = next(
        m["content"]
        for body in requests_of(server)
        for m in body["messages"]
        if m["role"] == "tool" and "exit code" in str(m.get("content"))
    )
    assert "module.exports = 42" in shell
    assert "ignore node_modules" in shell  # git log in the worktree
    assert "not a git repository" not in shell and "No such file" not in shell
    assert "Read-only file system" in shell
    assert not (repo / "node_modules" / "pkg" / "evil.js").exists()
    assert (repo / "w.txt").read_text() == "w\n"
