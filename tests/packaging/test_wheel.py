"""kimicode as users install it: a built wheel in a fresh venv runs `kimicode demo`.

The wheel is built from this checkout and installed with pip into a new venv,
as `pipx install` / `uv tool install` do. By default the venv sees the system
site-packages, so the wheel's dependencies resolve without downloading them
all; `KIMICODE_WHEEL_ISOLATED=1` makes a fully isolated venv (every
dependency from the index). Either way the installed copy, not this checkout,
must run: its prompts, queries, styles and sample project come from the wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, cwd: Path, timeout: float = 900, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(kw.pop("env", {}))
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.timeout(1500)
def test_the_built_wheel_installs_into_a_fresh_venv_and_runs_the_demo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        dist,
        ROOT,
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("kimicode-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for data in (
        "kimicode/agent/prompts/system.md",
        "kimicode/tools/skill.md",
        "kimicode/ui/tui/app.tcss",
        "kimicode/repo/queries/python-tags.scm",
        "kimicode/demo/sample/SITE.md",
    ):
        assert data in names, f"{data} is missing from the wheel"
    venv = tmp_path / "venv"
    isolated = os.environ.get("KIMICODE_WHEEL_ISOLATED") == "1"
    made = _run(
        sys.executable,
        "-m",
        "venv",
        *([] if isolated else ["--system-site-packages"]),
        venv,
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    installed = _run(venv / "bin" / "pip", "install", "-q", wheel, cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    where = _run(
        venv / "bin" / "python", "-c", "import kimicode; print(kimicode.__file__)", cwd=tmp_path
    )
    assert where.stdout.strip().startswith(str(venv)), where
    version = _run(venv / "bin" / "kimicode", "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("kimicode "), version
    home = tmp_path / "home"
    dirs = {
        "KIMICODE_DATA_DIR": str(home / "data"),
        "KIMICODE_CACHE_DIR": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    site = tmp_path / "site"
    demo = _run(venv / "bin" / "kimicode", "demo", "--keep", site, cwd=tmp_path, env=dirs)
    assert demo.returncode == 0, demo.stderr
    assert "6/6 merged" in demo.stderr
    assert "Bread worth waking up for" in (site / "index.html").read_text()
