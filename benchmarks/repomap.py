"""Repo map speed, memory and determinism on Django's source, against aider's RepoMap.

    python benchmarks/repomap.py [--no-aider]

Django's sdist from PyPI is unpacked and committed to a scratch git repo under
the cache dir (KIMICODE_BENCH_DIR, else <user cache>/kimicode/bench) and reused.
Each measurement runs in a fresh child process; the time is of the map call
alone (imports excluded), peak RSS is the child's VmHWM plus its largest helper
process. aider-chat is installed into its own virtual environment when it can be.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TASK = "QuerySet.bulk_create ignores unique_fields when update_conflicts is set"
TOUCHED = "django/db/models/query.py"

OURS = r"""
import asyncio, hashlib, json, resource, sys, time
from pathlib import Path
from kimicode.repo.repomap import RepoMap
root, cache, task = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
m = RepoMap(root, cache_dir=cache)
t = time.perf_counter()
text = asyncio.run(m.render(task))
"""

AIDER = r"""
import hashlib, json, resource, subprocess, sys, time
from pathlib import Path
from aider.io import InputOutput
from aider.models import Model
from aider.repomap import RepoMap
root, task = sys.argv[1], sys.argv[3]
files = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
files = [str(Path(root, f)) for f in files]
io = InputOutput(yes=True, pretty=False)
rm = RepoMap(map_tokens=2000, root=root, main_model=Model("gpt-4o"), io=io)
idents = {w for w in task.replace(".", " ").split()}
t = time.perf_counter()
text = rm.get_repo_map([], files, mentioned_fnames=set(), mentioned_idents=idents) or ""
"""

REPORT = r"""
seconds = time.perf_counter() - t
hwm = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        hwm = int(line.split()[1])
helpers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "rss_kb": hwm, "helper_kb": helpers,
                  "sha": hashlib.sha256(text.encode()).hexdigest()[:12], "chars": len(text)}))
"""


def bench_dir() -> Path:
    env = os.environ.get("KIMICODE_BENCH_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("kimicode")) / "bench"


def django_repo(base: Path) -> Path:
    """Django's sdist, unpacked and committed once; reused afterwards."""
    repo = base / "django-src"
    if (repo / ".git").is_dir():
        return repo
    download = base / "download"
    download.mkdir(parents=True, exist_ok=True)
    if not list(download.glob("django-*.tar.gz")):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "django",
                "--no-binary",
                ":all:",
                "--no-deps",
                "-d",
                str(download),
            ],
            check=True,
        )
    archive = sorted(download.glob("django-*.tar.gz"))[-1]
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        shutil.unpack_archive(archive, tmp, filter="data")
        (unpacked,) = Path(tmp).iterdir()
        shutil.move(str(unpacked), repo)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run([*git, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "django sdist"], cwd=repo, check=True)
    return repo


def aider_python(base: Path) -> Path | None:
    """A venv with aider-chat, created on first use; None when it cannot be installed."""
    venv = base / "aider-venv"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import aider.repomap"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "aider-chat"], check=True, timeout=1200
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"note: aider-chat could not be installed ({exc}); its rows are skipped")
        return None
    return python if subprocess.run(probe, capture_output=True).returncode == 0 else None


def run(python: Path | str, code: str, repo: Path, cache: Path) -> dict:
    out = subprocess.run(
        [str(python), "-c", code + REPORT, str(repo), str(cache), TASK],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def touch(repo: Path) -> None:
    path = repo / TOUCHED
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def measure(name: str, python, code: str, repo: Path, fresh_cache) -> dict:
    cache = fresh_cache()
    cold = run(python, code, repo, cache)
    touch(repo)
    warm = run(python, code, repo, cache)
    again = run(python, code, repo, fresh_cache())
    return {"name": name, "cold": cold, "warm": warm, "same": cold["sha"] == again["sha"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-aider", action="store_true", help="measure kimicode only")
    args = parser.parse_args()
    base = bench_dir()
    base.mkdir(parents=True, exist_ok=True)
    repo = django_repo(base)
    files = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout
    names = files.split()
    print(f"repo: {repo} ({len(names)} files, {sum(n.endswith('.py') for n in names)} Python)")
    print(f"task: {TASK!r}, budget 2000 tokens, cores: {os.cpu_count()}")

    scratch = Path(tempfile.mkdtemp(prefix="repomap-bench-", dir=base))
    counter = iter(range(1000))

    def fresh_cache() -> Path:
        return scratch / f"cache-{next(counter)}"

    rows = [measure("kimicode", sys.executable, OURS, repo, fresh_cache)]

    if not args.no_aider:
        python = aider_python(base)
        if python is not None:
            aider_cache = repo / ".aider.tags.cache.v4"

            def fresh_aider_cache() -> Path:
                shutil.rmtree(aider_cache, ignore_errors=True)
                return scratch / "unused"

            try:
                rows.append(measure("aider-chat", python, AIDER, repo, fresh_aider_cache))
            except RuntimeError as exc:
                print(f"note: aider's RepoMap failed: {exc}")
            shutil.rmtree(aider_cache, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)

    print()
    print(
        f"{'map':<12}{'cold s':>8}{'warm s':>8}{'peak RSS MB':>13}{'+helper MB':>12}"
        f"{'chars':>7}  same map twice"
    )
    for row in rows:
        cold, warm = row["cold"], row["warm"]
        peak = max(cold["rss_kb"], warm["rss_kb"]) / 1024
        helper = max(cold["helper_kb"], warm["helper_kb"]) / 1024
        print(
            f"{row['name']:<12}{cold['seconds']:>8.2f}{warm['seconds']:>8.2f}{peak:>13.0f}"
            f"{helper:>12.0f}{cold['chars']:>7}  {'yes' if row['same'] else 'no'}"
        )


if __name__ == "__main__":
    main()
