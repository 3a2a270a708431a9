"""Racing the file tools: a directory swapped for a symlink to outside while they write.

The model starts a job that exchanges `d` (a real directory) with a symlink
to a directory outside the project, over and over, then sends one turn of
many `write_file` and `edit_file` calls into `d/` together with a shell
command doing the same swap. Whatever the timing, nothing may land outside:
each write either lands in the real directory or is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from helpers import call, requests_of, script, turn
from hostile import SWAPPER, files_under, no_sandbox

WRITES = 40
RACES = 6
"""Racing turns per run; each is one shell swap loop plus WRITES writes and 5 edits."""
RUNS = 2
SHELL_SWAPS = (
    'python3 -c "import ctypes; l=ctypes.CDLL(None); '
    "[l.renameat2(-100, b'd', -100, b'd.link', 2) for _ in range(20000)]\""
)
REFUSALS = ("outside the project", "not a real directory", "symlink", "kept changing")


def race_script(outside: Path) -> dict:
    writes = [call("write_file", path=f"d/w{i}.txt", content=f"write {i}\n") for i in range(WRITES)]
    edits = [
        call("edit_file", path="d/victim.txt", old_string="original", new_string=f"edited {i}")
        for i in range(5)
    ]
    start = (
        f"nohup python3 swap.py {outside} > /dev/null 2>&1 & "
        "while [ ! -e running ]; do sleep 0.01; done; echo started"
    )
    stop = "touch stop; while [ -e running ]; do sleep 0.01; done; echo stopped"
    race = turn(tool_calls=[call("run_shell", command=SHELL_SWAPS), *writes, *edits])
    return script(
        (
            "race",
            [
                turn(tool_calls=[call("write_file", path="swap.py", content=SWAPPER)]),
                turn(tool_calls=[call("run_shell", command=start)]),
                {**race, "repeat": RACES},
                turn(tool_calls=[call("run_shell", command=stop)]),
                turn("Raced."),
            ],
        )
    )


def file_tool_results(messages: list[dict]) -> list[tuple[str, dict, str]]:
    """(tool, arguments, result) of every write_file and edit_file call in the history."""
    calls = {
        c["id"]: (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for m in messages
        if m["role"] == "assistant"
        for c in m.get("tool_calls") or ()
    }
    return [
        (*calls[m["tool_call_id"]], m["content"])
        for m in messages
        if m["role"] == "tool" and calls[m["tool_call_id"]][0] in ("write_file", "edit_file")
    ]


def test_a_directory_swapped_for_a_symlink_never_lets_a_write_out(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    no_sandbox(repo)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim.txt").write_text("original outside\n")
    for run in range(RUNS):
        (repo / "d").mkdir(exist_ok=True)
        (repo / "d" / "victim.txt").write_text("original\n")
        server = replay(race_script(outside))
        res = kimicode(
            "-p", "race", "--yolo", "--output-format", "json", cwd=repo, server=server, timeout=90
        )
        assert res.code == 0, res
        assert res.json()["status"] == "success"
        assert files_under(outside) == ["victim.txt"], f"run {run}: a write landed outside"
        assert (outside / "victim.txt").read_text() == "original outside\n"
        messages = requests_of(server)[-1]["messages"]
        assert "stopped" in messages[-1]["content"]
        results = file_tool_results(messages)
        assert len(results) == 1 + RACES * (WRITES + 5)
        for tool, args, text in results[1:]:
            # landed inside (in the real directory, whatever its name is now) or refused
            if text.startswith(("created", "updated", "edited")):
                name = args["path"].split("/")[-1]
                assert [p for p in repo.glob(f"d*/{name}") if not p.parent.is_symlink()], text
            else:
                # an edit may also find its text already replaced by an earlier one
                allowed = (*REFUSALS, "was not found") if tool == "edit_file" else REFUSALS
                assert text.startswith("Error:") and any(r in text for r in allowed), text
        for path in repo.glob("d*"):
            if path.is_symlink():
                path.unlink()
            else:
                for child in path.iterdir():
                    child.unlink()
        for name in ("stop", "running"):
            (repo / name).unlink(missing_ok=True)
