"""A swarm's agents recording their progress at once: every change lands, the writes are
shared, and an update is on disk by the time its caller goes on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kimicode.swarm import manifest


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KIMICODE_CACHE_DIR", str(tmp_path / "cache"))
    asyncio.run(manifest.start_run(tmp_path, "run1", "0" * 40, None))
    return tmp_path


def on_disk(root: Path) -> manifest.RunManifest:
    found = manifest.read_manifest(manifest.manifest_path(root, "run1"))
    assert found is not None
    return found


def test_a_hundred_agents_at_once_share_a_few_writes_and_lose_nothing(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = []
    real_write = manifest._write
    monkeypatch.setattr(manifest, "_write", lambda *a: (writes.append(1), real_write(*a)))

    async def agent(i: int) -> None:
        name = f"a{i:03d}"
        await manifest.update_agent(run, "run1", name, branch=f"b/{name}", worktree=f"w/{name}")
        await manifest.update_agent(run, "run1", name, status="committed", commit=f"{i:040d}")
        await manifest.update_agent(run, "run1", name, outcome="success")

    async def main() -> None:
        await asyncio.gather(*(agent(i) for i in range(100)))

    asyncio.run(main())
    agents = on_disk(run).agents
    assert sorted(agents) == [f"a{i:03d}" for i in range(100)]
    assert {(r.status, r.outcome) for r in agents.values()} == {("committed", "success")}
    assert agents["a042"].commit == f"{42:040d}" and agents["a042"].worktree == "w/a042"
    assert len(writes) <= 10  # 300 updates; one whole-file rewrite each was the old cost


def test_an_update_is_on_disk_when_its_caller_goes_on(run: Path) -> None:
    async def main() -> list[str | None]:
        seen = []
        await manifest.update_agent(run, "run1", "a", branch="b/a", worktree="w")
        for outcome in ("running", "limit", "success"):
            await manifest.update_agent(run, "run1", "a", outcome=outcome)
            seen.append(on_disk(run).agents["a"].outcome)
        return seen

    assert asyncio.run(main()) == ["running", "limit", "success"]


def test_a_cancelled_caller_does_not_drop_its_change(run: Path) -> None:
    async def main() -> None:
        await manifest.update_agent(run, "run1", "a", branch="b/a", worktree="w")
        waiting = asyncio.ensure_future(manifest.update_agent(run, "run1", "a", merged=True))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await manifest.update_agent(run, "run1", "a", outcome="success")

    asyncio.run(main())
    record = on_disk(run).agents["a"]
    assert record.merged and record.outcome == "success"


def test_changes_apply_in_the_order_they_were_made(run: Path) -> None:
    async def main() -> None:
        await manifest.update_agent(run, "run1", "a", branch="b/a", worktree="w")
        await asyncio.gather(
            *(manifest.update_agent(run, "run1", "a", commit=f"{i:040d}") for i in range(50))
        )

    asyncio.run(main())
    assert on_disk(run).agents["a"].commit == f"{49:040d}"


def test_a_transcript_holds_every_message_by_the_end_of_the_loop_turn(tmp_path: Path) -> None:
    from kimicode.swarm.resume import Transcript, load_history

    path = tmp_path / "agents" / "a.jsonl"
    messages = [{"role": "user", "content": f"m{i}"} for i in range(5)]

    async def main() -> list[object]:
        transcript = Transcript(path)
        transcript.restart(messages[:1])
        transcript(messages[1])  # an agent's first message comes in the same turn
        seen: list[object] = [path.exists()]  # one write for both, at the turn's end
        await asyncio.sleep(0)
        seen.append(len(load_history(path)))
        for message in messages[2:]:
            transcript(message)
            seen.append(len(load_history(path)))  # this turn's line is not out yet
            await asyncio.sleep(0)
            seen.append(len(load_history(path)))
        transcript.restart(messages[3:])  # starting over replaces what was there
        await asyncio.sleep(0)
        seen.append([m["content"] for m in load_history(path)])
        return seen

    assert asyncio.run(main()) == [False, 2, 2, 3, 3, 4, 4, 5, ["m3", "m4"]]
    Transcript(path)(messages[0])  # outside a loop: written at once
    assert [m["content"] for m in load_history(path)] == ["m3", "m4", "m0"]


def test_the_session_log_is_flushed_by_the_end_of_the_loop_turn(tmp_path: Path) -> None:
    from kimicode.sessions.store import SessionStore

    def lines() -> int:
        return len(next(tmp_path.glob("*.jsonl")).read_text().splitlines())

    async def main() -> list[int]:
        log = SessionStore(tmp_path).create(tmp_path, "m")
        seen = [lines()]
        log.write("note", text="a")
        log.write("note", text="b")
        seen.append(lines())
        await asyncio.sleep(0)
        seen.append(lines())
        log.write("note", text="c")
        log.close()
        seen.append(lines())
        return seen

    assert asyncio.run(main()) == [0, 0, 3, 4]  # the meta line too waits for the turn
