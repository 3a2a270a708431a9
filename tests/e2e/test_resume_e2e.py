"""Ctrl-C mid-swarm, then `--continue`: unfinished agents resume, finished ones merge once."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from helpers import call, git, requests_of, script, sub_agent, task, turn
from test_swarm_e2e import _branches, _stream

DONE = ["done1", "done2"]
SLOW = ["slow1", "slow2"]


def _slow(name: str) -> tuple[str, list]:
    return sub_agent(
        name,
        [
            turn(tool_calls=[call("write_file", path=f"{name}.txt", content="draft\n")]),
            turn(tool_calls=[call("run_shell", command="sleep 30")]),
            turn(
                tool_calls=[call("write_file", path=f"{name}.txt", content="final\n")],
                expect={"request_contains": "interrupted"},  # its own history came back
            ),
            turn(f"{name} finished."),
        ],
    )


def _done(name: str) -> tuple[str, list]:
    return sub_agent(
        name,
        [
            turn(tool_calls=[call("write_file", path=f"{name}.txt", content=f"{name}\n")]),
            turn(f"{name} finished."),
        ],
    )


def _swarm(orchestrator_after_stop: list[dict]) -> dict:
    tasks = [task(n, f"{n}.txt") for n in DONE + SLOW]
    return script(
        (
            "^Split",
            [turn(tool_calls=[call("spawn_agents", tasks=tasks)]), *orchestrator_after_stop],
        ),
        *(_done(n) for n in DONE),
        *(_slow(n) for n in SLOW),
    )


def _interrupt(repo: Path, server, isolated_dirs: Path) -> str:
    """Run the swarm until the done agents finished and the slow ones sleep; Ctrl-C it."""
    proc = _stream(["-p", "Split the work", "--swarm", "--yolo"], repo, server, isolated_dirs)
    run_id, finished, sleeping = "", set(), set()
    deadline = time.monotonic() + 90
    try:
        assert proc.stdout is not None
        while time.monotonic() < deadline and (len(finished) < 2 or len(sleeping) < 2):
            line = proc.stdout.readline()
            if not line:
                break
            event = json.loads(line)
            if event["type"] == "swarm_started":
                run_id = event["run_id"]
            elif event["type"] == "agent_finished":
                finished.add(event["name"])
            elif event["type"] == "tool_call_started" and event["name"] == "run_shell":
                sleeping.add(event["agent"])
        assert finished == set(DONE) and sleeping == set(SLOW), (finished, sleeping)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    return run_id


def _calls_of(server, name: str) -> int:
    """Model calls routed to `name`'s scripted conversation."""
    index = 1 + (DONE + SLOW).index(name)
    return sum(1 for r in server.requests if r.get("conversation") == index)


def test_ctrl_c_then_continue_resumes_unfinished_agents_and_merges_all_once(
    repo: Path, replay, kimicode, isolated_dirs: Path
) -> None:
    after_stop = [
        # the continued session is told which agents can be resumed; bad names are refused
        turn(
            tool_calls=[call("spawn_agents", resume=[{"name": "done1"}, {"name": "ghost"}])],
            expect={"last_message_contains": "Resumable agents: slow1, slow2"},
        ),
        turn(tool_calls=[call("spawn_agents", resume=[{"name": "slow1"}, {"name": "slow2"}])]),
        # once merged, an agent is not resumed again
        turn(tool_calls=[call("spawn_agents", resume=[{"name": "slow1"}])]),
        turn("All done."),
    ]
    server = replay(_swarm(after_stop))
    run_id = _interrupt(repo, server, isolated_dirs)
    assert not any((repo / f"{n}.txt").exists() for n in DONE + SLOW)  # nothing half-merged

    listed = kimicode("swarm", "list", cwd=repo)
    assert listed.code == 0, listed
    assert run_id in listed.stdout and "stopped" in listed.stdout
    for n in SLOW:
        assert f"{n}" in listed.stdout
    assert listed.stdout.count("resumable (cancelled)") == 2
    assert listed.stdout.count("finished, not merged") == 2

    calls_before = {n: _calls_of(server, n) for n in DONE}
    res = kimicode(
        "-p", "carry on", "--continue", "--swarm", "--yolo", "--output-format", "json",
        cwd=repo, server=server,
    )  # fmt: skip
    assert res.code == 0, res
    assert server.errors == []
    out = res.json()
    assert out["status"] == "success", out
    for n in DONE:
        assert (repo / f"{n}.txt").read_text() == f"{n}\n"
        assert _calls_of(server, n) == calls_before[n]  # finished agents were not redone
    for n in SLOW:
        assert (repo / f"{n}.txt").read_text() == "final\n"
    agents = {a["name"]: a for a in out["agents"]}
    assert set(agents) == set(SLOW) and all(a["merged"] for a in agents.values())
    assert all(not a["resumable"] for a in agents.values())
    refusal = next(
        m["content"]
        for b in requests_of(server)
        for m in b["messages"]
        if m["role"] == "tool" and "cannot resume" in str(m.get("content"))
    )
    assert "done1 finished" in refusal and "no earlier sub-agent is named 'ghost'" in refusal
    last = requests_of(server)[-1]["messages"][-1]
    assert last["role"] == "tool" and "slow1 finished and its work is merged" in last["content"]
    report = next(
        m["content"]
        for b in requests_of(server)
        for m in b["messages"]
        if m["role"] == "tool" and "Also merged now" in str(m.get("content"))
    )
    assert "Also merged now" in report and "done1" in report and "done2" in report
    assert _branches(repo) == []
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    again = kimicode("swarm", "merge", run_id, cwd=repo)  # nothing is merged twice
    assert again.code == 0 and "no finished agent is waiting" in again.stdout, again


def test_swarm_merge_merges_a_stopped_runs_finished_agents_only(
    repo: Path, replay, kimicode, isolated_dirs: Path
) -> None:
    server = replay(_swarm([turn("unused")]))
    run_id = _interrupt(repo, server, isolated_dirs)
    merged = kimicode("swarm", "merge", run_id, cwd=repo)
    assert merged.code == 0, merged
    for n in DONE:
        assert (repo / f"{n}.txt").read_text() == f"{n}\n"
        assert f"merged {n}" in merged.stdout
    assert not any((repo / f"{n}.txt").exists() for n in SLOW)
    assert "still resumable" in merged.stdout and "slow1, slow2" in merged.stdout
    assert sorted(b.rsplit("/", 1)[1] for b in _branches(repo)) == SLOW
    unknown = kimicode("swarm", "merge", "nope", cwd=repo)
    assert unknown.code == 2 and "no swarm run 'nope'" in unknown.stderr + unknown.stdout


def test_a_resumed_agent_whose_branch_was_deleted_starts_over_and_says_so(
    repo: Path, replay, kimicode, isolated_dirs: Path
) -> None:
    after_stop = [
        turn(tool_calls=[call("spawn_agents", resume=[{"name": "slow1"}, {"name": "slow2"}])]),
        turn("All done."),
    ]
    server = replay(_swarm(after_stop))
    _interrupt(repo, server, isolated_dirs)
    branch = next(b for b in _branches(repo) if b.endswith("/slow1"))
    worktree = next(
        line.split()[0] for line in git(repo, "worktree", "list").splitlines() if "slow1" in line
    )
    git(repo, "worktree", "remove", "--force", worktree)
    git(repo, "branch", "-D", branch)
    # slow2 keeps its branch but loses its worktree: it is recreated at the branch
    other = next(
        line.split()[0] for line in git(repo, "worktree", "list").splitlines() if "slow2" in line
    )
    git(repo, "worktree", "remove", "--force", other)
    # its replayed third turn checks for its old history: without it, it must not be asked
    server.script.conversations[3].turns[2][1].pop("expect")
    res = kimicode(
        "-p", "carry on", "--continue", "--swarm", "--yolo", "--output-format", "json",
        cwd=repo, server=server,
    )  # fmt: skip
    assert res.code == 0, res
    assert server.errors == []  # slow2's replayed turn saw its own history again
    report = next(
        m["content"]
        for b in requests_of(server)
        for m in b["messages"]
        if m["role"] == "tool" and "sub-agents ran" in str(m.get("content"))
    )
    assert "slow1: success" in report and "was deleted, so it started over" in report
    assert "slow2: success" in report and report.count("started over") == 1
    first_after = [
        b for b in requests_of(server) if b["messages"][1]["content"].startswith("Task slow1:")
    ][-2]
    assert "interrupted" not in json.dumps(first_after["messages"])  # a fresh conversation
    assert (repo / "slow1.txt").read_text() == "final\n"
    assert (repo / "slow2.txt").read_text() == "final\n"
