"""Real git repositories in tmp_path; the swarm cache redirected there too."""

from __future__ import annotations

from pathlib import Path

import pytest
from swarm_helpers import git, write


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("KIMICODE_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.com")
    write(root, {f"src/mod{i}.py": f"VALUE = {i}\n" for i in range(10)})
    write(root, {"README.md": "# project\n", "docs/guide.md": "guide\n", ".gitignore": "*.log\n"})
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root
