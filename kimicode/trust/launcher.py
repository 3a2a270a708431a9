"""One way to start a process on the model's behalf.

Everything kimicode runs whose content the model can influence (`run_shell`,
the `[checks]` commands that run the project's tests, `[swarm] setup`) and the
user's own hooks start here, so they all get the same treatment:

- a bash command line, in the agent's root (the project or a sub-agent's
  worktree);
- inside the sandbox (`Sandbox.wrap`) when one is given. `sandbox=` has no
  default on purpose: each caller says where its sandbox came from, and None
  only means "this run has none" (`[sandbox] mode = "off"`, or bwrap cannot
  start and the user was warned) or "this is the user's own hook";
- the scrubbed environment (`child_env`: no API key variables);
- its own session, so the whole process group is killed on timeout, on
  cancellation, and when something it started keeps the output open after
  it exited;
- output collected head-and-tail within a budget, with bounded memory.

Foreground (what every caller does today)::

    done = await run_process(ProcessSpec(command="pytest -q", root=root,
                                         sandbox=sandbox, timeout=120))
    done.exit_code, done.output, done.outcome   # None on timeout; "done" | ...

Background (the building block for long-lived processes such as dev
servers): `start_process` returns as soon as the process runs; its output
keeps being collected while the caller does other things::

    proc = await start_process(spec)
    proc.output()              # what it printed so far (head and tail)
    proc.running               # False once it exited
    await proc.wait(5.0)       # "done" | "timeout" | "lingering"; kills on timeout
    await proc.kill()          # the whole group, then the last output

A background manager keeps the `RunningProcess` handles it started and calls
`kill()` on each when the run ends; `timeout` in the spec is only read by
`run_process`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kimicode.errors import ToolError
from kimicode.spawn import spawn
from kimicode.tools.process_group import kill_group
from kimicode.tools.shell_output import OutputCapture
from kimicode.trust.sandbox import scrub_env

if TYPE_CHECKING:
    from kimicode.trust.sandbox import Sandbox

Outcome = Literal["done", "timeout", "lingering"]
DRAIN_S = 1.0
"""How long output may keep flowing after bash exits (background jobs holding the pipe)."""
EXIT_POLL_S = 0.05


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessSpec:
    """What to start, where, and under which rules."""

    command: str
    """A bash command line."""
    root: Path
    """Working directory, and the one writable place inside the sandbox."""
    sandbox: Sandbox | None
    """The run's sandbox; None only when the run has none, or for the user's own hooks."""
    timeout: float = 120.0
    """Seconds `run_process` waits before killing the group."""
    read_only: Sequence[Path] = ()
    """More paths the command must see (read-only) wherever they live, e.g. link targets."""
    writable: Sequence[Path] = ()
    """Directories besides the root the command may write, e.g. a port forwarder's socket."""
    stdin: bytes | None = None
    """Written to the command's stdin, which is then closed; None: stdin is /dev/null."""
    separate_stderr: bool = False
    """Collect stderr apart (hooks read it); by default it is merged into the output."""
    max_output: int = 30_000
    """Characters of output kept (head and tail)."""


@dataclass(frozen=True, slots=True)
class Finished:
    exit_code: int | None
    """None when the command was stopped for running past its timeout."""
    output: str
    stderr: str
    outcome: Outcome


@dataclass(slots=True, eq=False)
class RunningProcess:
    """A started command: its output is pumped into captures until it closes."""

    proc: asyncio.subprocess.Process
    output_capture: OutputCapture
    error_capture: OutputCapture | None
    _readers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        """Also the process group id: the command leads its own session."""
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def output(self) -> str:
        return self.output_capture.text()

    def stderr(self) -> str:
        return self.error_capture.text() if self.error_capture is not None else ""

    async def wait(self, limit_s: float | None) -> Outcome:
        """Until it ends ("done"), `limit_s` is up ("timeout": killed) or it exited but
        something it started still holds the output ("lingering": killed). A cancel
        kills the group."""
        exited: asyncio.Future[Any] = asyncio.create_task(_exited(self.proc))
        readers: asyncio.Future[Any] = asyncio.gather(*self._readers)
        try:
            try:
                async with asyncio.timeout(limit_s):
                    await asyncio.wait({readers, exited}, return_when=asyncio.FIRST_COMPLETED)
                    if readers.done():  # output closed: the command is ending
                        await self.proc.wait()
                        return "done"
            except TimeoutError:
                await self.kill()
                return "timeout"
            try:  # bash exited, but something it started may still hold the output open
                await asyncio.wait_for(asyncio.shield(readers), DRAIN_S)
            except TimeoutError:
                await self.kill()
                return "lingering"
            await self.proc.wait()
            return "done"
        except asyncio.CancelledError:
            await asyncio.shield(self.kill())
            raise
        finally:
            exited.cancel()

    async def kill(self) -> None:
        """Kill the group, then collect the last output; the pipes close once it is dead."""
        await kill_group(self.pid)
        try:
            await asyncio.wait_for(asyncio.gather(*self._readers), DRAIN_S)
            await asyncio.wait_for(self.proc.wait(), DRAIN_S)
        except TimeoutError:
            for reader in self._readers:
                reader.cancel()


async def run_process(spec: ProcessSpec) -> Finished:
    """Start the command and wait for it, at most `spec.timeout` seconds."""
    proc = await start_process(spec)
    outcome = await proc.wait(spec.timeout)
    code = None if outcome == "timeout" else proc.returncode
    return Finished(code, proc.output(), proc.stderr(), outcome)


async def start_process(spec: ProcessSpec) -> RunningProcess:
    """Start the command in its own session; a cancel during start-up still kills its group."""
    argv = ["bash", "-c", spec.command]
    if spec.sandbox is not None:
        argv = spec.sandbox.wrap(
            argv, spec.root, read_only=tuple(spec.read_only), writable=tuple(spec.writable)
        )
    try:
        proc = await spawn(
            *argv,
            stop=_end_group,
            cwd=spec.root,
            stdin=asyncio.subprocess.DEVNULL if spec.stdin is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE if spec.separate_stderr else asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=child_env(),
        )
    except OSError as exc:
        raise ToolError(f"could not start the command: {exc}") from None
    out = OutputCapture(spec.max_output)
    err = OutputCapture(spec.max_output) if spec.separate_stderr else None
    running = RunningProcess(proc, out, err)
    assert proc.stdout is not None
    running._readers.append(asyncio.create_task(_pump(proc.stdout, out)))
    if err is not None:
        assert proc.stderr is not None
        running._readers.append(asyncio.create_task(_pump(proc.stderr, err)))
    if spec.stdin is not None:
        assert proc.stdin is not None
        running._readers.append(asyncio.create_task(_feed(proc.stdin, spec.stdin)))
    return running


async def _end_group(proc: asyncio.subprocess.Process) -> None:
    await kill_group(proc.pid)


def child_env() -> dict[str, str]:
    """The environment of every process started here: the API key variables removed."""
    env = scrub_env(os.environ)
    env.update(KIMICODE="1", PAGER="cat", GIT_PAGER="cat", GIT_TERMINAL_PROMPT="0")
    return env


async def _exited(proc: asyncio.subprocess.Process) -> None:
    """Returns once bash itself has exited.

    `proc.wait()` also waits for the output pipe to close, which a background
    job may hold open for ever; asyncio sets `returncode` as soon as the exit
    is seen, so poll that instead.
    """
    while proc.returncode is None:  # noqa: ASYNC110
        await asyncio.sleep(EXIT_POLL_S)


async def _pump(stream: asyncio.StreamReader, capture: OutputCapture) -> None:
    while chunk := await stream.read(65536):
        capture.feed(chunk)


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    """Write the input and close; a command that does not read it is not an error."""
    try:
        stdin.write(data)
        await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        stdin.close()
