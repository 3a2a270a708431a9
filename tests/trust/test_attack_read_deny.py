"""Reading a denied file through the read-only tools, in every permission mode.

`deny = ["read_file(.env)"]` must keep `.env`'s contents from the model
whichever tool asks: read_file itself, grep over the project or at the file,
view_image, a symlink to it; and glob does not list it. A deny rule naming
`grep` or `glob` refuses the tool outright.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import call, requests_of, script, turn

SECRET = "s3cr3t-value-9f2c"


def tool_results(server) -> list[str]:
    return [m["content"] for m in requests_of(server)[-1]["messages"] if m["role"] == "tool"]


def deny_config(root: Path, deny: list[str]) -> None:
    (root / ".kimicode").mkdir(exist_ok=True)
    rules = ", ".join(f'"{r}"' for r in deny)
    (root / ".kimicode" / "config.toml").write_text(f"[permissions]\ndeny = [{rules}]\n")


@pytest.mark.parametrize("mode", ["default", "yolo", "plan"])
def test_a_read_deny_rule_holds_for_every_read_only_tool(
    repo: Path, replay, kimicode, mode: str
) -> None:
    deny_config(repo, ["read_file(.env)"])
    (repo / ".env").write_text(f"TOKEN={SECRET}\n")
    (repo / "config").mkdir()
    (repo / "config" / "innocent.txt").symlink_to(repo / ".env")
    (repo / "notes.txt").write_text("TOKEN is read from the environment\n")
    reads = [
        call("read_file", path=".env"),
        call("read_file", path="config/innocent.txt"),
        call("grep", pattern="TOKEN"),
        call("grep", pattern="s3cr3t", path="."),
        call("grep", pattern="TOKEN", path=".env"),
        call("grep", pattern="TOKEN", glob=".env*"),
        call("view_image", path=".env"),
        call("glob", pattern="**/*"),
        call("glob", pattern=".env"),
    ]
    server = replay(script(("look", [turn(tool_calls=reads), turn("Looked.")])))
    res = kimicode("-p", "look", "--permission-mode", mode, cwd=repo, server=server)
    assert res.code == 0, res
    results = tool_results(server)
    assert len(results) == len(reads)
    assert not [r for r in results if SECRET in r]
    read_env, read_link, grep_all, grep_dot, grep_file, grep_glob, image, glob_all, glob_env = (
        results
    )
    for denied in (read_env, read_link, grep_file, image):
        assert denied.startswith("Denied") and "read_file(.env)" in denied, denied
    assert "notes.txt:1:TOKEN is read" in grep_all  # the search itself still works
    assert ".env:" not in grep_all and grep_glob.startswith("no matches")
    assert grep_dot.startswith("no matches")
    assert "notes.txt" in glob_all and ".env" not in glob_all.split("\n")
    assert "innocent.txt" not in glob_all
    assert glob_env.startswith("no files match")


def test_deny_rules_naming_grep_and_glob_refuse_them(repo: Path, replay, kimicode) -> None:
    deny_config(repo, ["grep", "glob"])
    server = replay(
        script(
            (
                "look",
                [
                    turn(tool_calls=[call("grep", pattern="x"), call("glob", pattern="*")]),
                    turn("Looked."),
                ],
            )
        )
    )
    res = kimicode("-p", "look", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    grep, glob = tool_results(server)
    assert grep.startswith("Denied") and "`grep`" in grep
    assert glob.startswith("Denied") and "`glob`" in glob
