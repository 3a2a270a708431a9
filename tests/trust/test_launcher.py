"""The launcher with real processes: foreground, background, stdin and stderr, and the
scrubbed environment (the sandboxed path is covered through the binary elsewhere)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kimicode.tools.process_group import group_alive
from kimicode.trust.launcher import ProcessSpec, run_process, start_process


def spec(root: Path, command: str, **kw: object) -> ProcessSpec:
    return ProcessSpec(command=command, root=root, sandbox=None, **kw)  # type: ignore[arg-type]


async def test_foreground_returns_exit_code_and_output(tmp_path: Path) -> None:
    done = await run_process(spec(tmp_path, "echo out; echo err >&2; exit 3"))
    assert (done.exit_code, done.outcome) == (3, "done")
    assert done.output.splitlines() == ["out", "err"]


async def test_stdin_and_separate_stderr(tmp_path: Path) -> None:
    done = await run_process(
        spec(tmp_path, "cat; echo oops >&2", stdin=b"payload", separate_stderr=True)
    )
    assert done.output == "payload" and done.stderr == "oops\n"


async def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    done = await run_process(spec(tmp_path, "sleep 300 & sleep 300", timeout=0.5))
    assert done.exit_code is None and done.outcome == "timeout"


async def test_background_process_keeps_output_until_killed(tmp_path: Path) -> None:
    proc = await start_process(spec(tmp_path, "echo ready; (sleep 300 &); sleep 300"))
    try:
        async with asyncio.timeout(30):
            while "ready" not in proc.output():  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        assert proc.running
    finally:
        await proc.kill()
    assert not proc.running
    assert not await asyncio.to_thread(group_alive, proc.pid)


async def test_the_api_key_never_reaches_the_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIMICODE_API_KEY", "sk-launcher-secret")
    done = await run_process(spec(tmp_path, "env"))
    assert "sk-launcher-secret" not in done.output and "KIMICODE=1" in done.output


async def test_a_cancel_during_the_start_ends_the_whole_group(tmp_path: Path) -> None:
    """Whenever the cancel lands, nothing the command started is left running."""
    import asyncio
    import uuid

    from helpers import alive_with

    from kimicode.trust.launcher import start_process

    marker = f"start-{uuid.uuid4().hex[:8]}"
    command = f"export MARK={marker}; sleep 300 & sleep 300"
    for ticks in range(12):
        task = asyncio.ensure_future(start_process(spec(tmp_path, command)))
        for _ in range(ticks):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=15)
        assert done, f"the cancel after {ticks} ticks hung"
        if not task.cancelled():  # started before the cancel landed: end it as a caller would
            await task.result().kill()
    assert alive_with(marker) == []
