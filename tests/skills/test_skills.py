"""Agent Skills through the real binary: discovery, the `skill` tool, sub-agents, bad skills."""

from __future__ import annotations

from pathlib import Path

from helpers import call, git, orchestrator, requests_of, script, sub_agent, task, turn

RELEASE_NOTES = """---
name: release-notes
description: Write release notes from the git log, grouped by Added / Fixed.
---
# Release notes

1. Run `git log --oneline` since the last tag.
2. Fill in templates/notes.md.
"""


def _load(**arguments: str) -> dict:
    """A `skill` tool call (its `name` argument clashes with helpers.call's)."""
    return {"name": "skill", "arguments": arguments}


def _skill(folder: Path, name: str, text: str, files: dict[str, str] | None = None) -> Path:
    (folder / name).mkdir(parents=True)
    (folder / name / "SKILL.md").write_text(text)
    for rel, content in (files or {}).items():
        path = folder / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return folder / name


def _header(name: str, description: str) -> str:
    return f"---\nname: {name}\ndescription: {description}\n---\nBody of {name}.\n"


def test_skills_list_shows_every_folder_and_reports_the_malformed(
    repo: Path, isolated_dirs: Path, kimicode
) -> None:
    _skill(repo / ".agents" / "skills", "release-notes", RELEASE_NOTES)
    _skill(repo / ".kimicode" / "skills", "db-migrate", _header("db-migrate", "Write a migration."))
    user = isolated_dirs / "config" / "kimicode" / "skills"
    _skill(user, "house-style", _header("house-style", "Our code [bold]style[/] rules."))
    _skill(user, "release-notes", _header("release-notes", "A shadowed copy."))
    _skill(repo / ".agents" / "skills", "no-header", "Just text, no front matter.\n")
    _skill(repo / ".agents" / "skills", "no-desc", "---\nname: no-desc\n---\nbody\n")
    res = kimicode("skills", "list", cwd=repo, env={"COLUMNS": "200"})
    assert res.code == 1, res  # skills were skipped: the exit code says so
    lines = res.stdout.splitlines()
    assert any("release-notes" in ln and "git log" in ln and ".agents/skills" in ln for ln in lines)
    assert any("db-migrate" in ln and ".kimicode/skills" in ln for ln in lines)
    assert "Our code [bold]style[/] rules." in res.stdout  # shown as text, never as markup
    assert "A shadowed copy" not in res.stdout
    assert "no-header/SKILL.md: no front matter" in res.stderr
    assert "no-desc/SKILL.md: front matter has no `description`" in res.stderr
    assert "release-notes/SKILL.md: 'release-notes' is defined earlier" in res.stderr


def test_no_skills_says_where_it_looked(repo: Path, kimicode) -> None:
    res = kimicode("skills", "list", cwd=repo, env={"COLUMNS": "200"})
    assert res.code == 0, res
    assert "no skills (looked in .agents/skills, .kimicode/skills" in res.stdout


def test_the_model_sees_names_and_loads_the_body_only_when_it_asks(
    repo: Path, replay, kimicode
) -> None:
    _skill(
        repo / ".agents" / "skills",
        "release-notes",
        RELEASE_NOTES,
        {"templates/notes.md": "## Added\n- ...\n"},
    )
    _skill(repo / ".agents" / "skills", "broken", "---\nname: [unclosed\n---\n")
    server = replay(
        script(
            (
                "write the release notes",
                [
                    turn(tool_calls=[_load(name="release-notes")]),
                    turn(tool_calls=[_load(name="release-notes", file="templates/notes.md")]),
                    turn(tool_calls=[_load(name="release-notes", file="../../../cli.py")]),
                    turn(tool_calls=[_load(name="nope")]),
                    turn("Notes written."),
                ],
            )
        )
    )
    res = kimicode("-p", "write the release notes", cwd=repo, server=server)
    assert res.code == 0, res
    assert res.stdout == "Notes written.\n"
    assert "skill skipped" in res.stderr and "broken/SKILL.md" in res.stderr
    bodies = requests_of(server)
    system = bodies[0]["messages"][0]["content"]
    assert "- release-notes: Write release notes from the git log" in system
    assert "Fill in templates/notes.md" not in system  # the body waits until it is asked for
    assert "skill" in [t["function"]["name"] for t in bodies[0]["tools"]]
    results = [m["content"] for m in bodies[-1]["messages"] if m["role"] == "tool"]
    assert "2. Fill in templates/notes.md." in results[0]
    assert "name: release-notes" not in results[0]  # the header is not repeated
    assert "- templates/notes.md" in results[0]
    assert results[1] == "## Added\n- ...\n"
    assert "not a file inside the skill's folder" in results[2]
    assert "no skill named 'nope'; available: release-notes" in results[3]


def test_without_skills_no_tool_and_no_section(repo: Path, replay, kimicode) -> None:
    server = replay(script(("hello", [turn("hi")])))
    res = kimicode("-p", "hello", cwd=repo, server=server)
    assert res.code == 0, res
    body = requests_of(server)[0]
    assert "skill" not in [t["function"]["name"] for t in body["tools"]]
    assert "Agent Skills" not in body["messages"][0]["content"]


def test_sub_agents_see_the_same_skills(repo: Path, replay, kimicode) -> None:
    _skill(repo / ".agents" / "skills", "release-notes", RELEASE_NOTES)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "skills")
    server = replay(
        script(
            orchestrator([task("notes", "NOTES.md")]),
            sub_agent(
                "notes",
                [
                    turn(tool_calls=[_load(name="release-notes")]),
                    turn(tool_calls=[call("write_file", path="NOTES.md", content="# Notes\n")]),
                    turn("notes done."),
                ],
            ),
        )
    )
    res = kimicode("-p", "Split the work", "--swarm", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    subs = [b for b in requests_of(server) if "Task notes:" in str(b["messages"][1]["content"])]
    assert subs, "the sub-agent never asked the model"
    assert "- release-notes: Write release notes" in subs[0]["messages"][0]["content"]
    loaded = next(m["content"] for m in subs[-1]["messages"] if m["role"] == "tool")
    assert "2. Fill in templates/notes.md." in loaded
    assert (repo / "NOTES.md").read_text() == "# Notes\n"
