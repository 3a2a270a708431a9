from __future__ import annotations

from pathlib import Path

import pytest
from tool_helpers import call, make_ctx

from kimicode.errors import ToolError
from kimicode.tools.edit_file import EditFile

SOURCE = """\
class Greeter:
    def greet(self, name):
        if name:
            return f"hello {name}"
        return "hello"
"""


async def edit(root: Path, **arguments: object):
    return await call(EditFile(), make_ctx(root), **arguments)


async def test_exact_replacement_with_diff(tmp_path: Path) -> None:
    (tmp_path / "g.py").write_text(SOURCE)
    result = await edit(
        tmp_path, path="g.py", old_string='return "hello"', new_string='return "hi"'
    )
    assert (tmp_path / "g.py").read_text() == SOURCE.replace('return "hello"', 'return "hi"')
    assert result.changed == ["g.py"]
    assert '-        return "hello"\n+        return "hi"\n' in result.diff
    assert result.diff.startswith("--- a/g.py\n+++ b/g.py\n")
    assert "+1 -1" in result.text


async def test_whitespace_tolerant_match_reindents_the_new_text(tmp_path: Path) -> None:
    (tmp_path / "g.py").write_text(SOURCE)
    old = 'if name:\n    return f"hello {name}"\n'  # copied without its indentation
    new = 'if name  and  name.strip():\n    return f"hello {name.strip()}"\n'
    await edit(tmp_path, path="g.py", old_string=old, new_string=new)
    assert (tmp_path / "g.py").read_text() == (
        "class Greeter:\n"
        "    def greet(self, name):\n"
        "        if name  and  name.strip():\n"
        '            return f"hello {name.strip()}"\n'
        '        return "hello"\n'
    )


async def test_whitespace_tolerant_match_ignores_trailing_and_inner_spaces(tmp_path: Path) -> None:
    (tmp_path / "c.py").write_text("x  =  1   \ny = 2\n")
    await edit(tmp_path, path="c.py", old_string="x = 1\ny = 2", new_string="x = 10\ny = 2")
    assert (tmp_path / "c.py").read_text() == "x = 10\ny = 2\n"


async def test_whitespace_tolerant_match_keeps_crlf_endings(tmp_path: Path) -> None:
    (tmp_path / "w.txt").write_bytes(b"a\r\nb\r\nc\r\n")
    await edit(tmp_path, path="w.txt", old_string="a\nb\n", new_string="a\nB\n")
    assert (tmp_path / "w.txt").read_bytes() == b"a\r\nB\r\nc\r\n"


async def test_ambiguous_match_is_refused_with_count_and_lines(tmp_path: Path) -> None:
    (tmp_path / "d.py").write_text("x = 1\ny = 2\nx = 1\n")
    with pytest.raises(ToolError) as err:
        await edit(tmp_path, path="d.py", old_string="x = 1", new_string="x = 3")
    message = str(err.value)
    assert "2 times" in message and "lines 1, 3" in message and "replace_all" in message
    assert (tmp_path / "d.py").read_text() == "x = 1\ny = 2\nx = 1\n"


async def test_replace_all_changes_every_occurrence(tmp_path: Path) -> None:
    (tmp_path / "d.py").write_text("old_name()\nold_name()\nkeep()\n")
    result = await edit(
        tmp_path, path="d.py", old_string="old_name", new_string="new_name", replace_all=True
    )
    assert (tmp_path / "d.py").read_text() == "new_name()\nnew_name()\nkeep()\n"
    assert "2 places" in result.text


async def test_not_found_shows_the_closest_lines(tmp_path: Path) -> None:
    (tmp_path / "g.py").write_text(SOURCE)
    with pytest.raises(ToolError) as err:
        await edit(
            tmp_path,
            path="g.py",
            old_string='def greet(self, nam):\n    if nam:\n        return f"hello {nam}"',
            new_string="pass",
        )
    message = str(err.value)
    assert "not found in g.py" in message
    assert "     2\t    def greet(self, name):" in message
    assert '     4\t            return f"hello {name}"' in message
    assert (tmp_path / "g.py").read_text() == SOURCE


async def test_not_found_without_anything_close(tmp_path: Path) -> None:
    (tmp_path / "g.py").write_text(SOURCE)
    with pytest.raises(ToolError, match="nothing in the file is close"):
        await edit(tmp_path, path="g.py", old_string="zzzz qqqq 12345", new_string="x")


async def test_same_strings_missing_file_and_creation(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    with pytest.raises(ToolError, match="the same"):
        await edit(tmp_path, path="a.txt", old_string="a", new_string="a")
    with pytest.raises(ToolError, match=r"missing\.txt does not exist"):
        await edit(tmp_path, path="missing.txt", old_string="a", new_string="b")
    result = await edit(tmp_path, path="new/file.txt", old_string="", new_string="hello\n")
    assert (tmp_path / "new/file.txt").read_text() == "hello\n"
    assert result.text == "created new/file.txt"
    with pytest.raises(ToolError, match="not empty"):
        await edit(tmp_path, path="a.txt", old_string="", new_string="b")


async def test_deleting_lines_with_a_tolerant_match(tmp_path: Path) -> None:
    (tmp_path / "g.py").write_text(SOURCE)
    await edit(
        tmp_path,
        path="g.py",
        old_string='if name:\n  return f"hello {name}"\n',
        new_string="",
    )
    assert (tmp_path / "g.py").read_text() == (
        'class Greeter:\n    def greet(self, name):\n        return "hello"\n'
    )
