from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from tool_helpers import call, make_ctx, process_running, running_with_cmdline

from kimicode.errors import ToolError
from kimicode.tools.run_shell import RunShell


async def shell(root: Path, command: str, **arguments: object):
    return await call(RunShell(), make_ctx(root), command=command, **arguments)


def read_when_written(path: Path) -> str:
    """The file's content once the command has written it (polled from a thread)."""
    for _ in range(1000):
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.01)
    raise AssertionError(f"{path} was never written")


async def test_output_and_exit_code(tmp_path: Path) -> None:
    result = await shell(tmp_path, "echo out; echo err >&2; exit 3")
    assert result.text == "out\nerr\n\nexit code 3"
    assert not result.is_error


async def test_runs_in_the_root_with_stdin_closed(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    result = await call(RunShell(), ctx, command="pwd; cat; echo done")
    assert result.text == f"{ctx.workspace.root}\ndone\n\nexit code 0"


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    result = await shell(
        tmp_path, "sleep 1000 & echo $! > bg.pid; echo started; sleep 1000", timeout=1
    )
    assert result.is_error
    assert result.text.startswith("started\n")
    assert "timed out after 1 s" in result.text
    assert not process_running(int((tmp_path / "bg.pid").read_text()))


async def test_cancellation_kills_the_group_and_propagates(tmp_path: Path) -> None:
    task = asyncio.create_task(shell(tmp_path, "sleep 1000 & echo $! > bg.pid; sleep 1000"))
    pid = int(await asyncio.to_thread(read_when_written, tmp_path / "bg.pid"))
    assert process_running(pid)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not process_running(pid)


@pytest.mark.timeout(60)
async def test_cancelling_at_any_moment_of_start_up_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    duration = f"1000.{os.getpid()}"  # a command line only this test runs
    command = f"sleep {duration} & sleep {duration}"

    async def start_then_cancel(i: int) -> None:
        task = asyncio.create_task(shell(tmp_path, command))
        await asyncio.sleep(0.001 * (i % 10))
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    await asyncio.gather(*(start_then_cancel(i) for i in range(20)))
    assert running_with_cmdline(f"sleep {duration}") == []


async def test_background_job_holding_the_output_is_stopped(tmp_path: Path) -> None:
    result = await shell(tmp_path, "sleep 1000 & echo $! > bg.pid; echo ok")
    assert result.text.startswith("ok\n\nexit code 0\nbackground processes")
    assert not process_running(int((tmp_path / "bg.pid").read_text()))


async def test_a_detached_server_keeps_running(tmp_path: Path) -> None:
    result = await shell(tmp_path, "nohup sleep 1000 > /dev/null 2>&1 & echo $! > bg.pid")
    assert result.text == "exit code 0"
    pid = int((tmp_path / "bg.pid").read_text())
    try:
        assert process_running(pid)
    finally:
        os.kill(pid, signal.SIGKILL)


async def test_long_output_keeps_head_and_tail(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.settings.shell.max_output = 1000
    result = await call(RunShell(), ctx, command="seq 1 100000")
    text = result.text
    assert text.startswith("1\n2\n3\n")
    assert text.endswith("99999\n100000\n\nexit code 0")
    total = sum(len(f"{i}\n") for i in range(1, 100001))
    assert f"[… {total - 1000} characters cut …]" in text
    assert len(text) < 1100


async def test_output_slightly_over_the_budget_is_cut_exactly(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    ctx.settings.shell.max_output = 100
    result = await call(
        RunShell(), ctx, command="printf 'a%.0s' $(seq 1 150); printf 'z%.0s' $(seq 1 150)"
    )
    head, marker, tail = result.text.split("\n")[:3]
    assert head == "a" * 50
    assert marker == "[… 200 characters cut …]"
    assert tail == "z" * 50


async def test_api_keys_are_not_visible_and_kimicode_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("KIMICODE_API_KEY", "MOONSHOT_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.setenv(name, f"sk-secret-{name}")
    monkeypatch.setenv("UNRELATED_SETTING", "visible")
    result = await shell(tmp_path, "env")
    assert "sk-secret" not in result.text
    assert "KIMICODE=1" in result.text.splitlines()
    assert "UNRELATED_SETTING=visible" in result.text.splitlines()


async def test_sandbox_hook_wraps_the_command(tmp_path: Path) -> None:
    class PrefixSandbox:
        def wrap(self, argv: list[str], root: Path, **_: object) -> list[str]:
            return ["env", f"SANDBOX_ROOT={root}", *argv]

    ctx = make_ctx(tmp_path, sandbox=PrefixSandbox())
    result = await call(RunShell(), ctx, command="echo $SANDBOX_ROOT")
    assert result.text == f"{ctx.workspace.root}\n\nexit code 0"


async def test_an_empty_command_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="empty"):
        await shell(tmp_path, "  ")
