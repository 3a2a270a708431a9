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
RUNS = 5
SHELL_SWAPS = (
    "python3 -c \"import ctypes; l=ctypes.CDLL(None); "
    "[l.renameat2(-100, b'd', -100, b'd.link', 2) for _ in range(20000)]\""
)


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
    return script(
        (
            "race",
            [
                turn(tool_calls=[call("write_file", path="swap.py", content=SWAPPER)]),
                turn(tool_calls=[call("run_shell", command=start)]),
                turn(tool_calls=[call("run_shell", command=SHELL_SWAPS), *writes, *edits]),
                turn(tool_calls=[call("run_shell", command=stop)]),
                turn("Raced."),
            ],
        )
    )


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
        res = kimicode("-p", "race", "--yolo", "--output-format", "json", cwd=repo, server=server)
        assert res.code == 0, res
        assert res.json()["status"] == "success"
        assert files_under(outside) == ["victim.txt"], f"run {run}: a write landed outside"
        assert (outside / "victim.txt").read_text() == "original outside\n"
        results = [
            m["content"] for m in requests_of(server)[3]["messages"] if m["role"] == "tool"
        ]
        assert "stopped" in requests_of(server)[4]["messages"][-1]["content"]
        # each write either landed inside (in the real directory, whatever its name now)
        # or was refused with a reason; none vanished
        landed = {p.name for p in repo.glob("d*/w*.txt")}
        refused = [r for r in results[-WRITES - 5 : -5] if r.startswith("Error:")]
        assert len(landed) + len(refused) >= WRITES, json.dumps(results[-WRITES - 5 :])
        for path in repo.glob("d*"):
            if path.is_symlink():
                path.unlink()
            else:
                for child in path.iterdir():
                    child.unlink()
        for name in ("stop", "running"):
            (repo / name).unlink(missing_ok=True)
