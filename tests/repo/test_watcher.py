"""watch_changes on a real file system, and turning a batch into instructions."""

from __future__ import annotations

import asyncio
from pathlib import Path

from kimicode.repo.watcher import is_frontend_file, scan_for_instructions, watch_changes


async def next_batch(root: Path, action, stop: asyncio.Event) -> set[Path]:
    """The first batch watch_changes yields after `action` runs (bounded wait)."""
    changes = watch_changes(root, debounce_ms=100, stop=stop)

    async def first() -> set[Path]:
        async for batch in changes:
            return batch
        return set()

    task = asyncio.create_task(first())
    await asyncio.sleep(0.5)  # let the watcher start before touching files
    action()
    try:
        return await asyncio.wait_for(task, timeout=10)
    finally:
        stop.set()


async def test_a_write_yields_a_batch_and_ignored_files_do_not(write, git_repo: Path) -> None:
    write(git_repo, {".gitignore": "build/\n*.log\n"})
    (git_repo / "build").mkdir()
    root = git_repo

    def edit() -> None:
        (root / "build" / "out.py").write_text("x = 1\n")
        (root / "debug.log").write_text("noise\n")
        (root / ".kimicode").mkdir()
        (root / ".kimicode" / "state.json").write_text("{}")
        (root / "app.py").write_text("# add logging AI!\n")

    batch = await next_batch(root, edit, asyncio.Event())
    assert root / "app.py" in batch
    assert all(p.name in {"app.py"} for p in batch), batch
    assert scan_for_instructions(batch, root)[0][1][0].text == "add logging"


async def test_stop_ends_the_iteration(git_repo: Path) -> None:
    stop = asyncio.Event()

    async def consume() -> int:
        count = 0
        async for _ in watch_changes(git_repo, debounce_ms=50, stop=stop):
            count += 1
        return count

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    stop.set()
    assert await asyncio.wait_for(task, timeout=10) == 0


def test_scan_for_instructions_reads_only_what_has_comments(write, git_repo: Path) -> None:
    write(
        git_repo,
        {
            "a.py": "# AI? what is this for\nx = 1\n",
            "b.js": "const y = 2;\n",
            "c.png": b"\x89PNG\r\n\x1a\n\0\0# AI! no\n",
        },
    )
    paths = [git_repo / "a.py", git_repo / "b.js", git_repo / "c.png", git_repo / "gone.py"]
    found = scan_for_instructions(paths, git_repo)
    assert [(p.name, [c.kind for c in cs]) for p, cs in found] == [("a.py", ["?"])]
    assert found[0][1][0].path == "a.py"


def test_frontend_files() -> None:
    assert all(is_frontend_file(p) for p in ["a.html", "b.CSS", "c.tsx", "d.vue", "e.svelte"])
    assert not any(is_frontend_file(p) for p in ["a.py", "b.go", "README.md"])
