"""Attacks on the git kimicode runs: repository config that names commands.

A hostile repository config (or a gitdir the model made and pointed a
worktree's `.git` file at) names an fsmonitor hook, clean/smudge filters, an
external diff, a textconv, a pager and a hooks directory. Every one of them
would append to a marker file outside the project; none may run when kimicode
runs git, and git never sees the API key.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import call, orchestrator, script, sub_agent, task, turn
from trust_helpers import git

from kimicode.git.catfile import CatFile
from kimicode.git.run import git as kimicode_git
from kimicode.git.run import git_result, git_sync

API_KEY = "sk-test-0123456789abcdef"  # what the `kimicode` fixture puts in the environment
HOOKS = ("pre-commit", "commit-msg", "post-commit", "post-checkout", "reference-transaction")


def hostile_script(tmp_path: Path) -> tuple[Path, Path]:
    """(the command every hostile setting names, the marker file it appends to)."""
    marker = tmp_path / "marker"
    command = tmp_path / "evil.sh"
    command.write_text(
        "#!/bin/sh\n"
        f'echo "ran $0 $*" >> {marker}\n'
        f"env >> {marker}\n"
        'case "$1" in clean|smudge|pager) cat ;; esac\n'
        "exit 0\n"
    )
    command.chmod(0o755)
    return command, marker


def hostile_config(command: Path, hooks: Path) -> str:
    hooks.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        shutil.copy(command, hooks / name)
    return (
        "[core]\n"
        f"\tfsmonitor = {command} fsmonitor\n"
        f"\thooksPath = {hooks}\n"
        f"\tpager = {command} pager\n"
        '[filter "evil"]\n'
        f"\tclean = {command} clean\n"
        f"\tsmudge = {command} smudge\n"
        "\trequired = true\n"
        "[diff]\n"
        f"\texternal = {command} extdiff\n"
        '[diff "evil"]\n'
        f"\ttextconv = {command} textconv\n"
    )


@pytest.fixture
def hostile(project: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The project with a hostile .git/config and attributes that select its drivers."""
    (project / ".gitattributes").write_text("* filter=evil diff=evil\n")
    git(project, "add", ".gitattributes")
    git(project, "commit", "-q", "-m", "attributes")
    command, marker = hostile_script(tmp_path)
    with (project / ".git" / "config").open("a") as config:
        config.write(hostile_config(command, tmp_path / "hooks"))
    return project, marker


def ran(marker: Path) -> str:
    return marker.read_text() if marker.exists() else ""


def test_the_hostile_config_is_live_for_plain_git(hostile: tuple[Path, Path]) -> None:
    """The attack works on git as it comes: this is what kimicode must not do."""
    project, marker = hostile
    (project / "src" / "app.py").write_text("print('changed')\n")
    subprocess.run(["git", "diff"], cwd=project, capture_output=True)
    subprocess.run(["git", "add", "-A"], cwd=project, capture_output=True)
    assert "fsmonitor" in ran(marker) and "clean" in ran(marker) and "extdiff" in ran(marker)


async def test_the_runner_runs_none_of_them(hostile: tuple[Path, Path]) -> None:
    project, marker = hostile
    (project / "src" / "app.py").write_text("print('changed')\n")
    code, diff, _ = await git_result(project, "diff", "HEAD")
    assert code == 0 and b"+print('changed')" in diff  # git's own diff, not a textconv's
    await kimicode_git(project, "status", "--porcelain")
    await kimicode_git(project, "add", "-A")
    await kimicode_git(project, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x")
    await kimicode_git(project, "log", "-p", "-1")
    await kimicode_git(project, "show", "HEAD")
    reader = CatFile(project)
    try:
        assert await reader.read("HEAD:src/app.py") == b"print('changed')\n"  # no clean filter
    finally:
        await reader.close()
    assert ran(marker) == ""


async def test_the_plumbing_run_without_the_driver_listing_runs_none_of_them(
    hostile: tuple[Path, Path],
) -> None:
    """The commands `NO_DRIVERS` spares the `config --list` for, as the swarm runs them,
    on files the hostile attributes select."""
    project, marker = hostile
    (project / "src" / "app.py").write_text("print('changed')\n")
    (project / "new.txt").write_text("new\n")
    head = (await kimicode_git(project, "rev-parse", "HEAD")).decode().strip()
    tree = (await kimicode_git(project, "rev-parse", "HEAD^{tree}")).decode().strip()
    blob = (await kimicode_git(project, "rev-parse", "HEAD:src/app.py")).decode().strip()
    stream = (
        "commit refs/heads/fast\ncommitter t <t@e> 0 +0000\ndata 1\nx\n"
        f"from {head}\nM 100644 inline src/app.py\ndata 4\nnew\n\n"
    )
    await kimicode_git(project, "fast-import", "--quiet", input=stream.encode())
    fast = (await kimicode_git(project, "rev-parse", "refs/heads/fast")).decode().strip()
    await kimicode_git(project, "diff-tree", "--stdin", "--stat", input=f"{fast} {head}\n".encode())
    await kimicode_git(project, "diff-tree", "-p", "-r", head, fast)
    # with --textconv the listing blanks the driver: git cannot run it, and says so
    await kimicode_git(project, "diff-tree", "-p", "--textconv", "-r", head, fast, check=False)
    await kimicode_git(project, "check-ignore", "--stdin", "-z", input=b"new.txt\0", check=False)
    await kimicode_git(project, "ls-files", "-z", "--others", "--exclude-standard")
    await kimicode_git(project, "ls-tree", "-r", head)
    await kimicode_git(
        project, "update-ref", "--stdin", input=f"create refs/heads/b {head}\n".encode()
    )
    await kimicode_git(project, "for-each-ref", "refs/heads")
    await kimicode_git(project, "var", "-l")
    await kimicode_git(project, "mktree", input=f"100644 blob {blob}\tapp.py\n".encode())
    await kimicode_git(
        project,
        "commit-tree",
        tree,
        "-p",
        head,
        "-m",
        "x",
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@e",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@e",
        },
    )
    await kimicode_git(project, "merge-base", head, fast)
    await kimicode_git(project, "rev-list", fast)
    await kimicode_git(project, "show-ref")
    await kimicode_git(project, "symbolic-ref", "HEAD")
    await kimicode_git(project, "hash-object", "-w", "--stdin", input=b"print('x')\n")
    await kimicode_git(project, "cat-file", "--filters", f"{head}:src/app.py", check=False)
    assert ran(marker) == ""


def test_only_plumbing_skips_the_driver_listing() -> None:
    from kimicode.git.run import runs_no_driver

    assert runs_no_driver(["diff-tree", "--stdin", "--stat"])
    assert runs_no_driver(["-C", "sub", "-c", "a.b=c", "ls-files", "-z"])
    assert not runs_no_driver(["diff-tree", "--textconv", "-p"])
    assert not runs_no_driver(["diff-tree", "--ext-diff"])
    assert not runs_no_driver(["cat-file", "--filters", "HEAD:x"])
    for porcelain in ("status", "add", "diff", "log", "show", "commit", "checkout", "hash-object"):
        assert not runs_no_driver([porcelain])
    assert runs_no_driver(["hash-object", "-w", "--stdin"])
    assert not runs_no_driver(["hash-object", "--stdin", "--path", "src/app.py"])
    assert not runs_no_driver(["hash-object", "--stdin", "--path=src/app.py"])
    assert not runs_no_driver(["hash-object", "--stdin-paths"])
    assert not runs_no_driver(["read-tree", "-u", "HEAD"]) and not runs_no_driver([])


def test_a_signed_looking_commit_does_not_run_the_repositorys_gpg_program(
    project: Path, tmp_path: Path
) -> None:
    """`log.showSignature` makes `git log` verify signatures with `gpg.program`."""
    command, marker = hostile_script(tmp_path)
    tree = git(project, "rev-parse", "HEAD^{tree}").strip()
    body = (
        f"tree {tree}\nauthor a <a@a> 1 +0000\ncommitter a <a@a> 1 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n AAAA\n -----END PGP SIGNATURE-----\n\nsigned\n"
    )
    (tmp_path / "commit").write_text(body)
    sha = git(project, "hash-object", "-t", "commit", "-w", str(tmp_path / "commit")).strip()
    git(project, "update-ref", "HEAD", sha)
    git(project, "config", "gpg.program", str(command))
    git(project, "config", "log.showSignature", "true")
    subprocess.run(["git", "log", "-1"], cwd=project, capture_output=True)
    assert "ran" in ran(marker)  # plain git verifies, running the repository's program
    marker.unlink()
    git_sync(project, "log", "-1")
    git_sync(project, "show", "HEAD")
    assert ran(marker) == ""


async def test_git_gets_no_api_key_and_the_users_own_drivers_still_run(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter from the user's global config is the user's: it runs, without the key."""
    dump = tmp_path / "env-seen-by-git"
    global_config = tmp_path / "gitconfig"
    global_config.write_text(f'[filter "mine"]\n\tclean = "sh -c \'env > {dump}; cat\'"\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    monkeypatch.setenv("KIMICODE_API_KEY", API_KEY)
    (project / ".gitattributes").write_text("*.py filter=mine\n")
    (project / "src" / "app.py").write_text("print('changed')\n")
    await kimicode_git(project, "add", "src/app.py")
    seen = dump.read_text()
    assert "PATH=" in seen and "KIMICODE_API_KEY" not in seen and API_KEY not in seen


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the repository to another user")
def test_a_repository_owned_by_another_user_still_works(project: Path) -> None:
    subprocess.run(["chown", "-R", "65534:65534", str(project)], check=True)
    plain = subprocess.run(["git", "status"], cwd=project, capture_output=True, text=True)
    assert "dubious ownership" in plain.stderr
    assert b"app.py" in git_sync(project, "ls-files")


def _swarm_writer(name: str, path: str, *first: dict) -> tuple[str, list]:
    return sub_agent(
        name,
        [
            *first,
            turn(tool_calls=[call("write_file", path=path, content=f"# {name}\n")]),
            turn(f"{name} wrote {path}."),
        ],
    )


def test_a_swarm_run_in_a_hostile_repository_runs_none_of_it(
    hostile: tuple[Path, Path], replay, kimicode
) -> None:
    """Snapshot of a dirty tree, worktree, commit, merge, glob and grep: all git, no hook."""
    project, marker = hostile
    (project / "src" / "app.py").write_text("print('dirty')\n")  # the snapshot runs `git add`
    search = turn(tool_calls=[call("glob", pattern="**/*.py"), call("grep", pattern="print")])
    spawn = orchestrator([task("alpha", "docs/alpha.md")])
    server = replay(
        script(("^Split", [search, *spawn[1]]), _swarm_writer("alpha", "docs/alpha.md"))
    )
    res = kimicode(
        "-p", "Split the work", "--swarm", "--yolo", "--output-format", "json",
        cwd=project, server=server,
    )  # fmt: skip
    assert res.code == 0, res
    agents = res.json()["agents"]
    assert agents[0]["merged"] is True, res
    assert (project / "docs" / "alpha.md").read_text() == "# alpha\n"
    assert ran(marker) == ""


def test_glob_and_grep_in_a_hostile_repository_run_none_of_it(
    hostile: tuple[Path, Path], replay, kimicode
) -> None:
    """Both list files with `git ls-files`, which plain git answers by running fsmonitor."""
    project, marker = hostile
    server = replay(
        script(
            (
                "look",
                [
                    turn(tool_calls=[call("glob", pattern="**/*.py")]),
                    turn(tool_calls=[call("grep", pattern="print", glob="*.py")]),
                    turn("Looked."),
                ],
            )
        )
    )
    res = kimicode("-p", "look around", "--output-format", "json", cwd=project, server=server)
    assert res.code == 0, res
    tool_results = [
        m["content"] for r in server.requests if r.get("status") == 200
        for m in r["body"]["messages"] if m["role"] == "tool"
    ]  # fmt: skip
    assert any("src/app.py" in str(c) for c in tool_results)  # the tools really listed files
    assert ran(marker) == ""


def test_a_sub_agent_pointing_its_git_file_at_its_own_gitdir_runs_nothing(
    project: Path, tmp_path: Path, isolated_dirs: Path, replay, kimicode
) -> None:
    """The model makes a gitdir with a hostile config and rewrites its worktree's `.git`.

    The sandbox is off here (as on a machine without bubblewrap), so the rewrite
    succeeds; kimicode's own `git add`/`commit` in that worktree must still run
    none of the gitdir's commands, and commit where kimicode's gitdir is.
    """
    config = isolated_dirs / "config" / "kimicode" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[sandbox]\nmode = "off"\n')
    command, marker = hostile_script(tmp_path)
    evil = tmp_path / "evil" / ".git"
    (tmp_path / "evil-config").write_text(hostile_config(command, tmp_path / "hooks"))
    rewrite = (
        f"git init -q {evil.parent} && cat {tmp_path / 'evil-config'} >> {evil}/config && "
        f"echo '* filter=evil' > .gitattributes && printf 'gitdir: {evil}\\n' > .git"
    )
    server = replay(
        script(
            orchestrator([task("alpha", "docs/alpha.md")]),
            _swarm_writer(
                "alpha", "docs/alpha.md", turn(tool_calls=[call("run_shell", command=rewrite)])
            ),
        )
    )
    res = kimicode("-p", "Split the work", "--swarm", "--yolo", cwd=project, server=server)
    assert (evil / "config").exists(), res  # the model's rewrite really happened
    assert ran(marker) == "", res
    # kimicode committed in the gitdir it made, not the model's: the work merged
    assert not (evil / "index").exists(), res
    assert (project / "docs" / "alpha.md").read_text() == "# alpha\n", res


def test_nothing_outside_kimicode_git_starts_git_itself() -> None:
    """One runner: a `git` command line anywhere else would skip the hardening."""
    import ast

    import kimicode

    package = Path(kimicode.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        if path.parent.name == "git" and path.parent.parent == package:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.List) and first.elts:
                first = first.elts[0]
            if isinstance(first, ast.Constant) and first.value == "git":
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert offenders == []
