"""grep gives the same answer through ripgrep and through the pure-Python search."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tool_helpers import call, git_init, make_ctx

from kimicode.errors import ToolError
from kimicode.tools.grep import Grep

pytestmark = pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep is not installed")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = git_init(tmp_path / "repo")
    files = {
        "app.py": "import os\n\ndef main():\n    print('Hello')\n    return os.getcwd()\n",
        "src/b.py": "def helper():\n    return 'hello world'\n",
        "src/a.ts": "export const hello = () => 'HELLO';\n",
        "src/deep/c.py": "x = 1\n" + "# hello again\n" * 3,
        ".github/ci.yml": "run: echo hello\n",
        "crlf.txt": "hello dos\r\nbye\r\n",
        "build/gen.py": "hello = 'ignored'\n",
        "notes.log": "hello log\n",
        "long.txt": "hello " + "x" * 1000 + "\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(text.encode())
    (root / "blob.bin").write_bytes(b"hello\x00\x01binary\n")
    (root / ".gitignore").write_text("build/\n*.log\n")
    return root


async def grep_both(root: Path, **arguments: object) -> str:
    """The tool's answer through ripgrep and through Python; asserts they agree."""
    fast_ctx = make_ctx(root)
    slow_ctx = make_ctx(root)
    slow_ctx.workspace.materialized = False  # as in a sparse worktree: no native tools
    fast = await call(Grep(), fast_ctx, **arguments)
    slow = await call(Grep(), slow_ctx, **arguments)
    assert fast.text == slow.text
    return fast.text


async def test_matches_are_path_line_text_sorted_and_gitignore_respected(repo: Path) -> None:
    text = await grep_both(repo, pattern="(?i)hello")
    rows = text.splitlines()
    assert rows[:6] == [
        ".github/ci.yml:1:run: echo hello",
        "app.py:4:    print('Hello')",
        "crlf.txt:1:hello dos",
        "long.txt:1:hello " + "x" * 294 + "… [line cut: 706 more characters]",
        "src/a.ts:1:export const hello = () => 'HELLO';",
        "src/b.py:2:    return 'hello world'",
    ]
    assert rows[6:] == [f"src/deep/c.py:{n}:# hello again" for n in (2, 3, 4)]
    assert "build/" not in text and "notes.log" not in text and "blob.bin" not in text


DEEP = ["src/deep/c.py:2", "src/deep/c.py:3", "src/deep/c.py:4"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"pattern": "hello", "path": "src"}, ["src/a.ts:1", "src/b.py:2", *DEEP]),
        ({"pattern": "hello", "glob": "*.py"}, ["src/b.py:2", *DEEP]),
        ({"pattern": "hello", "glob": "src/*.py"}, ["src/b.py:2"]),
        ({"pattern": "(?i)hello", "path": "src", "glob": "*.ts"}, ["src/a.ts:1"]),
        ({"pattern": "hello", "path": "src/b.py"}, ["src/b.py:2"]),
        ({"pattern": r"^def \w+\(\):$"}, ["app.py:3", "src/b.py:1"]),
        ({"pattern": r"hello(?= world)"}, ["src/b.py:2"]),  # look-ahead: Python only
    ],
)
async def test_filters_agree(repo: Path, arguments: dict[str, str], expected: list[str]) -> None:
    text = await grep_both(repo, **arguments)
    got = [":".join(row.split(":")[:2]) for row in text.splitlines()]
    assert got == expected


async def test_a_file_named_outright_is_searched_even_if_ignored(repo: Path) -> None:
    assert await grep_both(repo, pattern="hello", path="build/gen.py") == (
        "build/gen.py:1:hello = 'ignored'"
    )
    assert await grep_both(repo, pattern="hello", path="build") == "no matches for 'hello' in build"


async def test_no_matches_and_missing_path(repo: Path) -> None:
    assert await grep_both(repo, pattern="zebra") == "no matches for 'zebra'"
    with pytest.raises(ToolError, match="nope does not exist"):
        await call(Grep(), make_ctx(repo), pattern="x", path="nope")


async def test_matches_are_capped_the_same_way(repo: Path) -> None:
    (repo / "many.txt").write_text("match\n" * 350)
    text = await grep_both(repo, pattern="^match$")
    rows = text.splitlines()
    assert len(rows) == 301
    assert rows[299] == "many.txt:300:match"
    assert "stopped after 300 matches" in rows[300]


async def test_an_invalid_regex_is_explained(repo: Path) -> None:
    with pytest.raises(ToolError, match="invalid regular expression 'foo\\(bar'"):
        await call(Grep(), make_ctx(repo), pattern="foo(bar")


async def test_symlinks_are_not_followed_by_either_engine(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("hello secret\n")
    (repo / "leak.txt").symlink_to(tmp_path / "secret.txt")
    assert "secret" not in await grep_both(repo, pattern="hello")
