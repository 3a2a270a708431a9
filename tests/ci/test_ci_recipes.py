"""The CI recipes in examples/ci/: parsed as YAML, and their exact command lines run against
the replay server: a JSON result, exit 1 failing the job, exit 75 retried."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import script, turn

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-test-0123456789abcdef"
TASK = "add a changelog entry"


def _recipe(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / "ci" / name).read_text(encoding="utf-8"))


@pytest.fixture
def on_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose `kimicode` on PATH is this checkout's entry point."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "kimicode"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m kimicode "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def _github_step(name: str) -> dict[str, Any]:
    steps = _recipe("github-actions.yml")["jobs"]["kimicode"]["steps"]
    return next(s for s in steps if s.get("name") == name)


def _github_env(step: dict[str, Any]) -> dict[str, str]:
    """The step's env with the `${{ }}` expressions a real run would fill in."""
    values = {"secrets.KIMICODE_API_KEY": KEY, "inputs.task": TASK}

    def fill(text: str) -> str:
        return re.sub(r"\$\{\{\s*([^}]+?)\s*\}\}", lambda m: values[m.group(1)], text)

    return {k: fill(str(v)) for k, v in step["env"].items()}


def _run_github(repo: Path, server_url: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    step = _github_step("Run the task")
    full = {**env, **_github_env(step), "RETRY_DELAY": "0", "KIMICODE_BASE_URL": server_url}
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=repo,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_github_recipe_installs_kimicode_and_prints_the_json_result(
    repo: Path, replay, on_path
) -> None:
    assert "pipx install kimicode" in _github_step("Install kimicode")["run"]
    assert _recipe("github-actions.yml")[True]["workflow_dispatch"]["inputs"]["task"]["required"]
    server = replay(script((TASK, [turn("Added the entry.")])))
    res = _run_github(repo, server.url, on_path)
    assert res.returncode == 0, res
    result = json.loads((repo / "kimicode-result.json").read_text())
    assert result["status"] == "success" and result["result"] == "Added the entry."
    assert json.loads(res.stdout) == result  # the job log shows the result


def test_github_recipe_fails_the_job_when_the_task_fails(repo: Path, replay, on_path) -> None:
    server = replay(script(("something else entirely", [turn("never")])))
    res = _run_github(repo, server.url, on_path)
    assert res.returncode == 1, res
    assert json.loads((repo / "kimicode-result.json").read_text())["status"] == "error"
    assert "retrying" not in res.stdout


def test_github_recipe_retries_a_temporary_failure(repo: Path, replay, on_path) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[retry]\nattempts = 1\n")
    server = replay(
        script((TASK, [turn("Added after a retry.", fault={"status": 503, "times": 1})]))
    )
    res = _run_github(repo, server.url, on_path)
    assert res.returncode == 0, res
    assert "temporary failure (attempt 1), retrying" in res.stdout
    assert json.loads((repo / "kimicode-result.json").read_text())["result"] == (
        "Added after a retry."
    )


def _gitlab_job() -> dict[str, Any]:
    return _recipe("gitlab-ci.yml")["kimicode"]


def _run_gitlab(repo: Path, server_url: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    lines = "\n".join(_gitlab_job()["script"])
    full = {**env, "TASK": TASK, "KIMICODE_API_KEY": KEY, "KIMICODE_BASE_URL": server_url}
    return subprocess.run(
        ["bash", "-e", "-c", lines], cwd=repo, env=full, capture_output=True, text=True, timeout=300
    )


def test_gitlab_recipe_runs_the_task_and_is_retried_on_75(repo: Path, replay, on_path) -> None:
    job = _gitlab_job()
    assert any("pipx install kimicode" in line for line in job["before_script"])
    assert job["retry"]["exit_codes"] == [75] and job["artifacts"]["when"] == "always"
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "config.toml").write_text("[retry]\nattempts = 1\n")
    server = replay(script((TASK, [turn("Done in GitLab.", fault={"status": 503, "times": 1})])))
    first = _run_gitlab(repo, server.url, on_path)
    assert first.returncode == 75, first  # GitLab retries the job on this code
    second = _run_gitlab(repo, server.url, on_path)
    assert second.returncode == 0, second
    assert json.loads(second.stdout)["result"] == "Done in GitLab."


def test_gitlab_recipe_fails_the_job_on_a_bad_configuration(repo: Path, replay, on_path) -> None:
    server = replay(script((TASK, [turn("never")])))
    env = {k: v for k, v in on_path.items() if k != "KIMICODE_API_KEY"}
    lines = "\n".join(_gitlab_job()["script"])
    res = subprocess.run(
        ["bash", "-e", "-c", lines],
        cwd=repo,
        env={**env, "TASK": TASK, "KIMICODE_BASE_URL": server.url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2, res
    assert "no API key" in res.stderr


@pytest.mark.parametrize("name", ["github-actions.yml", "gitlab-ci.yml"])
def test_the_readme_shows_the_recipes_as_they_are_in_examples(name: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipe = (ROOT / "examples" / "ci" / name).read_text(encoding="utf-8")
    assert f"```yaml\n{recipe}```" in readme
