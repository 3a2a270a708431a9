from __future__ import annotations

from pathlib import Path

import pytest
from tool_helpers import call, make_ctx

from kimicode.errors import ToolError
from kimicode.tools.write_file import WriteFile


async def test_creates_parents_and_reports_a_creation_diff(tmp_path: Path) -> None:
    result = await call(
        WriteFile(), make_ctx(tmp_path), path="src/pkg/mod.py", content="a = 1\nb = 2\n"
    )
    assert (tmp_path / "src/pkg/mod.py").read_text() == "a = 1\nb = 2\n"
    assert result.text == "created src/pkg/mod.py (2 lines)"
    assert result.changed == ["src/pkg/mod.py"]
    assert result.diff.startswith("--- /dev/null\n+++ b/src/pkg/mod.py\n")
    assert "+a = 1\n+b = 2\n" in result.diff


async def test_overwrite_reports_update_with_old_vs_new_diff(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    result = await call(WriteFile(), make_ctx(tmp_path), path="a.txt", content="one\n2\nthree\n")
    assert result.text == "updated a.txt (3 lines)"
    assert "--- a/a.txt\n+++ b/a.txt\n" in result.diff
    assert "-two\n+2\n" in result.diff
    assert (tmp_path / "a.txt").read_text() == "one\n2\nthree\n"


async def test_newlines_are_written_as_given(tmp_path: Path) -> None:
    await call(WriteFile(), make_ctx(tmp_path), path="w.txt", content="a\r\nb")
    assert (tmp_path / "w.txt").read_bytes() == b"a\r\nb"


async def test_a_directory_or_the_git_dir_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    with pytest.raises(ToolError, match="directory"):
        await call(WriteFile(), make_ctx(tmp_path), path="pkg", content="x")
    with pytest.raises(ToolError, match=r"\.git"):
        await call(WriteFile(), make_ctx(tmp_path), path=".git/config", content="x")
