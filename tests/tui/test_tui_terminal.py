"""The real binary in a real terminal (tmux at 140x45): the inputs that used to crash it.

A shell command full of brackets in the approval modal, then Ctrl+C with the modal up
and `y`: the app stays up, and only a double Ctrl+C ends it, with exit code 0 and a
line saying how to continue the session.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
SCRIPT = {
    "conversations": [
        {
            "match": "list the files",
            "turns": [
                {"tool_calls": [{"name": "run_shell", "arguments": {"command": "ls [x=1 y"}}]},
                {"content": "Listed [b]nothing[/] [link=https://e.x]here"},
            ],
        }
    ]
}

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")


class Terminal:
    """One tmux server of our own (its own socket), running one command in a pane."""

    def __init__(self, socket: str, env: dict[str, str]) -> None:
        self.socket = socket
        self.env = env

    def tmux(self, *args: str) -> str:
        cmd = [str(TMUX), "-L", self.socket, *args]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "tui")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "tui", *(["-l"] if literal else []), *keys)

    def wait_for(self, condition: Callable[[str], bool], what: str, limit_s: float = 60) -> str:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            shown = self.screen()
            if condition(shown):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"the terminal never showed {what}; it shows:\n{self.screen()}")


@pytest.fixture
def terminal(repo: Path, replay, tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    server = replay(SCRIPT)
    env = dict(os.environ)
    env.update(
        KIMICODE_API_KEY="sk-test-0123456789abcdef",
        KIMICODE_BASE_URL=server.url,
        KIMICODE_MODEL="kimi-k2.5",
        TERM="xterm-256color",
    )
    exit_file = tmp_path / "exit-code"
    command = (
        f"cd {shlex.quote(str(repo))} && {shlex.quote(sys.executable)} -m kimicode; "
        f"echo $? > {shlex.quote(str(exit_file))}; sleep 60"
    )
    term = Terminal(f"kimicode-test-{uuid.uuid4().hex[:12]}", env)
    term.tmux("new-session", "-d", "-s", "tui", "-x", "140", "-y", "45", command)
    try:
        yield term, exit_file
    finally:
        term.tmux("kill-server")


def test_brackets_and_ctrl_c_with_the_modal_up_do_not_end_the_app(terminal) -> None:
    term, exit_file = terminal
    term.wait_for(lambda s: "kimi-k2.5" in s, "the status bar")
    term.keys("list the files", literal=True)
    term.keys("Enter")
    term.wait_for(lambda s: "Always `ls [x=1` (a)" in s, "the approval modal")
    term.keys("C-c")
    shown = term.wait_for(lambda s: "turn cancelled" in s, "the cancelled turn")
    assert "Always `ls" not in shown  # the modal went with its turn
    term.keys("y")
    term.keys("es, still here", literal=True)  # the app reads keys: it did not end on the y
    shown = term.wait_for(lambda s: "yes, still here" in s, "the typed text in the prompt")
    assert not exit_file.exists() and "turn cancelled" in shown
    term.keys(*["BSpace"] * len("yes, still here"))
    term.keys("list the files", literal=True)  # continues the conversation: the reply
    term.keys("Enter")
    term.wait_for(lambda s: "Listed [b]nothing[/] [link=https://e.x]here" in s, "the reply")
    term.keys("C-c")
    term.keys("C-c")
    deadline = time.monotonic() + 30
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert exit_file.read_text().strip() == "0"
    # on exit, one line: the session and the command that continues it
    shown = term.wait_for(lambda s: "continue it with" in s, "the exit line")
    [line] = [line for line in shown.splitlines() if "continue it with" in line]
    session_id = line.split()[1]
    assert (
        line.strip() == f"session {session_id} · continue it with: kimicode --resume {session_id}"
    )
