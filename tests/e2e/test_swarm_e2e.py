"""The swarm end to end: the real entry point, real git worktrees, the replay model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import call, git, orchestrator, requests_of, script, sub_agent, task, turn


def _writer(name: str, path: str, content: str, latency_ms: int = 0) -> tuple[str, list]:
    return sub_agent(
        name,
        [
            turn(
                tool_calls=[call("write_file", path=path, content=content)], latency_ms=latency_ms
            ),
            turn(f"{name} wrote {path}."),
        ],
    )


def _branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--list", "kimicode/*", "--format=%(refname:short)").split()


def test_agents_edit_disjoint_files_and_merge(repo: Path, replay, kimicode) -> None:
    names = [f"a{i}" for i in range(5)]
    server = replay(
        script(
            orchestrator([task(n, f"docs/{n}.md") for n in names]),
            *(_writer(n, f"docs/{n}.md", f"# {n}\n") for n in names),
        )
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
    assert res.code == 0, res
    out = res.json()
    assert out["status"] == "success"
    for n in names:
        assert (repo / "docs" / f"{n}.md").read_text() == f"# {n}\n"
    agents = {a["name"]: a for a in out["agents"]}
    assert set(agents) == set(names)
    for n, a in agents.items():
        assert a == {
            "name": n,
            "status": "success",
            "files": [f"docs/{n}.md"],
            "steps": 2,
            "tool_calls": 1,
            "branch": a["branch"],
            "merged": True,
            "checks": {},
            "usage": a["usage"],
            "wait_s": a["wait_s"],
            "resumable": False,
        }
        assert a["usage"]["prompt_tokens"] > 0 and a["usage"]["completion_tokens"] > 0
        assert a["wait_s"] >= 0
        assert a["branch"].startswith("kimicode/") and a["branch"].endswith(f"/{n}")
    assert out["steps"] == 2 + 5 * 2 and out["critical_steps"] == 2 + 2
    assert out["tool_calls"] == 1 + 5
    # clean merge: no worktrees or branches left; the user's HEAD did not move
    assert _branches(repo) == []
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert git(repo, "log", "--oneline").count("\n") == 1
    # only summaries reach the orchestrator, never transcripts
    report = requests_of(server)[-1]["messages"][-1]["content"]
    assert "a3 wrote docs/a3.md." in report and "merged" in report


def test_overlapping_files_are_rejected_before_anything_starts(
    repo: Path, replay, kimicode
) -> None:
    server = replay(
        script(
            (
                "^Split the work",
                [
                    turn(
                        tool_calls=[
                            call(
                                "spawn_agents",
                                tasks=[task("one", "*.md"), task("two", "README.md")],
                            )
                        ]
                    ),
                    turn(tool_calls=[call("spawn_agents", tasks=[])]),
                    turn("Understood."),
                ],
            )
        )
    )
    res = kimicode("-p", "Split the work", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    results = [b["messages"][-1]["content"] for b in requests_of(server)[1:]]
    assert "may not overlap" in results[0] and "README.md" in results[0]
    assert "one" in results[0] and "two" in results[0]
    assert "at least one task" in results[1]
    assert _branches(repo) == []


def test_dirty_tree_is_kept_and_its_edits_are_visible_to_agents(
    repo: Path, replay, kimicode
) -> None:
    (repo / "cli.py").write_text("print('uncommitted edit')\n")
    (repo / "notes.txt").write_text("untracked note\n")
    git(repo, "add", "cli.py")
    (repo / "cli.py").write_text("print('uncommitted edit, unstaged part')\n")
    status_before = git(repo, "status", "--porcelain")
    index_before = (repo / ".git" / "index").read_bytes()
    server = replay(
        script(
            orchestrator([task("reader", "out.txt")]),
            sub_agent(
                "reader",
                [
                    turn(
                        tool_calls=[
                            call("read_file", path="cli.py"),
                            call("read_file", path="notes.txt"),
                        ]
                    ),
                    turn(tool_calls=[call("run_shell", command="cat cli.py notes.txt > out.txt")]),
                    turn("Copied."),
                ],
            ),
        )
    )
    res = kimicode("-p", "Split the work", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    sub_bodies = [b for b in requests_of(server) if "Task reader" in json.dumps(b["messages"][:2])]
    reads = [m["content"] for m in sub_bodies[1]["messages"] if m["role"] == "tool"]
    assert "unstaged part" in reads[0] and "untracked note" in reads[1]
    assert (
        repo / "out.txt"
    ).read_text() == "print('uncommitted edit, unstaged part')\nuntracked note\n"
    assert (repo / "cli.py").read_text() == "print('uncommitted edit, unstaged part')\n"
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert git(repo, "status", "--porcelain") == status_before + "?? out.txt\n" or sorted(
        git(repo, "status", "--porcelain").splitlines()
    ) == sorted([*status_before.splitlines(), "?? out.txt"])
    assert git(repo, "stash", "list") == ""


def _stream(args: list[str], repo: Path, server, isolated_dirs: Path) -> subprocess.Popen:
    env = dict(os.environ, KIMICODE_API_KEY="sk-test-0123456789", KIMICODE_BASE_URL=server.url)
    return subprocess.Popen(
        [sys.executable, "-m", "kimicode", *args, "--output-format", "stream-json"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def _wait_for(proc: subprocess.Popen, kind: str, count: int, deadline: float) -> list[dict]:
    seen = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        event = json.loads(line)
        if event["type"] == kind:
            seen.append(event)
            if len(seen) == count:
                return seen
    raise AssertionError(f"did not see {count} {kind} events")


def test_a_user_edit_during_the_run_is_never_overwritten(
    repo: Path, replay, isolated_dirs: Path
) -> None:
    server = replay(
        script(
            orchestrator([task("slow", "README.md"), task("fast", "docs/fast.md")]),
            _writer("slow", "README.md", "agent version\n", latency_ms=1500),
            _writer("fast", "docs/fast.md", "fast\n"),
        )
    )
    proc = _stream(["-p", "Split the work", "--swarm", "--yolo"], repo, server, isolated_dirs)
    try:
        _wait_for(proc, "agent_spawned", 2, time.monotonic() + 60)
        (repo / "README.md").write_text("the user's own edit\n")
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    events = [json.loads(line) for line in out.splitlines()]
    conflicts = [e for e in events if e["type"] == "merge_conflict"]
    assert len(conflicts) == 1 and conflicts[0]["name"] == "slow", err
    assert conflicts[0]["files"] == ["README.md"]
    assert conflicts[0]["inspect"].startswith("git diff ")
    assert (repo / "README.md").read_text() == "the user's own edit\n"
    assert (repo / "docs" / "fast.md").read_text() == "fast\n"
    result = events[-1]
    assert result["type"] == "result" and result["status"] == "error"
    assert "conflict" in result["error"]
    assert proc.returncode == 1
    kept = _branches(repo)
    assert len(kept) == 1 and kept[0].endswith("/slow")
    shown = git(repo, "show", f"{kept[0]}:README.md")
    assert shown == "agent version\n"


def test_a_crashing_sub_agent_is_reported_and_the_others_merge(
    repo: Path, replay, kimicode
) -> None:
    server = replay(
        script(
            orchestrator(
                [task("ok", "ok.txt"), task("broken", "broken.txt")], final="One agent failed."
            ),
            _writer("ok", "ok.txt", "fine\n"),
            # "broken" has no conversation: the model endpoint refuses its requests (400)
        )
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
    assert res.code == 1, res
    out = res.json()
    agents = {a["name"]: a for a in out["agents"]}
    assert agents["ok"]["merged"] is True and agents["ok"]["status"] == "success"
    assert agents["broken"]["status"] == "error" and agents["broken"]["merged"] is False
    assert out["status"] == "error" and "broken" in out["error"]
    assert (repo / "ok.txt").read_text() == "fine\n" and not (repo / "broken.txt").exists()
    report = requests_of(server)[-1]["messages"][-1]["content"]
    assert "broken: error" in report and "refused" in report


def test_sigint_mid_run_keeps_work_and_swarm_clean_removes_it(
    repo: Path, replay, kimicode, isolated_dirs: Path
) -> None:
    names = ["s1", "s2", "s3"]
    server = replay(
        script(
            orchestrator([task(n, f"{n}.txt") for n in names]),
            *(
                sub_agent(
                    n,
                    [
                        turn(tool_calls=[call("write_file", path=f"{n}.txt", content=n)]),
                        turn(tool_calls=[call("run_shell", command="sleep 31")]),
                        turn("never"),
                    ],
                )
                for n in names
            ),
        )
    )
    status_before = git(repo, "status", "--porcelain")
    proc = _stream(["-p", "Split the work", "--swarm", "--yolo"], repo, server, isolated_dirs)
    try:
        _wait_for(proc, "tool_call_started", 1 + 2 * len(names), time.monotonic() + 60)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert git(repo, "status", "--porcelain") == status_before  # untouched, not half-merged
    assert sorted(b.rsplit("/", 1)[1] for b in _branches(repo)) == names
    for n in names:  # each agent's work so far is kept on its branch
        branch = next(b for b in _branches(repo) if b.endswith(f"/{n}"))
        assert git(repo, "show", f"{branch}:{n}.txt") == n
    assert subprocess.run(["pgrep", "-x", "-f", "sleep 31"], capture_output=True).returncode == 1
    cleaned = kimicode("swarm", "clean", cwd=repo)
    assert cleaned.code == 0, cleaned
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert len(_branches(repo)) == 3  # unmerged work is kept without --force
    forced = kimicode("swarm", "clean", "--force", cwd=repo)
    assert forced.code == 0, forced
    assert _branches(repo) == []
    assert git(repo, "for-each-ref", "refs/kimicode/") == ""


def test_sub_agents_run_the_checks_in_their_worktree(repo: Path, replay, kimicode) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text(
        '[checks]\ntest = "test ! -e bad.txt"\nrounds = 0\n'
    )
    server = replay(
        script(
            orchestrator([task("good", "good.txt"), task("bad", "bad.txt")]),
            _writer("good", "good.txt", "ok\n"),
            _writer("bad", "bad.txt", "broken\n"),
        )
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
    agents = {a["name"]: a for a in res.json()["agents"]}
    assert agents["good"]["checks"] == {"test": True}
    assert agents["bad"]["checks"] == {"test": False}
    report = requests_of(server)[-1]["messages"][-1]["content"]
    assert "checks: test FAILED" in report and "checks: test passed" in report
