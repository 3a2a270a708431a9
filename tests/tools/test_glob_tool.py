from __future__ import annotations

from pathlib import Path

import pytest
from tool_helpers import call, git_init, make_ctx

from kimicode.tools.glob_tool import Glob


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = git_init(tmp_path / "repo")
    files = [
        "setup.py",
        "src/app.py",
        "src/util/helpers.py",
        "src/ui/view.ts",
        "src/ui/view.tsx",
        "docs/index.md",
        ".github/workflows/ci.yml",
        "build/out.py",
        "debug.log",
    ]
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x\n")
    (root / ".gitignore").write_text("build/\n*.log\n")
    return root


async def glob(root: Path, pattern: str) -> list[str]:
    return (await call(Glob(), make_ctx(root), pattern=pattern)).text.splitlines()


async def test_a_pattern_without_slash_matches_names_anywhere_and_respects_gitignore(
    repo: Path,
) -> None:
    assert await glob(repo, "*.py") == ["setup.py", "src/app.py", "src/util/helpers.py"]


async def test_patterns_with_slashes_match_the_whole_path(repo: Path) -> None:
    assert await glob(repo, "src/*.py") == ["src/app.py"]
    assert await glob(repo, "src/**/*.py") == ["src/app.py", "src/util/helpers.py"]
    assert await glob(repo, "**/*.{ts,tsx}") == ["src/ui/view.ts", "src/ui/view.tsx"]
    assert await glob(repo, "./src/ui/") == ["src/ui/view.ts", "src/ui/view.tsx"]
    assert await glob(repo, ".github/**") == [".github/workflows/ci.yml"]


async def test_ignored_files_are_not_found_even_by_name(repo: Path) -> None:
    assert await glob(repo, "build/*") == ["no files match build/*"]
    assert await glob(repo, "*.log") == ["no files match *.log"]


async def test_results_are_capped_with_a_note(tmp_path: Path) -> None:
    for i in range(520):
        (tmp_path / f"f{i:03}.txt").write_text("")
    rows = await glob(tmp_path, "*.txt")
    assert len(rows) == 501
    assert rows[0] == "f000.txt" and rows[499] == "f499.txt"
    assert "500 of 520" in rows[500]
