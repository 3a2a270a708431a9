"""grep: regex search over the project's files, with ripgrep or in pure Python.

Both engines return the same thing, `path:line:text` sorted by path then line,
so results do not depend on whether `rg` is installed. ripgrep is used only
where it sees the same files as `Workspace.list_files`: every file on disk (not
a sparse worktree) inside a git work tree, where both follow .gitignore. A
pattern ripgrep's regex dialect rejects (look-around, back-references) falls
back to Python.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

from pydantic import BaseModel, Field

from kimicode.errors import ToolError
from kimicode.globs import glob_match
from kimicode.spawn import spawn
from kimicode.tools.base import Tool, ToolContext, ToolResult
from kimicode.tools.text_files import looks_binary, split_lines
from kimicode.tools.workspace import Workspace

MAX_MATCHES = 300
MAX_LINE_CHARS = 300

Hit = tuple[str, int, str]


class GrepParams(BaseModel):
    pattern: str = Field(
        description="Regular expression (Python/ripgrep syntax) matched against each line; "
        "prefix with (?i) to ignore case."
    )
    path: str | None = Field(
        default=None,
        description="File or directory to search, relative to the root (default: all).",
    )
    glob: str | None = Field(
        default=None, description="Only search files whose path matches this glob, e.g. `*.py`."
    )


class Grep(Tool[GrepParams]):
    name = "grep"
    Params = GrepParams
    read_only = True

    def summary(self, params: GrepParams) -> str:
        return f"grep {params.pattern}"

    async def run(self, params: GrepParams, ctx: ToolContext) -> ToolResult:
        regex = compile_pattern(params.pattern)
        target = ctx.workspace.resolve(params.path or ".")
        scope = ctx.workspace.rel(target)
        files = await searchable_files(ctx.workspace, scope, params.glob)
        files = without_denied(ctx, "grep", files)
        hits: list[Hit] | None = None
        if use_ripgrep(ctx.workspace):
            hits = await ripgrep_search(ctx.workspace.root, params.pattern, scope, files)
        if hits is None:
            hits = await python_search(ctx.workspace, regex, files)
        return ToolResult(text=format_hits(hits, params, scope))


def without_denied(ctx: ToolContext, tool: str, files: list[str]) -> list[str]:
    """`files` minus those a deny rule keeps from this tool (`read_file(.env)` hides .env)."""
    from kimicode.trust.rules import PermissionRules

    rules = PermissionRules(ctx.settings.permissions, ctx.workspace.root)
    hidden = rules.hidden(tool, files, ctx.workspace.root)
    return [f for f in files if f not in hidden] if hidden else files


def compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ToolError(
            f"invalid regular expression {pattern!r}: {exc}. "
            "Escape special characters such as ( [ { . * + ? with a backslash "
            "to match them literally."
        ) from None


def use_ripgrep(workspace: Workspace) -> bool:
    if not workspace.materialized or shutil.which("rg") is None:
        return False
    return any((d / ".git").exists() for d in (workspace.root, *workspace.root.parents))


def in_scope(rel: str, scope: str, glob: str | None) -> bool:
    if scope != "." and rel != scope and not rel.startswith(scope + "/"):
        return False
    return glob is None or glob_match(glob, rel, search=True)


async def searchable_files(workspace: Workspace, scope: str, glob: str | None) -> list[str]:
    """The project's files (.gitignore respected) under `scope`; a file named outright counts."""
    listed = await workspace.list_files()
    files = [rel for rel in listed if in_scope(rel, scope, glob)]
    if files or scope == ".":
        return files
    path = workspace.root / scope
    if not await workspace.exists(path):
        raise ToolError(f"{scope} does not exist")
    if path.is_file() and (glob is None or glob_match(glob, scope, search=True)):
        return [scope]
    return []


async def python_search(
    workspace: Workspace, regex: re.Pattern[str], files: list[str]
) -> list[Hit]:
    hits: list[Hit] = []
    # as ripgrep: links are not followed (they may lead outside)
    readable = [rel for rel in files if not (workspace.root / rel).is_symlink()]
    for start in range(0, len(readable), _READ_BATCH):
        batch = readable[start : start + _READ_BATCH]
        contents = await workspace.read_many([workspace.root / rel for rel in batch])
        for rel, data in zip(batch, contents, strict=True):
            if data is None or looks_binary(data):
                continue
            for n, line in enumerate(split_lines(data.decode("utf-8", "replace")), start=1):
                if regex.search(line):
                    hits.append((rel, n, line))
                    if len(hits) > MAX_MATCHES:
                        return hits
    return hits


_READ_BATCH = 64
"""Files read per hop: few hops for a small tree, bounded memory for a large one."""


async def ripgrep_search(
    root: Path, pattern: str, scope: str, files: list[str]
) -> list[Hit] | None:
    """Hits from `rg` within `files`, or None when rg cannot take this pattern."""
    if not files:
        return []
    argv = [
        "rg", "--no-config", "--hidden", "--no-heading", "--with-filename", "--line-number",
        "--null", "--color", "never", "--no-messages", "--max-count", str(MAX_MATCHES + 1),
    ]  # fmt: skip
    argv += ["--glob", "!.git"]
    argv += ["--regexp", pattern, "--", scope]
    proc = await spawn(
        *argv,
        cwd=root,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    if proc.returncode not in (0, 1):
        return None
    wanted = set(files)
    hits: list[Hit] = []
    for record in out.decode("utf-8", "replace").splitlines():
        name, sep, rest = record.partition("\0")
        number, _, line = rest.partition(":")
        if not sep or not number.isdigit():
            continue
        rel = name[2:] if name.startswith("./") else name
        if rel in wanted:
            hits.append((rel, int(number), line.removesuffix("\r")))
    hits.sort(key=lambda h: (h[0], h[1]))
    return hits[: MAX_MATCHES + 1]


def format_hits(hits: list[Hit], params: GrepParams, scope: str) -> str:
    if not hits:
        where = "" if scope == "." else f" in {scope}"
        only = f" (files matching {params.glob})" if params.glob else ""
        return f"no matches for {params.pattern!r}{where}{only}"
    lines = []
    for rel, n, text in hits[:MAX_MATCHES]:
        if len(text) > MAX_LINE_CHARS:
            cut = len(text) - MAX_LINE_CHARS
            text = f"{text[:MAX_LINE_CHARS]}… [line cut: {cut} more characters]"
        lines.append(f"{rel}:{n}:{text}")
    if len(hits) > MAX_MATCHES:
        lines.append(
            f"… stopped after {MAX_MATCHES} matches; "
            "narrow the pattern, path or glob to see the rest"
        )
    return "\n".join(lines)
