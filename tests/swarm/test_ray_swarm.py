"""The swarm on a real local Ray cluster, through the real binary.

The cluster: a head with no CPUs for tasks (so every agent must go to a
worker) and a worker node on 127.0.0.3 started in a mount namespace where the
folder holding the driver's projects is an empty tmpfs: whatever an agent
there does, it cannot have read the user's project, only the bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ray_cluster import Cluster
from swarm_helpers import git

sys.path.insert(0, str(Path(__file__).parents[1]))
from helpers import alive_with, call, requests_of, script, turn

import kimicode
from kimicode.replay.server import ReplayServer

pytest.importorskip("ray")
pytestmark = [pytest.mark.ray, pytest.mark.xdist_group("ray"), pytest.mark.timeout(900)]

KEY = "sk-ray-test-0123456789"


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ray-projects")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, projects: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("ray-cluster"))
    try:
        running.start_head("127.0.0.2", num_cpus=0)
        running.add_worker("127.0.0.3", num_cpus=3, hide=[projects])
        yield running
    finally:
        running.stop()


@pytest.fixture
def project(projects: Path, request: pytest.FixtureRequest) -> Path:
    root = Path(tempfile.mkdtemp(prefix=request.node.name[:40], dir=projects))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Dev")
    git(root, "config", "user.email", "dev@example.com")
    for name in ("alpha", "beta", "gamma"):
        (root / f"{name}.txt").write_text(f"{name} v1\n")
    (root / "README.md").write_text("# on a cluster\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


def configure(root: Path, cluster: Cluster, extra: str = "", before: str = "") -> None:
    """`extra` goes under [swarm.ray], `before` ahead of [swarm] (other sections)."""
    (root / ".kimicode").mkdir(exist_ok=True)
    (root / ".kimicode" / "config.toml").write_text(
        f'{before}[swarm]\nbackend = "ray"\n[swarm.ray]\naddress = "{cluster.address}"\n{extra}'
    )


def swarm_script(
    names: list[str], last_latency_ms: int = 0, middle_latency_ms: int = 0
) -> dict[str, Any]:
    tasks = [
        {"name": n, "prompt": f"Task {n}: rewrite {n}.txt", "files": [f"{n}.txt"]} for n in names
    ]
    subs = [
        (
            f"^Task {n}:",
            [
                turn(tool_calls=[call("read_file", path=f"{n}.txt")]),
                turn(tool_calls=[rewrite(n)], latency_ms=middle_latency_ms),
                turn(f"{n} rewritten.", latency_ms=last_latency_ms),
            ],
        )
        for n in names
    ]
    return script(
        ("^Split", [turn(tool_calls=[call("spawn_agents", tasks=tasks)]), turn("All merged.")]),
        *subs,
    )


def rewrite(name: str) -> dict[str, Any]:
    return call("write_file", path=f"{name}.txt", content=f"{name} v2\n")


def run_cli(
    root: Path, server: ReplayServer, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KIMICODE_API_KEY=KEY, KIMICODE_BASE_URL=server.url)
    return subprocess.run(
        [sys.executable, "-m", "kimicode", "-p", "--swarm", "--yolo", *args],
        cwd=root, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def start_cli(root: Path, server: ReplayServer) -> subprocess.Popen[str]:
    """The swarm run of `run_cli`, streaming, for tests that act while it runs."""
    env = dict(os.environ, KIMICODE_API_KEY=KEY, KIMICODE_BASE_URL=server.url)
    return subprocess.Popen(
        [sys.executable, "-m", "kimicode", "-p", "--swarm", "--yolo",
         "--output-format", "stream-json", "Split the work"],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_agents_run_on_the_worker_node_and_merge_here(
    cluster: Cluster, project: Path, replay
) -> None:
    configure(project, cluster)
    # the project's instructions, kept out of git: only the driver can read them
    (project / "AGENTS.md").write_text("Write British spelling: colour.\n")
    with (project / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write("AGENTS.md\n")
    names = ["alpha", "beta", "gamma"]
    server = replay(swarm_script(names))
    proc = run_cli(project, server, "--output-format", "stream-json", "Split the work")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    for name in names:
        mine = [
            b
            for b in requests_of(server)
            if b["messages"][1]["content"].startswith(f"Task {name}:")
        ]
        assert mine and all("British spelling" in b["messages"][0]["content"] for b in mine)
    stream = events(proc.stdout)
    spawned = {e["name"]: e for e in stream if e["type"] == "agent_spawned"}
    assert set(spawned) == set(names)
    assert all(e["node"] and e["node"].endswith("@127.0.0.3") for e in spawned.values())
    tool_calls = [e for e in stream if e["type"] == "tool_call_finished" and e["agent"] in names]
    assert len(tool_calls) == 6  # the workers' events reached the driver's stream
    result = stream[-1]
    assert result["type"] == "result" and result["status"] == "success"
    assert sorted(a["name"] for a in result["agents"] if a["merged"]) == names
    for name in names:
        assert (project / f"{name}.txt").read_text() == f"{name} v2\n"
    # The key reached the node only in the task's environment: no file there holds it,
    # neither the node's cache (the unpacked base, the worktrees) nor Ray's logs.
    for where in (cluster.nodes[1].cache, cluster.temp):
        assert where is not None and where.is_dir()
        leaks = [p for p in where.rglob("*") if p.is_file() and KEY.encode() in _read(p)]
        assert leaks == []
    status = git(project, "status", "--porcelain").splitlines()
    assert sorted(s for s in status if ".kimicode" not in s) == [
        " M alpha.txt",
        " M beta.txt",
        " M gamma.txt",
    ]


def test_an_unreachable_cluster_is_a_usage_error(project: Path, replay) -> None:
    (project / ".kimicode").mkdir()
    (project / ".kimicode" / "config.toml").write_text(
        '[swarm]\nbackend = "ray"\n[swarm.ray]\naddress = "127.0.0.9:1"\n'
    )
    server = replay(swarm_script(["alpha"]))
    proc = run_cli(project, server, "--output-format", "json", "Split the work", timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "127.0.0.9:1" in proc.stdout + proc.stderr


def test_a_base_over_the_bundle_limit_starts_no_agent(
    cluster: Cluster, project: Path, replay
) -> None:
    configure(project, cluster, "max_bundle_bytes = 200\n")
    server = replay(swarm_script(["alpha"]))
    proc = run_cli(project, server, "--output-format", "stream-json", "Split the work")
    stream = events(proc.stdout)
    assert not [e for e in stream if e["type"] == "agent_spawned"]
    spawn_result = next(e for e in stream if e["type"] == "tool_call_finished")
    assert "over [swarm.ray] max_bundle_bytes" in json.dumps(spawn_result)
    assert (project / "alpha.txt").read_text() == "alpha v1\n"


def test_the_endpoints_cap_holds_across_nodes(cluster: Cluster, project: Path, replay) -> None:
    second = cluster.add_worker("127.0.0.4", num_cpus=3)
    try:
        names = ["alpha", "beta", "gamma", "delta", "eps", "zeta"]
        for name in names[3:]:
            (project / f"{name}.txt").write_text(f"{name} v1\n")
        git(project, "add", "-A")
        git(project, "commit", "-qm", "more")
        configure(project, cluster, before="[model]\nmax_concurrency = 2\n")
        # Six agents at once on two nodes, every answer slow: far more than two would be
        # in flight if each agent's process kept its own limit.
        script = swarm_script(names, last_latency_ms=3000, middle_latency_ms=3000)
        server = replay(script, max_in_flight=2)
        proc = run_cli(project, server, "--output-format", "stream-json", "Split the work")
        assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    finally:
        second.stop()
    stream = events(proc.stdout)
    nodes = {e["node"].split("@")[1] for e in stream if e["type"] == "agent_spawned"}
    assert nodes == {"127.0.0.3", "127.0.0.4"}
    result = stream[-1]
    assert sorted(a["name"] for a in result["agents"] if a["merged"]) == sorted(names)
    assert server.cap.throttled == 0  # never a 429: the cluster never sent a third
    assert server.cap.peak_in_flight == 2
    assert result["rate_limit"]["throttled"] == 0
    assert not [e for e in stream if e["type"] == "rate_limited"]


@pytest.fixture
def mismatched_cluster(tmp_path: Path, projects: Path) -> Iterator[Cluster]:
    """A cluster with one node that runs another kimicode and one that has no git."""
    other = tmp_path / "other-kimicode"
    shutil.copytree(
        Path(kimicode.__file__).parent,
        other / "kimicode",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    init = other / "kimicode" / "__init__.py"
    init.write_text(init.read_text().replace(kimicode.__version__, "0.0.0+other"))
    gits = [Path(d) / "git" for d in os.environ["PATH"].split(os.pathsep)]
    running = Cluster(tmp_path / "cluster")
    try:
        running.start_head("127.0.0.5", num_cpus=0)
        running.add_worker("127.0.0.6", num_cpus=1, pythonpath=[other])
        running.add_worker(
            "127.0.0.7", num_cpus=1, hide=sorted({g.resolve() for g in gits if g.is_file()})
        )
        yield running
    finally:
        running.stop()


def test_a_node_with_another_version_or_no_git_starts_no_agent(
    mismatched_cluster: Cluster, project: Path, replay
) -> None:
    configure(project, mismatched_cluster)
    server = replay(swarm_script(["alpha"]))
    proc = run_cli(project, server, "--output-format", "stream-json", "Split the work")
    stream = events(proc.stdout)
    assert not [e for e in stream if e["type"] == "agent_spawned"], proc.stderr[-3000:]
    spawn = next(e for e in stream if e["type"] == "tool_call_finished")
    assert not spawn["ok"]
    said = spawn["output"]
    assert "the Ray cluster cannot run this swarm" in said
    assert f"node 127.0.0.6 runs kimicode 0.0.0+other, this machine {kimicode.__version__}" in said
    assert "node 127.0.0.7 has no git" in said
    assert "127.0.0.5" not in said  # the head is fine
    assert (project / "alpha.txt").read_text() == "alpha v1\n"
    asked = [r for r in server.requests if r["conversation"] == 1]
    assert asked == []  # no sub-agent asked the model anything


def test_ctrl_c_keeps_each_agents_work_on_its_branch(
    cluster: Cluster, project: Path, replay
) -> None:
    configure(project, cluster)
    names = ["alpha", "beta"]
    # Each agent's last answer is slow to come: Ctrl-C lands while they wait for it.
    server = replay(swarm_script(names, last_latency_ms=120_000))
    proc = start_cli(project, server)
    seen: list[dict[str, Any]] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("{"):
            seen.append(json.loads(line))
        writes = [
            e for e in seen if e["type"] == "tool_call_finished" and e["name"] == "write_file"
        ]
        if len(writes) == len(names):
            break
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, (err[-3000:], rest[-3000:])
    notices = [e["message"] for e in events(rest) if e["type"] == "notice"]
    for name in names:
        assert (project / f"{name}.txt").read_text() == f"{name} v1\n"  # tree untouched
    branches = git(project, "branch", "--list", "kimicode/*").split()
    for name in names:
        mine = [b for b in branches if b.endswith(f"/{name}")]
        assert mine, (name, branches, notices)
        branch = mine[0]
        assert git(project, "show", f"{branch}:{name}.txt") == f"{name} v2\n"


def _unsandboxed(project: Path, cluster: Cluster) -> str:
    """No sandbox (whose --die-with-parent could end the servers for us): a marker."""
    configure(project, cluster, '[sandbox]\nmode = "off"\n')
    return f"rayserve-{os.getpid()}-{time.monotonic_ns()}"


def _serving(names: list[str], marker: str, last_latency_ms: int = 0) -> dict[str, Any]:
    """Each agent starts a server in the background on its $PORT, rewrites its file and
    reads the server's output (`marker` is in the server's environment)."""
    tasks = [
        {"name": n, "prompt": f"Task {n}: rewrite {n}.txt", "files": [f"{n}.txt"]} for n in names
    ]
    serve = f"export MARK={marker}; exec python3 -m http.server $PORT --bind 127.0.0.1"
    subs = [
        (
            f"^Task {n}:",
            [
                turn(tool_calls=[call("run_shell", background=True, command=serve)]),
                turn(tool_calls=[call("write_file", path=f"{n}.txt", content=f"{n} v2\n")]),
                turn(tool_calls=[call("shell_output", id="bg1")]),
                turn(f"{n} rewritten.", latency_ms=last_latency_ms),
            ],
        )
        for n in names
    ]
    return script(
        ("^Split", [turn(tool_calls=[call("spawn_agents", tasks=tasks)]), turn("All merged.")]),
        *subs,
    )


def test_background_servers_on_the_node_end_with_their_agents(
    cluster: Cluster, project: Path, replay
) -> None:
    names, marker = ["alpha", "beta"], _unsandboxed(project, cluster)
    server = replay(_serving(names, marker))
    proc = run_cli(project, server, "--output-format", "stream-json", "Split the work")
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    stream = events(proc.stdout)
    started = [
        e for e in stream
        if e["type"] == "tool_call_finished" and e["name"] == "run_shell" and e["agent"] in names
    ]  # fmt: skip
    assert len(started) == 2 and all("started in the background" in e["output"] for e in started)
    read = [e["output"] for e in stream if e["type"] == "tool_call_finished"
            and e["name"] == "shell_output"]  # fmt: skip
    assert len(read) == 2 and all("bg1: running" in out for out in read), read
    assert stream[-1]["status"] == "success"
    assert alive_with(marker) == []  # nothing the agents started outlives them on the node


def test_ctrl_c_ends_the_agents_background_servers_on_the_node(
    cluster: Cluster, project: Path, replay
) -> None:
    names, marker = ["alpha", "beta"], _unsandboxed(project, cluster)
    server = replay(_serving(names, marker, last_latency_ms=120_000))
    proc = start_cli(project, server)
    assert proc.stdout is not None
    reads = 0
    deadline = time.monotonic() + 400
    while reads < len(names) and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("{"):
            event = json.loads(line)
            if event["type"] == "tool_call_finished" and event["name"] == "shell_output":
                assert "bg1: running" in event["output"], event
                reads += 1
    assert reads == len(names)
    assert alive_with(marker), "the servers run on the node before Ctrl-C"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-3000:]
    assert alive_with(marker) == []
    branches = git(project, "branch", "--list", "kimicode/*").split()
    for name in names:  # the work is back on each agent's branch
        mine = [b for b in branches if b.endswith(f"/{name}")]
        assert mine, (name, branches, err[-3000:])
        branch = mine[0]
        assert git(project, "show", f"{branch}:{name}.txt") == f"{name} v2\n"


@pytest.mark.parametrize("retries", [0, 1])
def test_a_node_that_dies_fails_or_restarts_its_agents_and_the_others_merge(
    cluster: Cluster, project: Path, replay, retries: int
) -> None:
    doomed = cluster.add_worker("127.0.0.4", num_cpus=2)
    names = ["alpha", "beta", "gamma", "delta", "eps"]
    for name in names[3:]:
        (project / f"{name}.txt").write_text(f"{name} v1\n")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "more")
    configure(project, cluster, f"retries = {retries}\n")
    # Every agent's second answer takes a while: the node is killed in that window.
    server = replay(swarm_script(names, middle_latency_ms=45_000))
    proc = start_cli(project, server)
    assert proc.stdout is not None
    nodes: dict[str, str] = {}
    lines: list[str] = []
    while len(nodes) < len(names):
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "no output"
        lines.append(line)
        if line.startswith("{"):
            event = json.loads(line)
            if event["type"] == "agent_spawned":
                nodes[event["name"]] = event["node"]
    lost = sorted(n for n, where in nodes.items() if where.endswith("@127.0.0.4"))
    kept = sorted(n for n in names if n not in lost)
    assert lost and kept, nodes  # five one-CPU agents cannot all fit on one node
    doomed.stop()
    rest, err = proc.communicate(timeout=600)
    stream = events("".join(lines) + rest)
    result = stream[-1]
    assert result["type"] == "result", (stream[-5:], err[-3000:])
    agents = {a["name"]: a for a in result["agents"]}
    assert set(agents) == set(names), (result, err[-3000:])
    for name in kept:
        assert agents[name]["merged"], agents[name]
        assert (project / f"{name}.txt").read_text() == f"{name} v2\n"
    finished = {e["name"]: e for e in stream if e["type"] == "agent_finished"}
    assert set(finished) == set(names), (sorted(finished), err[-2000:])
    if retries == 0:
        assert proc.returncode == 1 and result["status"] == "error", (result, err[-2000:])
        for name in lost:
            assert agents[name]["status"] == "error" and not agents[name]["merged"]
            assert (project / f"{name}.txt").read_text() == f"{name} v1\n"
            assert "on the cluster" in (finished[name]["error"] or ""), finished[name]
            assert finished[name]["node"].endswith("@127.0.0.4")
        assert f"sub-agent {lost[0]} error: on the cluster" in result["error"]
        assert all(agents[n]["resumable"] for n in lost), result["agents"]
        assert not any(agents[n]["resumable"] for n in kept)
        # Resumed, they start over (their worktrees died with the node) and are merged.
        resume = [{"name": n} for n in lost]
        redo = [
            (f"^Task {n}:", [turn(tool_calls=[rewrite(n)]), turn(f"{n} redone.")]) for n in lost
        ]
        spawn = turn(tool_calls=[call("spawn_agents", resume=resume)])
        again = replay(script(("^Split", [spawn, turn("Done.")]), *redo))
        proc = run_cli(
            project, again, "--continue", "--output-format", "stream-json", "Resume the lost"
        )
        assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
        resumed = {a["name"]: a for a in events(proc.stdout)[-1]["agents"]}
        assert sorted(resumed) == lost and all(a["merged"] for a in resumed.values())
        for name in names:
            assert (project / f"{name}.txt").read_text() == f"{name} v2\n"
    else:  # started again on the node that lives, and merged like the others
        assert proc.returncode == 0, (result, err[-2000:])
        notices = [e for e in stream if e["type"] == "notice" and e["agent"] in lost]
        for name in lost:
            assert agents[name]["merged"], agents[name]
            assert (project / f"{name}.txt").read_text() == f"{name} v2\n"
            assert finished[name]["node"].endswith("@127.0.0.3")
            assert any("started again on" in e["message"] for e in notices if e["agent"] == name)
