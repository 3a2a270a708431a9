"""Undo, hooks and the test-fix loop through the real entry point."""

from __future__ import annotations

from pathlib import Path

from helpers import call, requests_of, script, turn


def test_undo_restores_files_exactly_and_removes_new_ones(repo: Path, replay, kimicode) -> None:
    before = (repo / "cli.py").read_bytes()
    server = replay(
        script(
            (
                "change things",
                [
                    turn(
                        tool_calls=[
                            call(
                                "edit_file",
                                path="cli.py",
                                old_string="argparse",
                                new_string="sys",
                                replace_all=True,
                            ),
                            call("write_file", path="new/notes.md", content="hello\n"),
                        ]
                    ),
                    turn(tool_calls=[call("write_file", path="README.md", content="rewritten\n")]),
                    turn("Changed."),
                ],
            )
        )
    )
    res = kimicode("-p", "change things", cwd=repo, server=server)
    assert res.code == 0, res
    assert (repo / "new" / "notes.md").exists() and b"sys" in (repo / "cli.py").read_bytes()
    listing = kimicode("checkpoints", cwd=repo)
    assert listing.code == 0 and "step 1" in listing.stdout and "step 2" in listing.stdout
    one = kimicode("undo", cwd=repo)
    assert one.code == 0, one
    assert (repo / "README.md").read_text() == "# project\n"
    assert (repo / "new" / "notes.md").exists()  # only the last change set undone
    two = kimicode("undo", cwd=repo)
    assert two.code == 0, two
    assert (repo / "cli.py").read_bytes() == before
    assert not (repo / "new").exists()
    nothing = kimicode("undo", cwd=repo)
    assert nothing.code == 1 and "no checkpoints to undo" in nothing.stderr


def test_pre_tool_hook_exit_2_blocks_and_the_model_reads_why(repo: Path, replay, kimicode) -> None:
    hook = repo / "guard.sh"
    hook.write_text(
        "#!/bin/sh\nif grep -q '\"README.md\"'; then echo 'README is frozen' >&2; exit 2; fi\n"
    )
    hook.chmod(0o755)
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(f'[hooks]\nPreToolUse = ["{hook}"]\n')
    server = replay(
        script(
            (
                "edit readme",
                [
                    turn(tool_calls=[call("write_file", path="README.md", content="x\n")]),
                    turn("Blocked."),
                ],
            )
        )
    )
    res = kimicode("-p", "edit readme", cwd=repo, server=server)
    assert res.code == 0, res
    assert (repo / "README.md").read_text() == "# project\n"
    result = requests_of(server)[-1]["messages"][-1]["content"]
    assert "Blocked by a hook" in result and "README is frozen" in result


def test_failing_checks_go_back_to_the_agent_until_they_pass(repo: Path, replay, kimicode) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        '[checks]\ntest = "grep -q fixed status.txt"\nrounds = 2\n'
    )
    server = replay(
        script(
            (
                "make it pass",
                [
                    turn(tool_calls=[call("write_file", path="status.txt", content="broken\n")]),
                    turn("Done (wrongly)."),
                    turn(
                        tool_calls=[call("write_file", path="status.txt", content="fixed\n")],
                        expect={"last_message_contains": "checks fail"},
                    ),
                    turn("Done, tests pass."),
                ],
            )
        )
    )
    res = kimicode("-p", "make it pass", "--output-format", "json", cwd=repo, server=server)
    assert res.code == 0, res
    assert res.json()["result"] == "Done, tests pass."
    assert (repo / "status.txt").read_text() == "fixed\n"
