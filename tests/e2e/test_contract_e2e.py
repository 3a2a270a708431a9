"""More of the public contract through the real entry point: piped stdin without -p,
AGENTS.md, plan mode, the sandbox, config precedence, and swarm edge cases."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from helpers import call, git, orchestrator, requests_of, script, sub_agent, task, turn


def test_piped_stdin_without_p_behaves_as_print_mode(repo: Path, replay, kimicode) -> None:
    server = replay(script(("piped task", [turn("Handled the piped task.")])))
    res = kimicode(cwd=repo, server=server, input="piped task\n")
    assert res.code == 0, res
    assert res.stdout == "Handled the piped task.\n"


def test_agents_md_is_appended_to_the_system_prompt(repo: Path, replay, kimicode) -> None:
    (repo / "AGENTS.md").write_text("Always run `make check` before finishing.\n")
    server = replay(script(("hello", [turn("Hi.")])))
    res = kimicode("-p", "hello", cwd=repo, server=server)
    assert res.code == 0, res
    system = requests_of(server)[0]["messages"][0]["content"]
    assert "Always run `make check` before finishing." in system
    assert "Repository map" in system and "cli.py" in system


def test_plan_mode_offers_only_read_only_tools(repo: Path, replay, kimicode) -> None:
    server = replay(
        script(
            (
                "plan it",
                [
                    turn(tool_calls=[call("write_file", path="x.txt", content="x")]),
                    turn("Planned."),
                ],
            )
        )
    )
    res = kimicode("-p", "plan it", "--permission-mode", "plan", cwd=repo, server=server)
    assert res.code == 0, res
    tools = {t["function"]["name"] for t in requests_of(server)[0]["tools"]}
    assert tools == {
        "read_file",
        "glob",
        "grep",
        "shell_output",
        "view_image",
        "render_page",
        "fetch_url",
    }
    assert not (repo / "x.txt").exists()
    assert "no tool named 'write_file'" in requests_of(server)[-1]["messages"][-1]["content"]


def test_deny_rule_wins_even_with_yolo(repo: Path, replay, kimicode) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        '[permissions]\ndeny = ["run_shell(git push*)"]\n'
    )
    server = replay(
        script(
            (
                "push it",
                [
                    turn(tool_calls=[call("run_shell", command="true && git push")]),
                    turn("Not pushed."),
                ],
            )
        )
    )
    res = kimicode("-p", "push it", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    result = requests_of(server)[-1]["messages"][-1]["content"]
    assert result.startswith("Denied") and "git push" in result


@pytest.mark.sandbox
def test_shell_commands_cannot_write_outside_the_project(
    repo: Path, replay, kimicode, tmp_path: Path
) -> None:
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    in_tmp = tmp_path / "outside.txt"  # /tmp is private inside the sandbox
    in_home = Path.home() / f".kimicode-escape-{uuid.uuid4().hex}"
    command = f"echo x > {in_tmp}; echo x > {in_home}; echo in > in.txt"
    server = replay(
        script(("escape", [turn(tool_calls=[call("run_shell", command=command)]), turn("Tried.")]))
    )
    try:
        res = kimicode("-p", "escape", "--yolo", cwd=repo, server=server)
        assert res.code == 0, res
        assert not in_tmp.exists() and not in_home.exists()
    finally:
        in_home.unlink(missing_ok=True)
    assert (repo / "in.txt").read_text() == "in\n"
    assert "Read-only file system" in requests_of(server)[-1]["messages"][-1]["content"]


def test_config_show_names_the_source_of_each_value(
    repo: Path, kimicode, isolated_dirs: Path
) -> None:
    user = isolated_dirs / "config" / "kimicode"
    user.mkdir(parents=True)
    (user / "config.toml").write_text('[model]\nname = "from-user"\ncontext_window = 1000\n')
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text('[model]\nname = "from-project"\n')
    res = kimicode("config", "show", cwd=repo, env={"KIMICODE_MODEL": "from-env"})
    assert res.code == 0, res
    lines = {line.split()[0]: line for line in res.stdout.splitlines() if line.strip()}
    assert '"from-env"' in lines["model.name"] and "env KIMICODE_MODEL" in lines["model.name"]
    assert (
        "1000" in lines["model.context_window"] and "config.toml" in lines["model.context_window"]
    )
    assert "default" in lines["agent.max_steps"]


def test_sub_agents_write_only_their_files(repo: Path, replay, kimicode) -> None:
    server = replay(
        script(
            orchestrator([task("w", "mine.txt")]),
            sub_agent(
                "w",
                [
                    turn(
                        tool_calls=[
                            call("write_file", path="README.md", content="hijack\n"),
                            call("run_shell", command="echo side > side.txt"),
                            call("write_file", path="mine.txt", content="mine\n"),
                        ]
                    ),
                    turn("Wrote mine."),
                ],
            ),
        )
    )
    res = kimicode("-p", "Split", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    assert (repo / "README.md").read_text() == "# project\n"
    assert not (repo / "side.txt").exists()
    assert (repo / "mine.txt").read_text() == "mine\n"
    sub_request = next(
        b
        for b in requests_of(server)
        if "Task w" in str(b["messages"][1]["content"]) and len(b["messages"]) > 3
    )
    refusal = sub_request["messages"][3]["content"]
    assert "not one of your files" in refusal and "mine.txt" in refusal
    report = requests_of(server)[-1]["messages"][-1]["content"]
    assert "does not own (not merged): side.txt" in report


def test_too_many_tasks_for_the_tool_call_budget_are_refused(repo: Path, replay, kimicode) -> None:
    server = replay(script(orchestrator([task(f"t{i}", f"f{i}.txt") for i in range(5)])))
    res = kimicode(
        "-p", "Split", "--swarm", "--yolo", "--max-tool-calls", "3", cwd=repo, server=server
    )
    result = requests_of(server)[1]["messages"][-1]["content"]
    assert "5 tasks but only 2 tool calls are left" in result
    assert git(repo, "branch", "--list", "kimicode/*") == ""
    assert res.code == 0, res


def test_a_timed_out_sub_agent_fails_and_keeps_nothing_half_merged(
    repo: Path, replay, kimicode
) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[swarm]\nagent_timeout = 1\n")
    server = replay(
        script(
            orchestrator([task("slow", "slow.txt"), task("quick", "quick.txt")]),
            sub_agent("slow", [turn("too late", latency_ms=5000)]),
            sub_agent(
                "quick",
                [
                    turn(tool_calls=[call("write_file", path="quick.txt", content="q")]),
                    turn("Quick done."),
                ],
            ),
        )
    )
    res = kimicode(
        "-p", "Split", "--swarm", "--yolo", "--output-format", "json", cwd=repo, server=server
    )
    assert res.code == 1, res
    agents = {a["name"]: a for a in res.json()["agents"]}
    assert agents["slow"]["status"] == "error" and agents["quick"]["merged"] is True
    assert "timed out" in res.json()["error"]
    assert (repo / "quick.txt").read_text() == "q"


def test_commit_flag_commits_each_agent_with_itstask(repo: Path, replay, kimicode) -> None:
    server = replay(
        script(
            orchestrator([task("c1", "one.txt"), task("c2", "two.txt")]),
            *(
                sub_agent(n, [turn(tool_calls=[call("write_file", path=f, content=n)]), turn("ok")])
                for n, f in (("c1", "one.txt"), ("c2", "two.txt"))
            ),
        )
    )
    res = kimicode("-p", "Split", "--swarm", "--yolo", "--commit", cwd=repo, server=server)
    assert res.code == 0, res
    log = git(repo, "log", "--format=%s", "-3")
    assert "c1: Task c1: do your part." in log and "c2: Task c2: do your part." in log
    assert git(repo, "status", "--porcelain") == ""


def test_sub_agents_use_the_swarm_model(repo: Path, replay, kimicode) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text('[swarm]\nmodel = "kimi-small"\n')
    server = replay(
        script(
            orchestrator([task("m", "m.txt")]),
            sub_agent(
                "m", [turn(tool_calls=[call("write_file", path="m.txt", content="m")]), turn("ok")]
            ),
        )
    )
    res = kimicode("-p", "Split", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    models = {
        ("sub" if "Task m" in str(b["messages"][1]["content"]) else "main"): b["model"]
        for b in requests_of(server)
    }
    assert models == {"main": "kimi-k2.5", "sub": "kimi-small"}


def test_the_swarm_outside_git_tells_the_model_why(tmp_path: Path, replay, kimicode) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x = 1\n")
    server = replay(script(orchestrator([task("a", "a.py")], final="Cannot split here.")))
    res = kimicode("-p", "Split", "--swarm", "--yolo", cwd=plain, server=server)
    assert res.code == 0, res
    result = requests_of(server)[-1]["messages"][-1]["content"]
    assert result.startswith("Error:") and "git init" in result
