"""Bad input that used to kill or mislead a run: each must be a clear error, and lose nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import call, orchestrator, requests_of, script, sub_agent, task, turn

KEY = "sk-test-0123456789abcdef"


def tool_results(server) -> list[str]:
    return [m["content"] for m in requests_of(server)[-1]["messages"] if m["role"] == "tool"]


def start(args: list[str], cwd: Path, server, home: Path) -> subprocess.Popen:
    """The real binary in the background, stream-json or json on a pipe."""
    env = dict(os.environ, KIMICODE_API_KEY=KEY, KIMICODE_BASE_URL=server.url)
    env["KIMICODE_DATA_DIR"] = str(home / "data")
    return subprocess.Popen(
        [sys.executable, "-m", "kimicode", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_nul_byte_in_a_path_is_a_tool_error_and_the_run_goes_on(
    repo: Path, replay, kimicode
) -> None:
    bad = [
        call("write_file", path="a\x00b.txt", content="x"),
        call("read_file", path="x\x00"),
        call("edit_file", path="e\x00", old_string="a", new_string="b"),
        call("grep", pattern="x", path="\x00"),
        call("view_image", path="i\x00.png"),
        call("run_shell", command="echo \x00hi"),
    ]
    server = replay(
        script(
            (
                "nul",
                [
                    turn(tool_calls=bad),
                    turn(tool_calls=[call("write_file", path="ok.txt", content="ok\n")]),
                    turn("Done."),
                ],
            )
        )
    )
    res = kimicode("-p", "nul", "--yolo", "--output-format", "json", cwd=repo, server=server)
    assert res.code == 0, res
    assert res.json()["status"] == "success" and "Traceback" not in res.stderr
    results = tool_results(server)
    for text in results[: len(bad)]:
        assert text.startswith("Error:") and ("NUL" in text or "invalid path" in text), text
    assert (repo / "ok.txt").read_text() == "ok\n"


@pytest.mark.timeout(240)
def test_a_newline_in_an_owned_file_name_is_merged_not_lost(repo: Path, replay, kimicode) -> None:
    name = "docs/two\nlines.md"
    writes = [turn(tool_calls=[call("write_file", path=name, content="kept\n")]), turn("Wrote.")]
    server = replay(script(orchestrator([task("a1", name)]), sub_agent("a1", writes)))
    res = kimicode(
        "-p", "Split the work", "--swarm", "--yolo", "--output-format", "json",
        cwd=repo, server=server,
    )  # fmt: skip
    assert res.code == 0, res
    (agent,) = res.json()["agents"]
    assert agent["merged"] is True and agent["files"] == [name]
    assert (repo / name).read_text() == "kept\n"  # the edit the result reports is there


def test_edit_with_a_missing_old_string_on_a_50_mb_one_line_file_answers(
    repo: Path, replay, kimicode
) -> None:
    """The near-match search was quadratic in a line's length (minutes on one long line)."""
    line = "".join(f"var v{i}=f({i % 97},'{i * 7919 % 100003}');" for i in range(2_000_000))
    (repo / "bundle.min.js").write_text(line)
    server = replay(
        script(
            (
                "edit",
                [
                    turn(
                        tool_calls=[
                            call(
                                "edit_file",
                                path="bundle.min.js",
                                old_string="function missing() {\n  return 42;\n}",
                                new_string="x",
                            )
                        ]
                    ),
                    turn("Could not."),
                ],
            )
        )
    )
    res = kimicode("-p", "edit", "--output-format", "json", cwd=repo, server=server, timeout=200)
    assert res.code == 0, res
    (result,) = tool_results(server)
    assert "old_string was not found in bundle.min.js" in result
    assert (repo / "bundle.min.js").stat().st_size == len(line)


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/v1", "http://"])
def test_a_base_url_that_is_not_a_url_exits_2_at_once(repo: Path, kimicode, url: str) -> None:
    res = kimicode("-p", "hi", "--base-url", url, "--output-format", "json", cwd=repo, timeout=60)
    assert res.code == 2, res
    assert "model.base_url" in res.stderr and "not an http(s) URL" in res.stderr


def test_ctrl_c_with_json_output_still_prints_the_result(
    repo: Path, replay, isolated_dirs: Path
) -> None:
    server = replay(
        script(
            (
                "wait",
                [
                    turn(tool_calls=[call("run_shell", command="touch started; sleep 60")]),
                    turn("never"),
                ],
            )
        )
    )
    proc = start(["-p", "wait", "--yolo", "--output-format", "json"], repo, server, isolated_dirs)
    try:
        deadline = time.monotonic() + 90
        while not (repo / "started").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (repo / "started").exists()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    result = json.loads(out)
    assert result["status"] == "error" and result["error"] == "interrupted"
    assert result["session_id"] and result["steps"] == 1 and result["tool_calls"] == 1


TRIES = 6


def test_ctrl_c_just_after_the_last_sub_agent_finished_never_hangs(
    repo: Path, replay, isolated_dirs: Path
) -> None:
    """SIGINT 20-50 ms after the last `agent_finished`: the run ends (130 or done), every time."""
    names = ["q1", "q2"]
    rng = random.Random(11)
    for attempt in range(TRIES):
        server = replay(
            script(
                orchestrator([task(n, f"q/{n}-{attempt}.txt") for n in names]),
                *(
                    sub_agent(
                        n,
                        [
                            turn(
                                tool_calls=[
                                    call("write_file", path=f"q/{n}-{attempt}.txt", content=n)
                                ]
                            ),
                            turn(f"{n} done."),
                        ],
                    )
                    for n in names
                ),
            )
        )
        args = ["-p", "Split the work", "--swarm", "--yolo", "--output-format", "stream-json"]
        proc = start(args, repo, server, isolated_dirs)
        try:
            finished = 0
            assert proc.stdout is not None
            for line in proc.stdout:
                if json.loads(line)["type"] == "agent_finished":
                    finished += 1
                    if finished == len(names):
                        break
            assert finished == len(names), proc.stderr.read() if proc.stderr else ""
            time.sleep(rng.uniform(0.02, 0.05))
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"attempt {attempt}: still running 60 s after Ctrl-C")
        finally:
            proc.kill()
        assert proc.returncode in (0, 130), err
        last = json.loads(out.strip().splitlines()[-1])
        assert last["type"] == "result", out[-500:]
