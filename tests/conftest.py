"""Shared fixtures: isolated data/cache/config dirs, real git repos, the replay server,
and the real `kimicode` entry point in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import git

from kimicode.replay.server import ReplayServer, replay_in_thread


@pytest.fixture(autouse=True)
def isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """No test reads or writes the developer's real config, sessions or caches."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("KIMICODE_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("KIMICODE_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    for var in (
        "KIMICODE_API_KEY",
        "MOONSHOT_API_KEY",
        "OPENAI_API_KEY",
        "KIMICODE_BASE_URL",
        "OPENAI_BASE_URL",
        "KIMICODE_MODEL",
    ):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    (root / "cli.py").write_text(
        "import argparse\n\n\ndef main():\n    parser = argparse.ArgumentParser()\n"
        "    return parser.parse_args()\n"
    )
    (root / "README.md").write_text("# project\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    return root


@pytest.fixture
def replay() -> Iterator[Callable[..., ReplayServer]]:
    """Start replay servers for a script (dict); all stopped at the end of the test."""
    stack: list[Any] = []

    def start(script: dict[str, Any], **options: Any) -> ReplayServer:
        cm = replay_in_thread(script, **options)
        server = cm.__enter__()
        stack.append(cm)
        return server

    yield start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


class CliResult:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


@pytest.fixture
def kimicode(isolated_dirs: Path) -> Callable[..., CliResult]:
    """Run the real entry point: kimicode(*args, cwd=, input=, server=, env=)."""

    def run(
        *args: str,
        cwd: Path,
        input: str | None = None,
        server: ReplayServer | None = None,
        env: dict[str, str] | None = None,
        key: bool = True,
        timeout: float = 120,
    ) -> CliResult:
        full_env = dict(os.environ)
        if key:
            full_env["KIMICODE_API_KEY"] = "sk-test-0123456789abcdef"
        if server is not None:
            full_env["KIMICODE_BASE_URL"] = server.url
        full_env.update(env or {})
        proc = subprocess.run(
            [sys.executable, "-m", "kimicode", *args],
            cwd=cwd,
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )
        return CliResult(proc)

    return run
