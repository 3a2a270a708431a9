"""A long run must not make the session log grow with steps times history.

A run that reads a large file at every step compacts every few steps; each
compaction used to write the whole history again (the task, every kept
message), so the log grew by the history at every compaction (627 MB for 200
steps). Now a compaction refers to messages already logged, and `--continue`
still gets the history.
"""

from __future__ import annotations

from pathlib import Path

from helpers import call, requests_of, script, turn

MARKER = "TASK-MARKER-5b1f"
STEPS = 30
NOTE = 20_000
"""Characters in each file the run reads: the history nears the window every few steps."""


def test_compacting_step_after_step_does_not_rewrite_the_history(
    repo: Path, replay, kimicode, data_dir: Path
) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        "[model]\ncontext_window = 40000\nmax_output_tokens = 1000\n"
    )
    task = f"long task {MARKER}\n" + "Keep every detail of this specification.\n" * 50
    for i in range(STEPS):
        (repo / f"note{i}.txt").write_text(
            f"note {i} " + f"line {i} of a long note\n" * (NOTE // 22)
        )
    reads = [turn(tool_calls=[call("read_file", path=f"note{i}.txt")]) for i in range(STEPS)]
    server = replay(script(("long task", [*reads, turn("Done.")])))
    res = kimicode(
        "-p", "--yolo", "--output-format", "json", "--max-steps", "50",
        cwd=repo, server=server, input=task,
    )  # fmt: skip
    assert res.code == 0, res
    session_id = res.json()["session_id"]
    log = data_dir / "sessions" / f"{session_id}.jsonl"
    text = log.read_text()
    compactions = [line for line in text.splitlines() if line.startswith('{"kind": "compaction"')]
    assert len(compactions) >= 5  # it did compact, again and again
    # each compaction names the messages it keeps; it does not write the history again
    assert max(len(line) for line in compactions) < NOTE
    assert text.count(MARKER) <= 4, f"{text.count(MARKER)} copies of the task in the log"

    server2 = replay(script(("", [turn("Resumed.", expect={"request_contains": MARKER})])))
    again = kimicode("-p", "go on", "--continue", cwd=repo, server=server2)
    assert again.code == 0, again
    first = requests_of(server2)[0]["messages"]
    assert sum(MARKER in str(m.get("content")) for m in first) == 1
