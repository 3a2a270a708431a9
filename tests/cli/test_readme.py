"""The README's two set-up commands and `.ci/run` stay in step; its Security section is the
only copy of that text."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text.split("## ", 1)[0])


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    demo, tests = _readme_commands()[:2]
    assert demo.endswith("kimicode demo")
    assert "pytest" in tests and "'.[test]'" in tests


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_commands()[1] in ci.splitlines()


def test_the_readme_config_example_is_a_valid_configuration(tmp_path: Path) -> None:
    from kimicode.config import load_settings

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"## Configuration.*?```toml\n(.+?)```", text, re.S)
    assert example is not None
    (tmp_path / ".kimicode").mkdir()
    (tmp_path / ".kimicode" / "config.toml").write_text(example.group(1))
    settings = load_settings(tmp_path, env={}, user_file=tmp_path / "none.toml")
    assert settings.permissions.deny == ["run_shell(git push*)"]
    assert settings.checks.test == "pytest -q" and settings.swarm.copy_paths == [".env"]


def test_the_security_section_has_no_second_copy() -> None:
    """One source: the README's Security section; no file in the package repeats it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Security\n") :]
    opening = section.split("\n\n")[1]
    assert "untrusted input" in opening
    copies = [
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "kimicode").rglob("*.md")
        if opening in p.read_text(encoding="utf-8")
    ]
    assert copies == []
