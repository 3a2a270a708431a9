"""One agent's background processes: dev servers and watchers that outlive a tool call.

`run_shell` with `background: true` starts the command through the launcher
(sandboxed, scrubbed environment, its own process group) and returns an id
at once; `shell_output(id)` reads what it printed so far, `shell_kill(id)`
stops it with everything it started. `close()` kills whatever is left: the
session calls it when it ends, and each sub-agent has its own set, closed
when the sub-agent ends, so nothing outlives the agent that started it.

Each set has its own port, told to the commands as `PORT` (8 agents, 8 dev
servers, no clash). In the sandbox, a server on that port is made reachable
from this machine's loopback (for `render_page`) by `port_forward`.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kimicode.errors import ToolError
from kimicode.tools.port_forward import FORWARDER, Relay, free_port, port_taken

if TYPE_CHECKING:
    from kimicode.trust.launcher import ProcessSpec, RunningProcess

MAX_PROCESSES = 8
LISTEN_WAIT_S = 20.0
"""How long `wait_listening` gives a dev server to start accepting connections."""


@dataclass(slots=True)
class Background:
    id: str
    command: str
    process: RunningProcess
    started: float

    def status(self) -> str:
        if self.process.running:
            return f"running for {time.monotonic() - self.started:.0f} s"
        return f"exited with code {self.process.returncode}"


class BackgroundProcesses:
    """The background processes of one agent, and the port they serve on."""

    def __init__(self) -> None:
        self.port = free_port()
        self._procs: dict[str, Background] = {}
        self._count = 0
        self._relay: Relay | None = None
        self._sock_dir: Path | None = None

    def env_prefix(self) -> str:
        return f"export PORT={self.port}; "

    async def start(self, spec: ProcessSpec) -> Background:
        """Start `spec` in the background with `PORT` set, once the port is settled (a port
        this machine took meanwhile moves the server and its forwarder together)."""
        from dataclasses import replace

        from kimicode.trust.launcher import start_process

        running = [b for b in self._procs.values() if b.process.running]
        if len(running) >= MAX_PROCESSES:
            raise ToolError(
                f"{len(running)} background processes are running already "
                f"({', '.join(b.id for b in running)}); stop one with shell_kill first"
            )
        shown = spec.command
        if spec.sandbox is not None:
            await self._ensure_relay()
            assert self._sock_dir is not None
            sock = self._sock_dir / "port.sock"
            forwarder = shlex.join([sys.executable, "-c", FORWARDER, str(sock), str(self.port)])
            command = f"{forwarder} >/dev/null 2>&1 &\n{self.env_prefix()}{spec.command}"
            spec = replace(spec, command=command, writable=(*spec.writable, self._sock_dir))
        else:
            spec = replace(spec, command=self.env_prefix() + spec.command)
        process = await start_process(spec)
        self._count += 1
        item = Background(f"bg{self._count}", shown, process, time.monotonic())
        self._procs[item.id] = item
        return item

    async def _ensure_relay(self) -> None:
        if self._relay is not None:
            return
        if port_taken(self.port):
            old = self.port
            self.port = free_port()
            if port_taken(self.port):
                raise ToolError(f"port {old} is taken on this machine, and so is {self.port}")
        self._sock_dir = Path(tempfile.mkdtemp(prefix="kimicode-port-"))
        relay = Relay(self.port, self._sock_dir / "port.sock")
        try:
            await relay.start()
        except OSError as exc:
            raise ToolError(f"cannot listen on port {self.port} of this machine: {exc}") from None
        self._relay = relay

    def get(self, process_id: str) -> Background:
        item = self._procs.get(process_id.strip())
        if item is None:
            known = ", ".join(self._procs) or "none"
            raise ToolError(f"no background process {process_id!r} (started: {known})")
        return item

    def owns_port(self, port: int | None) -> bool:
        return port == self.port and any(b.process.running for b in self._procs.values())

    async def wait_listening(self, limit_s: float = LISTEN_WAIT_S) -> None:
        """Until something accepts connections on the port; a clear error with the output
        of the background processes when nothing does within `limit_s` (or all exited)."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if await self._listening():
                return
            if not any(b.process.running for b in self._procs.values()):
                break
            await asyncio.sleep(0.2)
        lines = [
            f"nothing accepts connections on port {self.port} (PORT) after {limit_s:g} s; "
            "is the server listening on $PORT (and on 127.0.0.1)? Its output:"
        ]
        for item in self._procs.values():
            out = item.process.output().strip() or "(no output)"
            lines.append(f"--- {item.id} ({item.status()}): {item.command.splitlines()[-1]}")
            lines.append(out[-3000:])
        raise ToolError("\n".join(lines))

    async def _listening(self) -> bool:
        if self._relay is not None:
            return await self._relay.listening()
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        writer.close()
        return True

    async def kill(self, process_id: str) -> Background:
        item = self.get(process_id)
        await item.process.kill()
        return item

    async def close(self) -> None:
        """Kill every process and stop the relay: the agent has ended."""
        procs, self._procs = list(self._procs.values()), {}
        await asyncio.gather(*(b.process.kill() for b in procs), return_exceptions=True)
        if self._relay is not None:
            await self._relay.close()
            self._relay = None
        if self._sock_dir is not None:
            shutil.rmtree(self._sock_dir, ignore_errors=True)
            self._sock_dir = None
