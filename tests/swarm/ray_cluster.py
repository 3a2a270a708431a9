"""A real multi-node Ray cluster on loopback addresses, for the Ray backend tests.

Every node is a `ray start --block` process group of its own, on its own
loopback address (127.0.0.2 for the head, 127.0.0.3... for workers: Ray
rewrites 127.0.0.1, and no test traffic may leave 127.0.0.0/8), with ports
picked free so two clusters can run side by side. A worker node can be
started in a mount namespace of its own where given directories are empty
tmpfs mounts (and given files are /dev/null): that node cannot see the
driver's projects, or has no git. Nodes are stopped by their own processes
(their session, which Ray's workers keep, and a marker in their environment),
never with `ray stop`, which would end every Ray on the machine.

Nodes must not outlive the tests, even a pytest that is killed: each cluster
lists its nodes in a pidfile and starts a watchdog in a session of its own
that holds a pipe from the test process; when that pipe closes (the process
ended, however it ended), the watchdog stops every node still listed. An
`atexit` hook stops them on an ordinary exit too.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "KIMICODE_TEST_RAY_NODE"
START_TIMEOUT_S = 240


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    ip: str
    marker: str
    """Unique to this node, in its processes' environment (`KIMICODE_CACHE_DIR` too, which
    survives where Ray's agents overwrite the start of theirs with a process title)."""
    cache: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM then SIGKILL for every process of this node."""
        stop_node(self.proc.pid, self.marker, self.cache)
        self.proc.wait(timeout=10)


@dataclass(frozen=True)
class NodeSpec:
    ip: str
    role: list[str]
    """`--head ...` or `--address=HEAD`."""
    num_cpus: int
    resources: dict[str, int]
    hide: list[Path] = field(default_factory=list)
    pythonpath: list[Path] = field(default_factory=list)


@dataclass
class Cluster:
    workdir: Path
    address: str = ""
    nodes: list[Node] = field(default_factory=list)
    temp: Path | None = None
    """Ray's session folder (logs and sockets of every node)."""
    watchdog: subprocess.Popen[bytes] | None = None
    """Stops the nodes listed in `pidfile` when this process ends, however it ends."""

    @property
    def pidfile(self) -> Path:
        return self.workdir / "nodes.pids"

    def start_head(self, ip: str = "127.0.0.2", num_cpus: int = 1) -> Node:
        port = free_port(ip)
        self.address = f"{ip}:{port}"
        node = self._start(NodeSpec(ip, ["--head", f"--port={port}"], num_cpus, {"head": 1}))
        return node

    def add_worker(
        self,
        ip: str,
        num_cpus: int = 2,
        hide: list[Path] | None = None,
        pythonpath: list[Path] | None = None,
    ) -> Node:
        """A worker node; `hide`: folders (made empty) and files (made /dev/null) it cannot
        see; `pythonpath`: put before this checkout's, e.g. another kimicode."""
        assert self.address, "start the head first"
        role = [f"--address={self.address}"]
        return self._start(
            NodeSpec(ip, role, num_cpus, {"worker": 1}, hide or [], pythonpath or [])
        )

    def _start(self, spec: NodeSpec) -> Node:
        """Start a node, again if it failed: Ray gives a raylet 30 s to register, which a
        loaded machine can miss."""
        self._watch()
        for attempt in range(3):
            try:
                return self._start_once(spec)
            except RuntimeError:
                failed = self.nodes.pop()
                failed.stop()
                self._list_nodes()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self, spec: NodeSpec) -> Node:
        import json

        ip, role = spec.ip, spec.role
        marker = uuid.uuid4().hex
        log = self.workdir / f"node-{ip}-{marker[:8]}.log"
        ports = [free_port(ip) for _ in range(7)]
        low = free_port(ip)
        argv = [
            shutil.which("ray") or str(Path(sys.executable).parent / "ray"),
            "start",
            "--block",
            *role,
            f"--node-ip-address={ip}",
            f"--num-cpus={spec.num_cpus}",
            f"--resources={json.dumps(spec.resources)}",
            "--object-store-memory=100000000",
            "--disable-usage-stats",
            f"--node-manager-port={ports[0]}",
            f"--object-manager-port={ports[1]}",
            f"--dashboard-agent-listen-port={ports[2]}",
            f"--dashboard-agent-grpc-port={ports[3]}",
            f"--metrics-export-port={ports[4]}",
            f"--runtime-env-agent-port={ports[5]}",
            f"--min-worker-port={max(low, 20000)}",
            f"--max-worker-port={max(low, 20000) + 200}",
        ]
        if "--head" in role:
            argv += [
                "--include-dashboard=false",
                f"--dashboard-port={ports[6]}",
                f"--temp-dir={self._short_temp()}",
            ]
        if spec.hide:
            mounts = " && ".join(
                f"mount --bind /dev/null '{p}'" if p.is_file() else f"mount -t tmpfs hidden '{p}'"
                for p in spec.hide
            )
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    f'{mounts} && exec "$@"', "sh", *argv]  # fmt: skip
        env = dict(os.environ)
        env[MARKER] = marker
        env["RAY_USAGE_STATS_ENABLED"] = "0"
        cache = self.workdir / f"cache-{ip}-{marker[:8]}"
        env["KIMICODE_CACHE_DIR"] = str(cache)
        here = str(Path(__file__).parents[2])
        paths = [*map(str, spec.pythonpath), here, env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        node = Node(ip, marker, cache, proc, log)
        self.nodes.append(node)
        self._list_nodes()
        self._wait_for(node)
        return node

    def _watch(self) -> None:
        """Start the watchdog (once) and the atexit hook: no node outlives this process."""
        if self.watchdog is not None:
            return
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pidfile.write_text("")
        self.watchdog = subprocess.Popen(
            [sys.executable, __file__, "--reap", str(self.pidfile)],
            stdin=subprocess.PIPE,
            start_new_session=True,  # a signal to the tests' process group spares it
        )
        atexit.register(self.stop)

    def _list_nodes(self) -> None:
        lines = [f"{n.proc.pid} {n.marker} {n.cache}\n" for n in reversed(self.nodes)]
        if self.temp is not None:
            lines.append(f"temp {self.temp}\n")
        tmp = self.pidfile.with_suffix(".tmp")
        tmp.write_text("".join(lines))
        tmp.replace(self.pidfile)

    def _wait_for(self, node: Node) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            text = node.log.read_text(errors="replace")
            if "Ray runtime started" in text or ("--block" in text and "started" in text):
                return
            if node.proc.poll() is not None:
                raise RuntimeError(f"ray node {node.ip} exited:\n{text[-3000:]}")
            time.sleep(0.5)
        raise RuntimeError(f"ray node {node.ip} did not start:\n{node.log.read_text()[-3000:]}")

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()
        self.nodes.clear()
        if self.temp is not None:
            shutil.rmtree(self.temp, ignore_errors=True)
            self.temp = None
        if self.watchdog is not None:
            self.pidfile.write_text("")
            assert self.watchdog.stdin is not None
            self.watchdog.stdin.close()  # nothing left for it to stop: it exits
            self.watchdog.wait(timeout=30)
            self.watchdog = None
            atexit.unregister(self.stop)

    def _short_temp(self) -> Path:
        """Ray's session folder: short, since its unix socket paths must fit 107 bytes."""
        import tempfile

        self.temp = Path(tempfile.mkdtemp(prefix="kray-", dir="/tmp"))
        return self.temp


def stop_node(leader: int, marker: str, cache: Path) -> None:
    """SIGTERM, then SIGKILL, to every process of one node; waits until none is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _pids_of(leader, marker, cache)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _pids_of(leader, marker, cache):
            time.sleep(0.2)


def _pids_of(leader: int, marker: str, cache: Path) -> list[int]:
    """A node's processes: those in the session of its `ray start` (which Ray's workers keep),
    and those whose environment carries its marker; never this process."""
    needles = {f"{MARKER}={marker}".encode(), f"KIMICODE_CACHE_DIR={cache}".encode()}
    own: set[int] = set()
    session: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        pid = int(entry.name)
        try:
            environ = (entry / "environ").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if needles & set(environ.split(b"\0")):
            own.add(pid)
        if int(stat.rsplit(")", 1)[1].split()[3]) == leader:
            session.add(pid)
    # The session counts only while its leader is still this node's (pids are reused).
    return sorted(own | session) if leader in own else sorted(own)


def _reap(pidfile: Path) -> None:
    """The watchdog: wait for the tests' process to close our stdin, then stop what is listed."""
    sys.stdin.buffer.read()
    try:
        lines = pidfile.read_text().splitlines()
    except OSError:
        return
    for line in lines:
        first, _, rest = line.partition(" ")
        if first == "temp":
            shutil.rmtree(rest, ignore_errors=True)
            continue
        marker, _, cache = rest.partition(" ")
        stop_node(int(first), marker, Path(cache))


if __name__ == "__main__" and sys.argv[1:2] == ["--reap"]:
    _reap(Path(sys.argv[2]))
