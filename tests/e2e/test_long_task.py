"""A 200-step task against a small context window: every request stays under it."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import call, requests_of, script, turn

WINDOW = 8_000


def test_200_steps_never_exceed_a_small_context_window(repo: Path, replay, kimicode) -> None:
    big = "".join(f"line {i}: " + "lorem ipsum dolor sit amet " * 3 + "\n" for i in range(4_000))
    (repo / "big.txt").write_text(big)
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        f"[model]\ncontext_window = {WINDOW}\nmax_output_tokens = 1000\n"
    )
    steps = [
        turn(tool_calls=[call("read_file", path="big.txt", offset=1 + 20 * i, limit=20)])
        for i in range(199)
    ]
    server = replay(
        script(
            (
                "^Summarise this coding session",
                [turn("Read big.txt in 20-line slices so far.", repeat=200)],
            ),
            ("read the whole file", [*steps, turn("Read all of big.txt.")]),
        )
    )
    res = kimicode(
        "-p",
        "read the whole file in slices",
        "--max-steps",
        "250",
        "--output-format",
        "json",
        cwd=repo,
        server=server,
        timeout=600,
    )
    assert res.code == 0, res
    out = res.json()
    assert out["status"] == "success" and out["steps"] == 200 and out["tool_calls"] == 199
    bodies = requests_of(server)
    agent_requests = [b for b in bodies if b.get("tools")]
    summaries = [b for b in bodies if not b.get("tools")]
    assert len(agent_requests) == 200
    assert summaries, "the history was never summarised"
    for body in bodies:
        size = len(json.dumps(body["messages"])) // 4
        assert size < WINDOW, f"a request of ~{size} tokens exceeds the {WINDOW}-token window"
    # bounded: late requests are no longer than early ones once compaction started
    assert len(agent_requests[-1]["messages"]) < 60
    # the task itself is never compacted away
    assert all(
        b["messages"][1]["content"].startswith("read the whole file") for b in agent_requests
    )
