"""What the hardened git runner costs per command, against plain `git`.

    python benchmarks/git_hardening.py [--runs 200] [--files 2000]

A temp repository with N committed files; each command is run `--runs` times
one after another, plain (`git <args>` as a subprocess) and through
`kimicode.git.run.git` (hardening flags plus one `git config --list` to find
the repository's drivers). Prints the median per command and the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kimicode.git.run import git, git_env

COMMANDS = (("rev-parse", "HEAD"), ("status", "--porcelain"), ("ls-files", "-z"))


def make_repo(root: Path, files: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for i in range(files):
        path = root / f"pkg{i % 40}" / f"mod{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"VALUE = {i}\n")
    env = {**git_env(), "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", **{
        "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b"}}  # fmt: skip
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "files"], cwd=root, check=True, env=env)


async def time_plain(root: Path, args: tuple[str, ...], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            "git", *args, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        await proc.communicate()
        out.append(time.perf_counter() - start)
    return out


async def time_hardened(root: Path, args: tuple[str, ...], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        await git(root, *args)
        out.append(time.perf_counter() - start)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--files", type=int, default=2000)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        make_repo(root, opts.files)
        print(f"{opts.files} files, median of {opts.runs} runs each\n")
        print(f"{'command':<22} {'plain git':>10} {'hardened':>10} {'extra':>8}")
        for args in COMMANDS:
            plain = statistics.median(await time_plain(root, args, opts.runs)) * 1000
            hard = statistics.median(await time_hardened(root, args, opts.runs)) * 1000
            name = " ".join(args)
            print(f"{name:<22} {plain:>8.2f}ms {hard:>8.2f}ms {hard - plain:>6.2f}ms")


if __name__ == "__main__":
    asyncio.run(main())
