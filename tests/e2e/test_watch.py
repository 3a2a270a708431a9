"""`kimicode watch` through the real entry point in a subprocess, against the replay
server, in a real git repository: a user saving files with AI!/AI? comments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import call, requests_of, script, turn

from kimicode.replay.server import ReplayServer

WAIT_S = 30

FETCH_PY = (
    "import time\n"
    "\n"
    "\n"
    "# make the timeout 30 AI!\n"
    "def fetch(url, timeout=10):\n"
    "    time.sleep(0)\n"
    "    return url, timeout\n"
)


class Watch:
    """A running `kimicode watch`, its output read from files while it runs."""

    def __init__(self, root: Path, server: ReplayServer, logs: Path) -> None:
        env = dict(os.environ)
        env["KIMICODE_API_KEY"] = "sk-test-0123456789abcdef"
        env["KIMICODE_BASE_URL"] = server.url
        if Path("/usr/bin/chromium").exists():
            env.setdefault("KIMICODE_CHROMIUM", "/usr/bin/chromium")
        logs.mkdir(exist_ok=True)
        self.out_path, self.err_path = logs / "stdout.txt", logs / "stderr.txt"
        with self.out_path.open("w") as out, self.err_path.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kimicode", "watch"],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group, as a terminal's foreground job
            )

    @property
    def stdout(self) -> str:
        return self.out_path.read_text()

    @property
    def stderr(self) -> str:
        return self.err_path.read_text()

    def wait_for(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if check():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if check():
            return
        pytest.fail(
            f"gave up waiting for {what}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"
        )

    def wait_for_stderr(self, text: str, count: int = 1) -> None:
        self.wait_for(f"{text!r} on stderr", lambda: self.stderr.count(text) >= count)

    def descendants(self) -> set[int]:
        """Every process started under the watch (the browser's among them)."""
        found: set[int] = set()
        todo = [self.proc.pid]
        while todo:
            pid = todo.pop()
            for children in Path(f"/proc/{pid}/task").glob("*/children"):
                try:
                    kids = {int(k) for k in children.read_text().split()}
                except OSError:
                    continue
                todo.extend(kids - found)
                found |= kids
        return found

    def interrupt(self, *, terminal: bool = False) -> int:
        """SIGINT to the watch; with `terminal`, to its whole process group, as Ctrl-C in a
        terminal does (the browser's driver and Chromium get it too)."""
        if terminal:
            os.killpg(self.proc.pid, signal.SIGINT)
        else:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=WAIT_S)


@pytest.fixture
def watch(repo: Path, tmp_path: Path) -> Iterator[Callable[[ReplayServer], Watch]]:
    started: list[Watch] = []

    def start(server: ReplayServer) -> Watch:
        w = Watch(repo, server, tmp_path / f"logs{len(started)}")
        started.append(w)
        w.wait_for_stderr("watching")
        return w

    yield start
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.wait(timeout=WAIT_S)


def test_an_ai_bang_comment_leads_to_the_edit_and_its_removal(repo: Path, replay, watch) -> None:
    server = replay(
        script(
            (
                "make the timeout 30",
                [
                    turn(
                        tool_calls=[
                            call(
                                "edit_file",
                                path="net.py",
                                old_string="def fetch(url, timeout=10):",
                                new_string="def fetch(url, timeout=30):",
                            )
                        ]
                    ),
                    turn("Set the default timeout of fetch to 30."),
                ],
            )
        )
    )
    w = watch(server)
    (repo / "net.py").write_text(FETCH_PY)
    w.wait_for_stderr("Set the default timeout of fetch to 30.")

    text = (repo / "net.py").read_text()
    assert "def fetch(url, timeout=30):" in text
    assert "AI!" not in text and "make the timeout" not in text
    assert text == FETCH_PY.replace("# make the timeout 30 AI!\n", "").replace("=10", "=30")
    assert "edit_file" in w.stderr  # the agent's tool calls are shown

    # the prompt quotes the comment, names the file and shows the numbered lines around it
    prompt = requests_of(server)[0]["messages"][1]["content"]
    prompt = prompt if isinstance(prompt, str) else prompt[0]["text"]
    assert "`net.py`" in prompt and "line 4" in prompt and "> make the timeout 30" in prompt
    assert "5\tdef fetch(url, timeout=10):" in prompt

    # the edit and the comment's removal are file events too: they must not start a turn
    (repo / "other.py").write_text("x = 1\n")
    time.sleep(1.0)  # let any event from our own writes come through; nothing may follow
    assert w.interrupt() == 130
    assert len(requests_of(server)) == 2, server.errors
    assert "Traceback" not in w.stderr


def test_an_ai_question_is_answered_on_stdout_and_ignored_files_are_not_read(
    repo: Path, replay, watch
) -> None:
    (repo / ".gitignore").write_text("build/\n")
    (repo / "build").mkdir()
    server = replay(
        script(
            (
                "why is this slow",
                [
                    turn(tool_calls=[call("read_file", path="slow.js")]),
                    turn("It sleeps for a second on every call: drop the `sleep(1000)`."),
                ],
            )
        )
    )
    w = watch(server)
    (repo / "build" / "gen.py").write_text("# rewrite this file AI!\nx = 1\n")
    time.sleep(0.5)  # the ignored file's event would come first
    slow = "// why is this slow AI?\nfunction f() { sleep(1000); }\n"
    (repo / "slow.js").write_text(slow)
    w.wait_for("the answer on stdout", lambda: "drop the `sleep(1000)`" in w.stdout)

    assert w.stdout.strip() == "It sleeps for a second on every call: drop the `sleep(1000)`."
    assert (repo / "slow.js").read_text() == slow  # the question stays where the user wrote it
    assert (repo / "build" / "gen.py").read_text() == "# rewrite this file AI!\nx = 1\n"

    # saving again with the same question does not ask it again; a new question would
    (repo / "slow.js").write_text(slow + "f();\n")
    time.sleep(1.0)
    assert w.interrupt() == 130
    bodies = requests_of(server)
    assert len(bodies) == 2, server.errors
    assert all("gen.py" not in str(b["messages"]) for b in bodies)
    assert "Traceback" not in w.stderr


def test_ctrl_c_during_an_agent_turn_stops_cleanly(repo: Path, replay, watch) -> None:
    slow = turn("a long answer " * 50, chunks=200, chunk_delay_ms=300)  # about a minute
    server = replay(script(("make the timeout 30", [slow])))
    w = watch(server)
    (repo / "net.py").write_text(FETCH_PY)
    w.wait_for("the agent turn to start", lambda: len(server.requests) >= 1)
    assert w.interrupt() == 130
    assert "Traceback" not in w.stderr
    assert "stopped watching" in w.stderr
    assert "AI!" in (repo / "net.py").read_text()  # an interrupted change leaves the comment


PAGE = '<!doctype html><link rel="stylesheet" href="style.css"><h1>Hello</h1>\n'


@pytest.mark.browser
def test_a_css_change_re_renders_the_watched_page(repo: Path, replay, watch) -> None:
    (repo / "index.html").write_text(PAGE)
    (repo / "style.css").write_text("body { background: white; }\n")
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text('[watch]\npages = ["index.html"]\n')
    server = replay(script(("never", [turn("unused")])))
    w = watch(server)
    state = repo / ".kimicode" / "watch"
    assert "first render accepted as .kimicode/watch/index.html.png" in w.stderr
    assert (state / "index.html.png").is_file()

    (repo / "style.css").write_text("body { background: rgb(200, 30, 30); }\n")
    w.wait_for_stderr("visual change")
    assert "difference 0." in w.stderr
    assert (state / "index.html.new.png").is_file()
    assert (state / "index.html.diff.png").is_file()

    (repo / "style.css").write_text("body { background: white; }\n")
    w.wait_for_stderr("no visual change")
    assert not (state / "index.html.new.png").exists()
    browser = w.descendants()
    assert browser, "no browser process under the watch"
    assert w.interrupt() == 130
    assert not [pid for pid in browser if _alive(pid)], "the browser outlived the watch"
    assert "Traceback" not in w.stderr
    assert requests_of(server) == []


@pytest.mark.browser
def test_ctrl_c_in_a_terminal_shuts_the_browser_down_quietly(repo: Path, replay, watch) -> None:
    (repo / "index.html").write_text(PAGE)
    (repo / "style.css").write_text("body { background: white; }\n")
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text('[watch]\npages = ["index.html"]\n')
    w = watch(replay(script(("never", [turn("unused")]))))
    assert "first render accepted" in w.stderr
    browser = w.descendants()
    assert browser, "no browser process under the watch"
    assert w.interrupt(terminal=True) == 130
    assert not [pid for pid in browser if _alive(pid)], "the browser outlived the watch"
    assert "stopped watching" in w.stderr
    for noise in ("Future exception was never retrieved", "Connection closed", "Traceback"):
        assert noise not in w.stderr, w.stderr


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting for its parent to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_failed_turn_is_reported_and_the_watch_goes_on(repo: Path, replay, watch) -> None:
    answer = turn("Because of the loop on line 2.", fault={"status": 400, "message": "bad"})
    server = replay(script(("rename this", [answer])))
    w = watch(server)
    rename = "# rename this AI!\nx = 1\n"
    (repo / "a.py").write_text(rename)
    w.wait_for_stderr("the `AI!` comment stays in a.py")
    assert (repo / "a.py").read_text() == rename  # the instruction is not lost
    (repo / "a.py").write_text(rename)  # saved unchanged: not retried

    (repo / "b.py").write_text("# why is this slow AI?\nfor i in range(10**9): pass\n")
    w.wait_for("the answer on stdout", lambda: "Because of the loop" in w.stdout)
    assert w.interrupt() == 130
    assert "bad" in w.stderr and "Traceback" not in w.stderr
    assert [r["status"] for r in server.requests] == [400, 200]
