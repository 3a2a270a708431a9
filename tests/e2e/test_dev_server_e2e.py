"""Background processes through the real binary: a dev server started by the agent in
the sandbox is reachable by render_page on the agent's $PORT, its output readable, and
nothing it started outlives the session; bad servers give clear errors."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from helpers import alive_with, browser_missing, call, requests_of, script, turn

PAGE = """<!doctype html><html><body style="margin:0">
<div id="box" style="width:400px;height:300px;background:#ccc">loading</div>
<script>
fetch('/data.json').then(r => r.json()).then(d => {
  const box = document.getElementById('box');
  box.style.background = d.colour; box.textContent = d.text; box.dataset.loaded = '1';
});
</script></body></html>"""


def _tool_replies(server) -> list[str]:
    last = requests_of(server)[-1]["messages"]
    return [m["content"] for m in last if m["role"] == "tool"]


@pytest.mark.browser
@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_a_dev_server_started_by_the_agent_is_rendered_on_its_port(
    repo: Path, replay, kimicode
) -> None:
    from PIL import Image

    marker = f"devserver-{uuid.uuid4().hex[:8]}"
    serve = f"export MARK={marker}; exec python3 -m http.server $PORT --bind 127.0.0.1"
    (repo / "index.html").write_text(PAGE)
    (repo / "data.json").write_text('{"colour": "rgb(0, 128, 0)", "text": "from the server"}')
    server = replay(
        script(
            (
                "serve",
                [
                    turn(tool_calls=[call("run_shell", background=True, command=serve)]),
                    turn(tool_calls=[call("render_page", target="http://localhost:$PORT/index.html",
                                          actions=[{"wait_for": "#box[data-loaded]"}],
                                          viewport="800x600")]),
                    turn(tool_calls=[call("shell_output", id="bg1")]),
                    turn(tool_calls=[call("shell_kill", id="bg1")]),
                    turn("The page loads its data."),
                ],
            )
        )
    )  # fmt: skip
    res = kimicode("-p", "serve the page and look at it", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    started, rendered, output, killed = _tool_replies(server)
    port = int(re.search(r"PORT=(\d+)", started)[1])
    assert "started in the background as bg1" in started
    assert f"http://localhost:{port}/index.html" in rendered
    assert "no console messages, page errors or failed requests" in rendered
    assert "GET /data.json" in output and "bg1: running" in output
    assert "bg1 stopped" in killed
    shot = _screenshot(requests_of(server)[2]["messages"])
    assert shot.convert("RGB").getpixel((200, 150)) == (0, 128, 0)  # the fetched colour
    assert isinstance(shot, Image.Image)
    assert alive_with(marker) == []


def _screenshot(messages: list[dict[str, Any]]):
    import base64
    import io

    from PIL import Image

    for message in reversed(messages):
        for part in message.get("content") or []:
            if isinstance(part, dict) and part.get("type") == "image_url":
                data = part["image_url"]["url"].split(",", 1)[1]
                return Image.open(io.BytesIO(base64.b64decode(data)))
    raise AssertionError("no screenshot reached the model")


def test_background_processes_end_with_the_session(repo: Path, replay, kimicode) -> None:
    marker = f"sleeper-{uuid.uuid4().hex[:8]}"
    server = replay(
        script(
            (
                "start",
                [
                    turn(tool_calls=[call("run_shell", background=True,
                                          command=f"export MARK={marker}; sleep 600")]),
                    turn(tool_calls=[call("run_shell", background=True,
                                          command=f"export MARK={marker}; "
                                                  "bash -c 'sleep 700' & wait")]),
                    turn("Left them running."),
                ],
            )
        )
    )  # fmt: skip
    res = kimicode("-p", "start the sleepers", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    first, second = _tool_replies(server)
    assert "as bg1" in first and "as bg2" in second
    assert alive_with(marker) == []


@pytest.mark.browser
@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_a_server_that_never_listens_is_a_clear_error_with_its_output(
    repo: Path, replay, kimicode
) -> None:
    marker = f"deaf-{uuid.uuid4().hex[:8]}"
    server = replay(
        script(
            (
                "serve",
                [
                    turn(tool_calls=[call("run_shell", background=True,
                         command=f"echo compiling assets; export MARK={marker}; sleep 600")]),
                    turn(tool_calls=[call("render_page", target="http://localhost:$PORT/")]),
                    turn("It never started."),
                ],
            )
        )
    )  # fmt: skip
    res = kimicode("-p", "serve it", "--yolo", cwd=repo, server=server, timeout=180)
    assert res.code == 0, res
    _, rendered = _tool_replies(server)
    assert re.search(r"nothing accepts connections on port \d+ \(PORT\) after \d+ s", rendered)
    assert "compiling assets" in rendered and "bg1 (running" in rendered
    assert alive_with(marker) == []


def test_unknown_ids_and_a_taken_port_are_clear_errors(repo: Path, replay, kimicode) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        server = replay(
            script(
                (
                    "try",
                    [
                        turn(tool_calls=[call("shell_output", id="bg9")]),
                        turn(tool_calls=[call("run_shell", background=True,
                             command=f"python3 -m http.server {port} --bind 127.0.0.1")]),
                        turn(tool_calls=[call("run_shell", command="sleep 3")]),
                        turn(tool_calls=[call("shell_output", id="bg1")]),
                        turn("Done."),
                    ],
                )
            )
        )  # fmt: skip
        (repo / ".kimicode").mkdir()
        (repo / ".kimicode" / "config.toml").write_text('[sandbox]\nmode = "off"\n')
        res = kimicode("-p", "try it", "--yolo", cwd=repo, server=server)
    finally:
        taken.close()
    assert res.code == 0, res
    unknown, _started, _slept, output = _tool_replies(server)
    assert "no background process 'bg9'" in unknown
    assert "bg1: exited with code 1" in output and "Address already in use" in output


def test_each_sub_agent_has_its_own_port_and_its_servers_end_with_it(
    repo: Path, replay, kimicode
) -> None:
    from helpers import orchestrator, sub_agent, task

    marker = f"swarmserve-{uuid.uuid4().hex[:8]}"
    serve = f"export MARK={marker}; exec python3 -m http.server $PORT --bind 127.0.0.1"

    def agent(name: str) -> tuple[str, list[dict[str, Any]]]:
        return sub_agent(
            name,
            [
                turn(tool_calls=[call("run_shell", background=True, command=serve)]),
                turn(tool_calls=[call("write_file", path=f"{name}.txt", content=name)]),
                turn(f"{name} done."),
            ],
        )

    server = replay(
        script(orchestrator([task("one", "one.txt"), task("two", "two.txt")]),
               agent("one"), agent("two"))
    )  # fmt: skip
    res = kimicode("-p", "Split the work", "--yolo", "--swarm", cwd=repo, server=server)
    assert res.code == 0, res
    ports = set()
    for body in requests_of(server):
        for message in body["messages"]:
            if message["role"] == "tool" and "started in the background" in message["content"]:
                ports.add(int(re.search(r"PORT=(\d+)", message["content"])[1]))
    assert len(ports) == 2, ports  # one port per sub-agent
    assert alive_with(marker) == []


@pytest.mark.sandbox
def test_the_sandboxed_server_is_reachable_but_the_sandbox_still_reaches_nothing(
    repo: Path, replay, kimicode
) -> None:
    import shutil
    import socket

    if shutil.which("bwrap") is None:
        pytest.skip("needs bubblewrap")
    host = socket.socket()
    host.bind(("127.0.0.1", 0))
    host.listen()
    port = host.getsockname()[1]
    probe = (
        'python3 -c "import socket,sys; s=socket.socket(); s.settimeout(3)\n'
        f"try: s.connect(('127.0.0.1', {port})); print('REACHED')\n"
        "except OSError as e: print('BLOCKED', e)\"; sleep 600"
    )
    server = replay(
        script(
            (
                "probe",
                [
                    turn(tool_calls=[call("run_shell", background=True, command=probe)]),
                    turn(tool_calls=[call("run_shell", command="sleep 2")]),
                    turn(tool_calls=[call("shell_output", id="bg1")]),
                    turn("Probed."),
                ],
            )
        )
    )
    try:
        res = kimicode("-p", "probe the network", "--yolo", cwd=repo, server=server)
    finally:
        host.close()
    assert res.code == 0, res
    output = _tool_replies(server)[-1]
    assert "BLOCKED" in output and "REACHED" not in output, output


def _interrupt_when(proc, started: int, signals: int, marker: str) -> tuple[str, str]:
    """Read stream-json until `started` background processes are up (and seen running),
    then Ctrl-C (`signals` times, a moment apart) and return the rest of the output."""
    import json
    import signal
    import time

    assert proc.stdout is not None
    up = 0
    deadline = time.monotonic() + 120
    while up < started and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if not line.startswith("{"):
            continue
        event = json.loads(line)
        if event["type"] == "tool_call_finished" and "started in the background" in json.dumps(
            event
        ):
            up += 1
    assert up == started, f"only {up} background processes started"
    assert alive_with(marker), "the background processes run before Ctrl-C"
    for _ in range(signals):
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
    return proc.communicate(timeout=120)


def _popen(repo: Path, server, *args: str):
    import subprocess
    import sys

    env = dict(os.environ, KIMICODE_API_KEY="sk-test-0123456789", KIMICODE_BASE_URL=server.url)
    return subprocess.Popen(
        [sys.executable, "-m", "kimicode", *args, "--yolo", "--output-format", "stream-json"],
        cwd=repo, env=env, text=True, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _sandbox_off(repo: Path) -> None:
    """Without bubblewrap's --die-with-parent, only kimicode's own clean-up ends them."""
    (repo / ".kimicode").mkdir(exist_ok=True)
    (repo / ".kimicode" / "config.toml").write_text('[sandbox]\nmode = "off"\n')


@pytest.mark.parametrize("signals", [1, 2], ids=["ctrl-c", "ctrl-c-twice"])
def test_ctrl_c_ends_the_sessions_background_processes(
    repo: Path, replay, isolated_dirs: Path, signals: int
) -> None:
    marker = f"ctrlc-{uuid.uuid4().hex[:8]}"
    _sandbox_off(repo)
    server = replay(
        script(
            (
                "serve",
                [
                    turn(tool_calls=[call("run_shell", background=True,
                                          command=f"export MARK={marker}; sleep 600")]),
                    turn("never", latency_ms=120_000),
                ],
            )
        )
    )  # fmt: skip
    proc = _popen(repo, server, "-p", "serve it")
    try:
        _, err = _interrupt_when(proc, started=1, signals=signals, marker=marker)
    finally:
        proc.kill()
    # A second Ctrl-C that lands after the handler is gone (during the last clean-up)
    # ends the process by SIGINT itself: either way, it ended on Ctrl-C.
    assert proc.returncode == 130, err[-3000:]
    assert alive_with(marker) == []


def test_ctrl_c_ends_each_sub_agents_servers_and_keeps_its_work(
    repo: Path, replay, isolated_dirs: Path
) -> None:
    from helpers import git, orchestrator, sub_agent, task

    marker = f"swarmctrlc-{uuid.uuid4().hex[:8]}"
    _sandbox_off(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "no sandbox")
    serve = f"export MARK={marker}; exec python3 -m http.server $PORT --bind 127.0.0.1"

    def agent(name: str) -> tuple[str, list[dict[str, Any]]]:
        return sub_agent(
            name,
            [
                turn(tool_calls=[call("write_file", path=f"{name}.txt", content=name)]),
                turn(tool_calls=[call("run_shell", background=True, command=serve)]),
                turn("never", latency_ms=120_000),
            ],
        )

    server = replay(
        script(orchestrator([task("one", "one.txt"), task("two", "two.txt")]),
               agent("one"), agent("two"))
    )  # fmt: skip
    proc = _popen(repo, server, "-p", "Split the work", "--swarm")
    try:
        _, err = _interrupt_when(proc, started=2, signals=1, marker=marker)
    finally:
        proc.kill()
    assert proc.returncode == 130, err[-3000:]
    assert alive_with(marker) == []
    branches = git(repo, "branch", "--list", "kimicode/*").split()
    for name in ("one", "two"):  # the work before Ctrl-C is kept on the agent's branch
        branch = next(b for b in branches if b.endswith(f"/{name}"))
        assert git(repo, "show", f"{branch}:{name}.txt") == name
