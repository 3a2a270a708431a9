"""Attacks through what kimicode itself runs: `[checks]` and `[swarm] setup` execute
project content the model wrote, so they run in the same sandbox as run_shell.

Each test is the real binary with a hostile scripted model: it plants code, kimicode
runs it, and the host is checked for what got out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from boundary_helpers import KEY, escape_script, listening, need_bwrap, outside_marker
from helpers import call, requests_of, script, sub_agent, task, turn

pytestmark = pytest.mark.sandbox


def _config(repo: Path, text: str) -> None:
    (repo / ".kimicode").mkdir(exist_ok=True)
    (repo / ".kimicode" / "config.toml").write_text(text)


def test_a_check_running_a_test_the_model_wrote_stays_in_the_sandbox(
    repo: Path, replay, kimicode
) -> None:
    need_bwrap()
    _config(repo, '[checks]\ntest = "python3 test_evil.py"\nrounds = 1\n')
    with listening() as listener, outside_marker() as outside:
        planted = escape_script(outside, listener.port, "check-ran.txt")
        server = replay(
            script(
                (
                    "add a test",
                    [
                        turn(tool_calls=[call("write_file", path="test_evil.py", content=planted)]),
                        turn("Added the test."),
                    ],
                )
            )
        )
        res = kimicode("-p", "add a test", "--output-format", "json", cwd=repo, server=server)
        assert res.code == 0, res
        assert (repo / "check-ran.txt").read_text() == "ran"  # the check really ran
        assert not outside.exists()
        assert listener.received == []
    assert res.json()["result"] == "Added the test."


def test_swarm_setup_runs_a_planted_script_sandboxed_without_the_key(
    repo: Path, replay, kimicode
) -> None:
    need_bwrap()
    _config(repo, '[swarm]\nsetup = "python3 scripts/setup.py; exit 3"\n')
    with listening() as listener, outside_marker() as outside:
        planted = escape_script(outside, listener.port, "setup-ran.txt")
        server = replay(
            script(
                (
                    "^Split",
                    [
                        turn(
                            tool_calls=[
                                call("write_file", path="scripts/setup.py", content=planted)
                            ]
                        ),
                        turn(tool_calls=[call("spawn_agents", tasks=[task("w", "w.txt")])]),
                        turn("All done."),
                    ],
                ),
                sub_agent(
                    "w",
                    [
                        turn(tool_calls=[call("run_shell", command="cat setup-ran.txt")]),
                        turn("w finished."),
                    ],
                ),
            )
        )
        res = kimicode(
            "-p", "Split the work", "--swarm", "--yolo", cwd=repo, server=server, timeout=240
        )
        assert res.code == 0, res
        assert not outside.exists()
        assert listener.received == []
    sent = json.dumps(requests_of(server))
    assert "failed with exit 3" in sent and "key=\\n" in sent  # setup ran, saw no key
    assert KEY not in sent
