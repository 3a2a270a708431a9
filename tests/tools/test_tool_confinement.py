"""Path-taking core tools refuse paths that lead outside the root, and write nothing there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tool_helpers import call, make_ctx

from kimicode.errors import PathOutsideRoot, ToolError
from kimicode.tools.edit_file import EditFile
from kimicode.tools.glob_tool import Glob
from kimicode.tools.grep import Grep
from kimicode.tools.read_file import ReadFile
from kimicode.tools.write_file import WriteFile


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret = 1\n")
    (root / "link.txt").symlink_to(outside / "secret.txt")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    return root, outside


ESCAPES = [
    "../outside/secret.txt",
    "{outside}/secret.txt",
    "/etc/passwd",
    "link.txt",
    "linkdir/secret.txt",
]

CALLS: dict[str, tuple[Any, dict[str, Any]]] = {
    "read_file": (ReadFile(), {}),
    "write_file": (WriteFile(), {"content": "pwned\n"}),
    "edit_file": (EditFile(), {"old_string": "secret = 1", "new_string": "pwned"}),
    "edit_file_create": (EditFile(), {"old_string": "", "new_string": "pwned"}),
    "grep": (Grep(), {"pattern": "secret"}),
}


@pytest.mark.parametrize("escape", ESCAPES)
@pytest.mark.parametrize("tool_key", list(CALLS))
async def test_paths_outside_the_root_are_refused(
    layout: tuple[Path, Path], escape: str, tool_key: str
) -> None:
    root, outside = layout
    tool, extra = CALLS[tool_key]
    path = escape.format(outside=outside)
    before = {p: p.read_bytes() for p in outside.iterdir()}
    with pytest.raises(PathOutsideRoot) as err:
        await call(tool, make_ctx(root), path=path, **extra)
    assert str(root) in str(err.value)
    assert {p: p.read_bytes() for p in outside.iterdir()} == before


async def test_a_new_file_under_a_symlinked_directory_is_not_created(
    layout: tuple[Path, Path],
) -> None:
    root, outside = layout
    with pytest.raises(PathOutsideRoot):
        await call(WriteFile(), make_ctx(root), path="linkdir/new/deep.txt", content="x")
    assert not (outside / "new").exists()


async def test_glob_does_not_reach_outside(layout: tuple[Path, Path]) -> None:
    root, outside = layout
    with pytest.raises(ToolError, match=r"outside|relative to the project root"):
        await call(Glob(), make_ctx(root), pattern="../outside/*")
    with pytest.raises(ToolError, match="relative to the project root"):
        await call(Glob(), make_ctx(root), pattern=f"{outside}/*.txt")


async def test_grep_does_not_follow_symlinks_out_of_the_root(layout: tuple[Path, Path]) -> None:
    root, _ = layout
    (root / "inside.txt").write_text("no secrets here\n")
    result = await call(Grep(), make_ctx(root), pattern="secret")
    assert result.text == "inside.txt:1:no secrets here"


@pytest.mark.parametrize("tool_key", ["write_file", "edit_file"])
async def test_writes_outside_owned_files_are_refused_naming_them(
    tmp_path: Path, tool_key: str
) -> None:
    (tmp_path / "b.py").write_text("secret = 1\n")
    tool, extra = CALLS[tool_key]
    ctx = make_ctx(tmp_path, owned=["a.py", "src/*.py"])
    with pytest.raises(ToolError) as err:
        await call(tool, ctx, path="b.py", **extra)
    assert "a.py, src/*.py" in str(err.value)
    assert (tmp_path / "b.py").read_text() == "secret = 1\n"
    result = await call(WriteFile(), ctx, path="src/ok.py", content="x = 1\n")
    assert result.changed == ["src/ok.py"]


async def test_reads_are_not_limited_by_ownership(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_text("x = 1\n")
    result = await call(ReadFile(), make_ctx(tmp_path, owned=["a.py"]), path="b.py")
    assert "x = 1" in result.text
