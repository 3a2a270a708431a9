"""The real `kimicode` entry point in a subprocess, against the replay server, in a real
git repository: what a user running `kimicode -p` in CI sees."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import call, requests_of, script, turn

EDIT_SCRIPT = script(
    (
        "add a --verbose flag",
        [
            turn(
                reasoning_content="Look at cli.py first.",
                tool_calls=[call("read_file", path="cli.py")],
            ),
            turn(
                tool_calls=[
                    call(
                        "edit_file",
                        path="cli.py",
                        old_string="    return parser.parse_args()",
                        new_string=(
                            '    parser.add_argument("--verbose", action="store_true")\n'
                            "    return parser.parse_args()"
                        ),
                    )
                ]
            ),
            turn(tool_calls=[call("run_shell", command="python cli.py --verbose && echo ran-ok")]),
            turn("Added a --verbose flag to cli.py and ran it."),
        ],
    )
)


def test_edit_task_edits_the_file_and_prints_only_the_answer(repo: Path, replay, kimicode) -> None:
    server = replay(EDIT_SCRIPT)
    res = kimicode("-p", "--yolo", cwd=repo, server=server, input="add a --verbose flag to cli.py")
    assert res.code == 0, res
    assert res.stdout == "Added a --verbose flag to cli.py and ran it.\n"
    assert '"--verbose"' in (repo / "cli.py").read_text()
    assert "edit_file" in res.stderr  # progress goes to stderr
    bodies = requests_of(server)
    assert len(bodies) == 4
    # the shell really ran the edited file, and its output reached the model
    shell_result = bodies[3]["messages"][-1]
    assert shell_result["role"] == "tool" and "ran-ok" in shell_result["content"]
    # thinking is on by default: every assistant message carries reasoning_content
    assistants = [m for m in bodies[3]["messages"] if m["role"] == "assistant"]
    assert all("reasoning_content" in m for m in assistants)
    assert assistants[0]["reasoning_content"] == "Look at cli.py first."
    assert all(m.get("content") != "" for m in assistants if m.get("tool_calls"))


def test_json_output_has_exactly_the_documented_fields(repo: Path, replay, kimicode) -> None:
    server = replay(EDIT_SCRIPT)
    res = kimicode(
        "-p", "add a --verbose flag", "--yolo", "--output-format", "json", cwd=repo, server=server
    )
    assert res.code == 0, res
    out = res.json()
    assert set(out) == {
        "status",
        "result",
        "session_id",
        "usage",
        "steps",
        "tool_calls",
        "critical_steps",
        "agents",
        "duration_s",
        "error",
        "screenshots",
        "rate_limit",
    }
    assert out["rate_limit"]["throttled"] == 0
    assert out["status"] == "success" and out["error"] is None
    assert out["result"] == "Added a --verbose flag to cli.py and ran it."
    assert out["steps"] == 4 and out["tool_calls"] == 3 and out["critical_steps"] == 4
    assert out["agents"] == []
    assert out["usage"]["prompt_tokens"] > 0 and out["usage"]["completion_tokens"] > 0


def test_stream_json_prints_events_then_the_result(repo: Path, replay, kimicode) -> None:
    server = replay(EDIT_SCRIPT)
    res = kimicode(
        "-p",
        "add a --verbose flag",
        "--yolo",
        "--output-format",
        "stream-json",
        cwd=repo,
        server=server,
    )
    assert res.code == 0, res
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    types = [line["type"] for line in lines]
    assert types[0] == "session_started"
    assert "tool_call_started" in types and "tool_call_finished" in types
    assert "reasoning_delta" in types and "text_delta" in types
    assert types[-1] == "result" and types.count("result") == 1
    assert lines[-1]["status"] == "success" and lines[-1]["steps"] == 4


def test_no_key_exits_2_naming_env_vars_and_config(repo: Path, kimicode) -> None:
    res = kimicode("-p", "hello", cwd=repo, key=False)
    assert res.code == 2, res
    assert "KIMICODE_API_KEY" in res.stderr and "config.toml" in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_flag_and_missing_directory_exit_2_with_one_line(repo: Path, kimicode) -> None:
    bad = kimicode("-p", "hi", "--no-such-flag", cwd=repo)
    assert bad.code == 2, bad
    assert len(bad.stderr.strip().splitlines()) == 1 and "--no-such-flag" in bad.stderr
    missing = kimicode("-p", "hi", "-C", str(repo / "nope"), cwd=repo)
    assert missing.code == 2, missing
    assert len(missing.stderr.strip().splitlines()) == 1 and "no such directory" in missing.stderr
    assert "Traceback" not in bad.stderr + missing.stderr


def test_malformed_tool_calls_become_errors_the_model_reads(repo: Path, replay, kimicode) -> None:
    server = replay(
        script(
            (
                "go",
                [
                    turn(tool_calls=[{"name": "read_file", "arguments": "{not json"}]),
                    turn(tool_calls=[call("no_such_tool", x=1)]),
                    turn(tool_calls=[call("read_file", wrong="a")]),
                    turn("Recovered."),
                ],
            )
        )
    )
    res = kimicode("-p", "go", "--output-format", "json", cwd=repo, server=server)
    assert res.code == 0, res
    assert res.json()["result"] == "Recovered."
    bodies = requests_of(server)
    results = [b["messages"][-1]["content"] for b in bodies[1:]]
    assert "not a valid JSON object" in results[0]
    assert "no tool named 'no_such_tool'" in results[1]
    assert "invalid arguments for read_file" in results[2] and "path" in results[2]


def test_path_escapes_are_refused(repo: Path, replay, kimicode, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    (repo / "link").symlink_to(secret)
    server = replay(
        script(
            (
                "escape",
                [
                    turn(
                        tool_calls=[
                            call("read_file", path="../secret.txt"),
                            call("read_file", path=str(secret)),
                            call("read_file", path="link"),
                            call("write_file", path="../evil.txt", content="x"),
                        ]
                    ),
                    turn("Could not."),
                ],
            )
        )
    )
    res = kimicode("-p", "escape", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    last = requests_of(server)[-1]["messages"]
    results = [m["content"] for m in last if m["role"] == "tool"]
    assert len(results) == 4
    assert all("outside the project root" in r for r in results), results
    assert not any("TOP-SECRET" in r for r in results)
    assert not (tmp_path / "evil.txt").exists()


def test_shell_without_yolo_is_denied_and_the_model_is_told_why(
    repo: Path, replay, kimicode
) -> None:
    server = replay(
        script(
            (
                "run it",
                [
                    turn(tool_calls=[call("run_shell", command="touch ran.txt")]),
                    turn("It was denied."),
                ],
            )
        )
    )
    res = kimicode("-p", "run it", cwd=repo, server=server)
    assert res.code == 0, res
    assert not (repo / "ran.txt").exists()
    result = requests_of(server)[-1]["messages"][-1]["content"]
    assert "Denied" in result and "allow" in result and "--yolo" in result


def test_allow_rule_in_project_config_lets_a_command_run(repo: Path, replay, kimicode) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        '[permissions]\nallow = ["run_shell(touch *)"]\n'
    )
    server = replay(
        script(
            (
                "run it",
                [turn(tool_calls=[call("run_shell", command="touch ran.txt")]), turn("Done.")],
            )
        )
    )
    res = kimicode("-p", "run it", cwd=repo, server=server)
    assert res.code == 0, res
    assert (repo / "ran.txt").exists()


def test_rate_limit_is_retried_and_server_errors_end_with_exit_75(
    repo: Path, replay, kimicode
) -> None:
    flaky = replay(
        script(("hello", [turn("Hi there.", fault={"status": 429, "retry_after": 0, "times": 2})]))
    )
    ok = kimicode("-p", "hello", cwd=repo, server=flaky)
    assert ok.code == 0, ok
    assert ok.stdout == "Hi there.\n"
    assert "rate limited, waiting to retry" in ok.stderr
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[retry]\nattempts = 3\nbase_delay = 0.01\n")
    down = replay(script(("hello", [turn("never", fault={"status": 500, "times": 99})])))
    res = kimicode("-p", "hello", "--output-format", "json", cwd=repo, server=down)
    assert res.code == 75, res
    out = res.json()
    assert out["status"] == "error" and "500" in out["error"]


def test_max_steps_limit_exits_1_with_status_limit(repo: Path, replay, kimicode) -> None:
    server = replay(
        script(("loop", [turn(tool_calls=[call("glob", pattern=f"*{i}*")]) for i in range(5)]))
    )
    res = kimicode(
        "-p", "loop", "--max-steps", "3", "--output-format", "json", cwd=repo, server=server
    )
    assert res.code == 1, res
    out = res.json()
    assert out["status"] == "limit" and "max-steps" in out["error"] and out["steps"] == 3


def test_repeated_identical_calls_get_a_reminder_then_a_stop(repo: Path, replay, kimicode) -> None:
    same = turn(tool_calls=[call("read_file", path="README.md")], repeat=8)
    server = replay(script(("again", [same, turn("never reached")])))
    res = kimicode("-p", "again", "--output-format", "json", cwd=repo, server=server)
    assert res.code == 1, res
    assert res.json()["status"] == "limit" and "same arguments" in res.json()["error"]
    bodies = requests_of(server)
    third = bodies[3]["messages"][-1]["content"]
    assert "exact tool call 3 times" in third
    assert len(bodies) == 6  # stopped after the 6th identical call, not 8


def test_continue_and_resume_carry_the_history(repo: Path, replay, kimicode) -> None:
    server = replay(
        script(
            (
                "first question",
                [
                    turn("First answer."),
                    turn("Second answer.", expect={"last_message_contains": "second question"}),
                ],
            ),
        )
    )
    first = kimicode("-p", "first question", "--output-format", "json", cwd=repo, server=server)
    assert first.code == 0, first
    second = kimicode(
        "-p", "second question", "--continue", "--output-format", "json", cwd=repo, server=server
    )
    assert second.code == 0, second
    assert second.json()["session_id"] == first.json()["session_id"]
    last = requests_of(server)[-1]["messages"]
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user"]
    assert last[2]["content"] == "First answer."
    listing = kimicode("sessions", "list", cwd=repo)
    assert first.json()["session_id"] in listing.stdout
    shown = kimicode("sessions", "show", first.json()["session_id"], cwd=repo)
    assert "Second answer." in shown.stdout
    bad = kimicode("-p", "x", "--resume", "nope", cwd=repo, server=server)
    assert bad.code == 2 and "no session" in bad.stderr


def test_a_session_cut_off_mid_tool_call_resumes_cleanly(
    repo: Path, replay, kimicode, isolated_dirs: Path
) -> None:
    sessions = isolated_dirs / "data" / "sessions"
    sessions.mkdir(parents=True)
    lines = [
        {"kind": "meta", "id": "cut", "cwd": str(repo), "model": "kimi-k2.5", "t": 1.0},
        {"kind": "message", "message": {"role": "system", "content": "sys"}},
        {"kind": "message", "message": {"role": "user", "content": "long job"}},
        {
            "kind": "message",
            "message": {
                "role": "assistant",
                "reasoning_content": "",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "run_shell", "arguments": '{"command": "sleep 99"}'},
                    }
                ],
            },
        },
    ]
    (sessions / "cut.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines) + '{"kind": "mess'
    )
    server = replay(script(("long job", [turn("Resumed fine.")])))
    res = kimicode("-p", "go on", "--resume", "cut", cwd=repo, server=server)
    assert res.code == 0, res
    messages = requests_of(server)[-1]["messages"]
    tool = [m for m in messages if m["role"] == "tool"]
    assert tool == [
        {
            "role": "tool",
            "tool_call_id": "c1",
            "content": "interrupted: the session ended before this tool call finished",
        }
    ]


def test_api_key_is_never_written_to_the_session(
    repo: Path, replay, kimicode, isolated_dirs: Path
) -> None:
    server = replay(EDIT_SCRIPT)
    res = kimicode(
        "-p",
        "add a --verbose flag",
        "--yolo",
        cwd=repo,
        server=server,
        env={"KIMICODE_API_KEY": "sk-very-secret-key-123456"},
    )
    assert res.code == 0, res
    for path in (isolated_dirs / "data").rglob("*"):
        if path.is_file():
            assert "sk-very-secret-key-123456" not in path.read_text(errors="replace")
    shown = kimicode(
        "config", "show", cwd=repo, env={"KIMICODE_API_KEY": "sk-very-secret-key-123456"}
    )
    assert "sk-very-secret-key-123456" not in shown.stdout
    assert "env KIMICODE_API_KEY" in shown.stdout


def test_a_rejected_key_exits_2_with_the_json_result(repo: Path, replay, kimicode) -> None:
    server = replay(script(("hello", [turn("never", fault={"status": 401, "times": 9})])))
    res = kimicode("-p", "hello", "--output-format", "json", cwd=repo, server=server)
    assert res.code == 2, res
    out = res.json()
    assert out["status"] == "error" and "KIMICODE_API_KEY" in out["error"]
    assert len(requests_of(server)) == 0 and len(server.requests) == 1  # not retried
