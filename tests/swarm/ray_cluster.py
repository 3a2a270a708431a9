"""A real multi-node Ray cluster on loopback addresses, for the Ray backend tests.

Every node is a `ray start --block` process group of its own, on its own
loopback address (127.0.0.2 for the head, 127.0.0.3... for workers: Ray
rewrites 127.0.0.1, and no test traffic may leave 127.0.0.0/8), with ports
picked free so two clusters can run side by side. A worker node can be
started in a mount namespace of its own where given directories are empty
tmpfs mounts: that node cannot see the driver's projects at all. Nodes are
stopped by their own processes (found by a marker in their environment),
never with `ray stop`, which would end every Ray on the machine.
"""

from __future__ import annotations

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
        """SIGTERM then SIGKILL for every process of this node (its environment says so)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = _pids_with(self.marker, self.cache)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _pids_with(self.marker, self.cache):
                time.sleep(0.2)
        self.proc.wait(timeout=10)


@dataclass
class Cluster:
    workdir: Path
    address: str = ""
    nodes: list[Node] = field(default_factory=list)
    temp: Path | None = None
    """Ray's session folder (logs and sockets of every node)."""

    def start_head(self, ip: str = "127.0.0.2", num_cpus: int = 1) -> Node:
        port = free_port(ip)
        self.address = f"{ip}:{port}"
        node = self._start(ip, ["--head", f"--port={port}"], num_cpus, {"head": 1}, [])
        return node

    def add_worker(self, ip: str, num_cpus: int = 2, hide: list[Path] | None = None) -> Node:
        assert self.address, "start the head first"
        return self._start(ip, [f"--address={self.address}"], num_cpus, {"worker": 1}, hide or [])

    def _start(
        self, ip: str, role: list[str], num_cpus: int, resources: dict[str, int], hide: list[Path]
    ) -> Node:
        """Start a node, again if it failed: Ray gives a raylet 30 s to register, which a
        loaded machine can miss."""
        for attempt in range(3):
            try:
                return self._start_once(ip, role, num_cpus, resources, hide)
            except RuntimeError:
                failed = self.nodes.pop()
                failed.stop()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _start_once(
        self, ip: str, role: list[str], num_cpus: int, resources: dict[str, int], hide: list[Path]
    ) -> Node:
        import json

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
            f"--num-cpus={num_cpus}",
            f"--resources={json.dumps(resources)}",
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
        if hide:
            mounts = " && ".join(f"mount -t tmpfs kimicode-hidden '{p}'" for p in hide)
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    f'{mounts} && exec "$@"', "sh", *argv]  # fmt: skip
        env = dict(os.environ)
        env[MARKER] = marker
        env["RAY_USAGE_STATS_ENABLED"] = "0"
        cache = self.workdir / f"cache-{ip}-{marker[:8]}"
        env["KIMICODE_CACHE_DIR"] = str(cache)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in [str(Path(__file__).parents[2]), env.get("PYTHONPATH", "")] if p
        )
        with log.open("wb") as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        node = Node(ip, marker, cache, proc, log)
        self.nodes.append(node)
        self._wait_for(node)
        return node

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

    def _short_temp(self) -> Path:
        """Ray's session folder: short, since its unix socket paths must fit 107 bytes."""
        import tempfile

        self.temp = Path(tempfile.mkdtemp(prefix="kray-", dir="/tmp"))
        return self.temp


def _pids_with(marker: str, cache: Path) -> list[int]:
    needles = {f"{MARKER}={marker}".encode(), f"KIMICODE_CACHE_DIR={cache}".encode()}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needles & set(environ.split(b"\0")) and int(entry.name) != os.getpid():
            found.append(int(entry.name))
    return found
