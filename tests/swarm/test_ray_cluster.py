"""The test cluster cleans up after a test process that was killed outright.

A `kill -9` of pytest runs no finalizer and no atexit hook; the nodes it had
started must still stop, or every killed run leaves a Ray cluster behind on a
shared machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ray_cluster import _pids_of

pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray"), pytest.mark.timeout(600)]

STARTS_A_NODE = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from ray_cluster import Cluster
cluster = Cluster(Path(sys.argv[2]))
node = cluster.start_head("127.0.0.5", num_cpus=0)
print(node.proc.pid, node.marker, node.cache, cluster.temp, flush=True)
time.sleep(3600)
"""


def test_a_killed_test_process_leaves_no_node_behind(tmp_path: Path) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", STARTS_A_NODE, str(Path(__file__).parent), str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert owner.stdout is not None
    line = owner.stdout.readline().split()
    assert line, "the node did not start"
    leader, marker, cache, temp = int(line[0]), line[1], Path(line[2]), Path(line[3])
    started = _pids_of(leader, marker, cache)
    assert leader in started and len(started) > 2  # ray start, gcs_server, raylet, ...
    assert temp.is_dir()
    os.kill(owner.pid, signal.SIGKILL)  # no finalizer, no atexit: only the watchdog is left
    owner.wait()
    deadline = time.monotonic() + 120
    while (_pids_of(leader, marker, cache) or temp.exists()) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = _pids_of(leader, marker, cache)
    for pid in left:  # do not leak them even when the claim fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
    assert not temp.exists()
