"""A swarm on an endpoint that caps requests in flight: the real binary, the replay model."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import call, git, orchestrator, requests_of, script, sub_agent, task, turn


def _capped_swarm(names: list[str]) -> dict:
    slow = {"latency_ms": 150}
    return script(
        orchestrator([task(n, f"out/{n}.txt") for n in names]),
        *(
            sub_agent(
                n,
                [
                    turn(tool_calls=[call("write_file", path=f"out/{n}.txt", content=n)], **slow),
                    turn(f"{n} done.", **slow),
                ],
            )
            for n in names
        ),
    )


def test_a_swarm_on_a_capped_endpoint_finishes_with_every_agent_merged(
    repo: Path, replay, kimicode
) -> None:
    names = [f"w{i}" for i in range(8)]
    server = replay(_capped_swarm(names), max_in_flight=2)
    (repo / ".kimicode").mkdir()
    # two attempts only: a refusal must not use one up
    (repo / ".kimicode" / "config.toml").write_text("[retry]\nattempts = 2\nbase_delay = 0.01\n")
    res = kimicode(
        "-p",
        "Split the work",
        "--swarm",
        "--yolo",
        "--max-agents",
        "8",
        "--output-format",
        "stream-json",
        cwd=repo,
        server=server,
    )
    assert res.code == 0, res
    events = [json.loads(line) for line in res.stdout.splitlines()]
    result = events[-1]
    assert result["type"] == "result" and result["status"] == "success", result
    assert sorted(a["name"] for a in result["agents"] if a["merged"]) == names
    for n in names:
        assert (repo / "out" / f"{n}.txt").read_text() == n
    assert server.cap.throttled > 0 and server.cap.peak_in_flight == 2
    limited = [e for e in events if e["type"] == "rate_limited"]
    recovered = [e for e in events if e["type"] == "rate_limit_recovered"]
    assert limited and all(e["limit"] >= 1 and e["agent"] for e in limited)
    assert {e["agent"] for e in recovered} == {e["agent"] for e in limited}
    figures = result["rate_limit"]
    assert figures["throttled"] == server.cap.throttled
    assert figures["lowest_limit"] <= 2 and figures["start_limit"] == 8
    waited = {a["name"]: a["wait_s"] for a in result["agents"]}
    assert any(w > 0 for w in waited.values())
    assert all(a["usage"]["prompt_tokens"] > 0 for a in result["agents"])


def test_a_known_cap_in_max_concurrency_is_never_exceeded(repo: Path, replay, kimicode) -> None:
    names = [f"w{i}" for i in range(6)]
    server = replay(_capped_swarm(names), max_in_flight=2)
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[model]\nmax_concurrency = 2\n")
    res = kimicode(
        "-p", "Split the work", "--swarm", "--yolo", "--max-agents", "6",
        "--output-format", "json", cwd=repo, server=server,
    )  # fmt: skip
    assert res.code == 0, res
    out = res.json()
    assert sorted(a["name"] for a in out["agents"] if a["merged"]) == names
    assert server.cap.throttled == 0 and server.cap.peak_in_flight == 2
    assert out["rate_limit"]["start_limit"] == 2 and out["rate_limit"]["throttled"] == 0


def test_an_endpoint_that_answers_429_forever_ends_with_exit_75_and_work_kept(
    repo: Path, replay, kimicode
) -> None:
    refused = turn("never", fault={"status": 429, "times": 100_000})
    server = replay(
        script(
            (
                "^Split",
                [
                    turn(
                        tool_calls=[
                            call("spawn_agents", tasks=[task("a", "a.txt"), task("b", "b.txt")])
                        ]
                    ),
                    refused,
                ],
            ),
            sub_agent(
                "a", [turn(tool_calls=[call("write_file", path="a.txt", content="A")]), refused]
            ),
            sub_agent(
                "b", [turn(tool_calls=[call("write_file", path="b.txt", content="B")]), refused]
            ),
        )
    )
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        "[retry]\nrate_limit_wait = 1.5\nmax_delay = 0.2\n"
    )
    res = kimicode(
        "-p",
        "Split the work",
        "--swarm",
        "--yolo",
        "--output-format",
        "json",
        cwd=repo,
        server=server,
    )
    assert res.code == 75, res
    out = res.json()
    assert out["status"] == "error"
    assert "rate_limit_wait" in out["error"] and "max_concurrency" in out["error"]
    assert out["rate_limit"]["lowest_limit"] == 1
    branches = {a["name"]: a["branch"] for a in out["agents"]}
    assert set(branches) == {"a", "b"}
    for name, content in (("a", "A"), ("b", "B")):  # the work done before is on its branch
        assert git(repo, "show", f"{branches[name]}:{name}.txt") == content
    assert not (repo / "a.txt").exists()


def test_sub_agents_get_the_projects_instructions(repo: Path, replay, kimicode) -> None:
    (repo / "AGENTS.md").write_text("Always write British spelling: colour, not color.\n")
    (repo / "KIMI.md").write_text("Tabs, never spaces.\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "instructions")
    server = replay(
        script(
            orchestrator([task("a", "a.txt")]),
            sub_agent(
                "a",
                [turn(tool_calls=[call("write_file", path="a.txt", content="x")]), turn("a done.")],
            ),
        )
    )
    res = kimicode("-p", "Split the work", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    sub = [b for b in requests_of(server) if b["messages"][1]["content"].startswith("Task a:")]
    assert sub
    for body in sub:
        system = body["messages"][0]["content"]
        assert "British spelling" in system and "Tabs, never spaces." in system


def test_sub_agents_that_run_out_of_the_rate_limit_wait_make_the_run_exit_75(
    repo: Path, replay, kimicode
) -> None:
    refused = turn("never", fault={"status": 429, "times": 100_000})
    write = turn(tool_calls=[call("write_file", path="a.txt", content="A")])
    server = replay(
        script(orchestrator([task("a", "a.txt")], final="Done."), sub_agent("a", [write, refused]))
    )
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        "[retry]\nrate_limit_wait = 1.0\nmax_delay = 0.2\n"
    )
    res = kimicode(
        "-p", "Split the work", "--swarm", "--yolo", "--output-format", "json",
        cwd=repo, server=server,
    )  # fmt: skip
    assert res.code == 75, res
    out = res.json()
    assert out["status"] == "error" and "rate_limit_wait" in out["error"]
    assert out["agents"][0]["resumable"] is True
