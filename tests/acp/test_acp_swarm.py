"""The swarm over ACP: a plan entry per sub-agent, their tool calls tagged with their names,
the merged diffs as a final update; and a client that disconnects mid-swarm."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import acp
from acp_client import CAPABILITIES, RecordingClient, no_process, running_agent, transcript
from helpers import call, git, orchestrator, script, sub_agent, task, turn

NAMES = ["a1", "a2", "a3", "a4"]


def _branches(repo: Path) -> list[str]:
    return git(repo, "branch", "--list", "kimicode/*", "--format=%(refname:short)").split()


async def _session(conn, repo: Path) -> str:
    await conn.initialize(protocol_version=acp.PROTOCOL_VERSION, client_capabilities=CAPABILITIES)
    return (await conn.new_session(cwd=str(repo), mcp_servers=[])).session_id


async def test_a_swarm_of_four_shows_its_plan_tool_calls_and_merged_diffs(
    repo: Path, replay, tmp_path
) -> None:
    server = replay(
        script(
            orchestrator([task(n, f"docs/{n}.md") for n in NAMES], final="Four pages written."),
            *(
                sub_agent(
                    n,
                    [
                        turn(
                            tool_calls=[
                                call("write_file", path=f"docs/{n}.md", content=f"# {n}\n")
                            ],
                            latency_ms=300,
                        ),
                        turn(f"{n} wrote its page."),
                    ],
                )
                for n in NAMES
            ),
        )
    )
    client = RecordingClient()
    args = ("--swarm", "--yolo", "--max-agents", "4")
    async with running_agent(client, repo, server.url, *args, stderr_to=tmp_path / "err") as (
        conn,
        _,
    ):
        sid = await _session(conn, repo)
        done = await conn.prompt(session_id=sid, prompt=[acp.text_block("Split the work")])
    if path := os.environ.get("KIMICODE_ACP_TRANSCRIPT"):
        await asyncio.to_thread(
            Path(path).write_text, transcript(client.received, width=600) + "\n"
        )
    assert done.stop_reason == "end_turn"
    assert client.text() == "Four pages written."
    plans = [[(e.content.split(":")[0], e.status) for e in p.entries] for p in client.of("plan")]
    assert plans[0] == [(n, "pending") for n in NAMES]
    assert any(("a1", "in_progress") in p for p in plans)
    last = client.of("plan")[-1].entries
    assert [e.status for e in last] == ["completed"] * 4
    assert all("success, merged" in e.content for e in last)
    # each sub-agent's tool call is tagged with its name
    subs = [u for u in client.of("tool_call") if u.title.startswith("[")]
    assert sorted(u.title for u in subs) == [f"[{n}] Write docs/{n}.md" for n in NAMES]
    assert sorted(u.field_meta["kimicode"]["agent"] for u in subs) == NAMES
    assert {u.tool_call_id.split(":")[0] for u in subs} == set(NAMES)
    # the merge is the final tool call: every merged file's before and after, for the diff view
    merge = next(u for u in client.of("tool_call") if u.tool_call_id.startswith("swarm:"))
    assert merge.title == "Swarm merged 4 of 4 agents (4 files, 0 failed, 0 conflicts)"
    assert merge.status == "completed"
    diffs = {c.path: (c.old_text, c.new_text) for c in merge.content if c.type == "diff"}
    assert diffs == {str(repo / "docs" / f"{n}.md"): (None, f"# {n}\n") for n in NAMES}
    for n in NAMES:
        assert (repo / "docs" / f"{n}.md").read_text() == f"# {n}\n"
    assert _branches(repo) == []  # merged cleanly, nothing left behind
    methods = [m.get("method") for m in client.received if "method" in m]
    assert set(methods) == {"session/update"}


async def test_a_disconnect_mid_swarm_cancels_it_and_keeps_the_work(
    repo: Path, replay, tmp_path
) -> None:
    names = NAMES[:3]
    server = replay(
        script(
            orchestrator([task(n, f"{n}.txt") for n in names]),
            *(
                sub_agent(
                    n,
                    [
                        turn(tool_calls=[call("write_file", path=f"{n}.txt", content=n)]),
                        turn(tool_calls=[call("run_shell", command="sleep 32")]),
                        turn("never"),
                    ],
                )
                for n in names
            ),
        )
    )
    status_before = git(repo, "status", "--porcelain")
    client = RecordingClient()
    args = ("--swarm", "--yolo")
    async with running_agent(client, repo, server.url, *args, stderr_to=tmp_path / "err") as (
        conn,
        proc,
    ):
        sid = await _session(conn, repo)
        prompt = asyncio.create_task(
            conn.prompt(session_id=sid, prompt=[acp.text_block("Split the work")])
        )

        def all_sleeping() -> bool:
            return sum("sleep 32" in u.title for u in client.of("tool_call")) == len(names)

        await client.wait_for(all_sleeping, 120)
        await asyncio.sleep(0.5)
    # leaving the block closed the agent's stdin: the editor went away
    assert proc.returncode == 0
    prompt.cancel()
    await asyncio.gather(prompt, return_exceptions=True)
    assert git(repo, "status", "--porcelain") == status_before  # not half-merged
    assert sorted(b.rsplit("/", 1)[1] for b in _branches(repo)) == names
    for n in names:
        branch = next(b for b in _branches(repo) if b.endswith(f"/{n}"))
        assert git(repo, "show", f"{branch}:{n}.txt") == n
    assert await no_process("sleep 32")
