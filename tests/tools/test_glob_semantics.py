"""One glob meaning (kimicode.globs), and the three users that must agree on it:
the glob tool, permission rules' path patterns and swarm ownership."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import call, git, orchestrator, script, sub_agent, task, turn
from tool_helpers import make_ctx

from kimicode.config import PermissionSettings, SwarmSettings
from kimicode.globs import expand, glob_match
from kimicode.swarm.snapshot import prepare_base
from kimicode.swarm.worktrees import create_worktree, remove_worktree
from kimicode.tools.glob_tool import Glob, GlobParams
from kimicode.tools.workspace import Workspace
from kimicode.trust.rules import PermissionRules

SEMANTICS = [
    # `*` and `?` stay inside one segment
    ("src/*.py", "src/app.py", True),
    ("src/*.py", "src/a/b.py", False),
    ("src/?.py", "src/a.py", True),
    ("src/?.py", "src/a/b.py", False),
    ("src/*", "src/a/b.py", False),
    # `**` spans none or many directories
    ("src/**/*.py", "src/app.py", True),
    ("src/**/*.py", "src/a/b/c.py", True),
    ("src/**", "src/a/b.py", True),
    ("src/**", "src", True),
    ("**/*.py", "a/b.py", True),
    # a directory pattern covers what is inside it
    ("src", "src/a/b.py", True),
    ("src/", "src/a/b.py", True),
    ("./src/ui", "src/ui/view.ts", True),
    ("src", "srcfoo/a.py", False),
    # character classes, alternatives, dot-files
    ("src/[ab].py", "src/a.py", True),
    ("src/[!ab].py", "src/a.py", False),
    ("src/*.{ts,tsx}", "src/view.tsx", True),
    ("*", ".env", True),
    # paths are anchored at the root: a bare name is the root's file
    (".env", ".env", True),
    (".env", "config/.env", False),
    ("*.py", "src/app.py", False),
    # absolute patterns (rules) match absolute paths
    ("/home/u/secrets/**", "/home/u/secrets/k/id", True),
    ("/home/u/secrets/**", "/home/u/other", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), SEMANTICS)
def test_the_one_glob_semantics(pattern: str, path: str, expected: bool) -> None:
    assert glob_match(pattern, path) is expected


def test_searches_look_for_a_bare_name_at_any_depth() -> None:
    assert glob_match("*.py", "src/a/b.py", search=True)
    assert glob_match(".env", "config/.env", search=True)
    assert glob_match("src", "lib/src/x.c", search=True)
    # with a slash a search is anchored like every other use
    assert not glob_match("src/*.py", "src/a/b.py", search=True)


FILES = [
    "setup.py",
    "src/app.py",
    "src/a/b.py",
    "src/ui/view.ts",
    "src/ui/view.tsx",
    "docs/index.md",
    ".github/workflows/ci.yml",
]
PATTERNS = [
    "src/*.py",
    "src/**/*.py",
    "src/**",
    "src/ui",
    "src/ui/",
    "src/ui/*.{ts,tsx}",
    ".github/*/*.yml",
]


@pytest.fixture
def project(repo: Path) -> Path:
    for rel in FILES:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(f"# {rel}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "files")
    return repo


@pytest.mark.parametrize("pattern", PATTERNS)
async def test_glob_tool_rules_and_ownership_agree(project: Path, pattern: str) -> None:
    listed = (await Glob().run(GlobParams(pattern=pattern), make_ctx(project))).text
    by_tool = [] if listed.startswith("no files match") else listed.splitlines()

    owner = Workspace(project, owned=[pattern])
    by_ownership = sorted(f for f in FILES if owner.is_owned(f))

    rules = PermissionRules(PermissionSettings(deny=[f"write_file({pattern})"]), project)
    by_rules = sorted(f for f in FILES if rules.decide("write_file", {"path": f}, project))

    assert by_tool == by_ownership == by_rules == expand([pattern], FILES)
    assert by_tool, f"{pattern} should match something in the fixture"


async def test_a_worktree_owning_src_star_py_checks_out_only_src_files(project: Path) -> None:
    base = await prepare_base(project, "run1")
    wt = await create_worktree(project, base, "run1", "alpha", ["src/*.py"], SwarmSettings())
    try:
        assert wt.checked_out == ["src/app.py"]
        assert git(wt.path, "ls-files", "-t", "src/a/b.py").startswith("S ")  # skip-worktree
    finally:
        await remove_worktree(wt)


def test_an_agent_owning_src_star_py_cannot_write_deeper(project: Path, replay, kimicode) -> None:
    """Through the real binary and real git: `src/*.py` does not own `src/a/b.py`."""
    server = replay(
        script(
            orchestrator([task("alpha", "src/*.py")]),
            sub_agent(
                "alpha",
                [
                    turn(
                        tool_calls=[
                            call("write_file", path="src/app.py", content="APP = 2\n"),
                            call("write_file", path="src/a/b.py", content="B = 2\n"),
                        ]
                    ),
                    turn("alpha done."),
                ],
            ),
        )
    )
    res = kimicode("-p", "Split the work", "--swarm", "--yolo", cwd=project, server=server)
    assert (project / "src/app.py").read_text() == "APP = 2\n", res
    assert (project / "src/a/b.py").read_text() == "# src/a/b.py\n"
    tool_results = [
        m["content"]
        for body in (r["body"] for r in server.requests if r.get("status") == 200)
        for m in body["messages"]
        if m["role"] == "tool"
    ]
    assert any("src/a/b.py is not one of your files" in str(c) for c in tool_results)


LITERALS = ["out/t042.txt", "src", "src/", "./src/ui", "src/ui/page.ts", ".env", "a b/c", "/etc"]
LITERALS += ["docs/a.md", "x(1)/y", "a\\b", "src/.cache", "!x", "."]
PATHS = ["out/t042.txt", "out/t042.txt.bak", "out/t04", "src", "src/app.py", "srcx/app.py"]
PATHS += ["src/ui", "src/ui/page.ts", "src/ui/.hidden", "src/../etc/passwd", ".env", ".env/x"]
PATHS += ["a b/c", "a b/c/d", "/etc", "/etc/passwd", "docs/a.md", "x(1)/y", "a\\b", "ab"]
PATHS += ["src/.cache/z", "!x", "./src/ui", "", "src/ui/"]


@pytest.mark.parametrize("pattern", LITERALS)
def test_a_literal_pattern_matches_what_its_compiled_glob_matches(pattern: str) -> None:
    from kimicode.globs import compile_glob

    for path in PATHS:
        for search in (False, True):
            expected = bool(compile_glob(pattern, search=search).match(path))
            assert glob_match(pattern, path, search=search) == expected, (pattern, path, search)
