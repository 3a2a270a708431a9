"""Real bubblewrap: each test runs a command inside the jail and checks the host."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from pathlib import Path

import pytest

from kimicode.config import SandboxSettings, Settings
from kimicode.errors import UsageError
from kimicode.tools.base import ToolContext, ToolServices
from kimicode.tools.run_shell import RunShell, RunShellParams
from kimicode.tools.workspace import Workspace
from kimicode.trust.sandbox import Sandbox, probe, probe_sandbox

# The sandbox's /tmp is private, so an interpreter living under /tmp (a venv made
# there) is invisible inside it; a system one is not.
PYTHON = sys.executable
if PYTHON.startswith("/tmp/") and os.path.exists("/usr/bin/python3"):
    PYTHON = "/usr/bin/python3"

pytestmark = pytest.mark.sandbox


async def sandbox_or_skip(network: bool = False) -> Sandbox:
    found = await probe(SandboxSettings(mode="auto", network=network))
    if found.sandbox is None:
        pytest.skip(found.warning or "bwrap cannot start here")
    return found.sandbox


async def run_in(sandbox: Sandbox, root: Path, script: str) -> tuple[int, str]:
    """Run `script` through the real run_shell tool with the sandbox in its context."""
    services = ToolServices(
        workspace=Workspace(root),
        settings=Settings(project_dir=root),
        emit=lambda event: None,
        sandbox=sandbox,
    )
    ctx = ToolContext(services)
    result = await RunShell().run(RunShellParams(command=script), ctx)
    match = re.search(r"exit code (-?\d+)$", result.text)
    assert match, result.text
    return int(match.group(1)), result.text


async def test_writes_inside_the_root_work_and_outside_fail(project: Path, tmp_path: Path) -> None:
    sandbox = await sandbox_or_skip()
    beside = tmp_path / "beside.txt"  # under /tmp: lands in the private tmpfs at most
    in_home = Path.home() / f"kimicode-sandbox-{uuid.uuid4().hex}.txt"
    try:
        code, out = await run_in(
            sandbox, project, f"echo in > inside.txt && echo x > {beside} && echo x > {in_home}"
        )
        assert code != 0 and "Read-only file system" in out
        assert (project / "inside.txt").read_text() == "in\n"
        assert not beside.exists()
        assert not in_home.exists()
    finally:
        in_home.unlink(missing_ok=True)


async def test_the_repository_git_dir_is_read_only(project: Path) -> None:
    sandbox = await sandbox_or_skip()
    head = (project / ".git" / "HEAD").read_bytes()
    code, out = await run_in(sandbox, project, "echo evil > .git/HEAD; touch .git/hooks/pre-commit")
    assert "Read-only file system" in out
    assert (project / ".git" / "HEAD").read_bytes() == head
    assert not (project / ".git" / "hooks" / "pre-commit").exists()
    code, out = await run_in(sandbox, project, "git status --short && git log --oneline | wc -l")
    assert code == 0, out  # reading history still works


async def test_kimicode_config_in_the_project_is_read_only(project: Path) -> None:
    sandbox = await sandbox_or_skip()
    (project / ".kimicode").mkdir()
    (project / ".kimicode" / "config.toml").write_text("")
    cmd = "echo '[permissions]' >> .kimicode/config.toml; echo {} > .kimicode/mcp.json"
    await run_in(sandbox, project, cmd)
    assert (project / ".kimicode" / "config.toml").read_text() == ""
    assert not (project / ".kimicode" / "mcp.json").exists()


async def test_tmp_is_private(project: Path) -> None:
    sandbox = await sandbox_or_skip()
    name = f"kimicode-sandbox-{uuid.uuid4().hex}"
    code, out = await run_in(sandbox, project, f"echo x > /tmp/{name} && cat /tmp/{name}")
    assert code == 0 and out.splitlines()[0] == "x"
    assert not await asyncio.to_thread(os.path.exists, f"/tmp/{name}")


async def test_dot_dot_and_symlinks_cannot_write_outside(project: Path, tmp_path: Path) -> None:
    sandbox = await sandbox_or_skip()
    target = tmp_path / "escape"
    target.mkdir()
    (project / "link").symlink_to(target)
    script = (
        "echo a > link/a.txt; echo b > ../escape/b.txt; "
        f"ln -s {target} newlink && echo c > newlink/c.txt; "
        f"cd {target} && echo d > d.txt"
    )
    await run_in(sandbox, project, script)
    assert list(target.iterdir()) == []


async def test_home_credentials_are_hidden(project: Path, tmp_path: Path) -> None:
    base = await sandbox_or_skip()
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_text("PRIVATE")
    (home / ".netrc").write_text("machine x password y")
    sandbox = Sandbox(bwrap=base.bwrap, extra_flags=base.extra_flags, home=home)
    _, out = await run_in(sandbox, project, f"cat {home}/.ssh/id_ed25519 {home}/.netrc")
    assert "PRIVATE" not in out and "password" not in out


async def test_kimicode_config_is_hidden_where_xdg_config_home_puts_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = await sandbox_or_skip()
    config = tmp_path / "xdg" / "kimicode"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('[model]\napi_key = "sk-in-config"\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    sandbox = Sandbox(bwrap=base.bwrap, extra_flags=base.extra_flags, home=tmp_path / "home")
    script = f"cat {config}/config.toml; echo entries=$(ls -A {config} | wc -l)"
    _, out = await run_in(sandbox, project, script)
    assert "sk-in-config" not in out and "entries=0" in out


async def test_api_key_is_not_visible_anywhere_inside(project: Path) -> None:
    """Even when the caller forgets to scrub it: not in $VAR, not in /proc/*/environ."""
    sandbox = await sandbox_or_skip()
    script = "cat /proc/[0-9]*/environ | tr '\\0' '\\n'; echo key=$KIMICODE_API_KEY"
    argv = sandbox.wrap(["bash", "-c", script], project)
    env = {**os.environ, "KIMICODE_API_KEY": "sk-should-not-leak"}
    proc = await asyncio.create_subprocess_exec(*argv, env=env, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert b"key=\n" in out and b"sk-should-not-leak" not in out


async def test_host_sockets_are_hidden_even_with_network_off(project: Path) -> None:
    base = await sandbox_or_skip()
    path = project / "agent.sock"
    server = await asyncio.start_unix_server(lambda r, w: w.close(), path=str(path))
    connect = f"import socket; s=socket.socket(socket.AF_UNIX); s.connect({str(path)!r})"
    async with server:
        open_jail = Sandbox(bwrap=base.bwrap, extra_flags=base.extra_flags)
        code, _ = await run_in(open_jail, project, f'{PYTHON} -c "{connect}"')
        assert code == 0  # a visible socket connects although the network is off
        masked = Sandbox(bwrap=base.bwrap, extra_flags=base.extra_flags, extra_hidden=(str(path),))
        code, out = await run_in(masked, project, f'{PYTHON} -c "{connect}"')
        assert code != 0 and "Connection refused" in out


async def test_root_inside_cannot_remount_or_regain_privileges(project: Path) -> None:
    sandbox = await sandbox_or_skip()
    target = Path.home() / f"kimicode-sandbox-{uuid.uuid4().hex}"
    script = (
        f"mount -o remount,rw / ; touch {target}; "
        f"unshare -Urm sh -c 'mount -o remount,rw / && touch {target}'; "
        "grep CapEff /proc/self/status"
    )
    try:
        _, out = await run_in(sandbox, project, script)
        assert "CapEff:\t0000000000000000" in out
        assert not target.exists()
    finally:
        target.unlink(missing_ok=True)


async def _serve_once() -> tuple[asyncio.Server, int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


CONNECT = (
    "import socket,sys; s=socket.create_connection(('127.0.0.1', {port}), timeout=5); "
    "print(s.recv(5).decode())"
)


async def test_network_is_off_by_default(project: Path) -> None:
    sandbox = await sandbox_or_skip(network=False)
    server, port = await _serve_once()
    async with server:
        code, out = await run_in(sandbox, project, f'{PYTHON} -c "{CONNECT.format(port=port)}"')
    assert code != 0 and "hello" not in out


async def test_network_on_when_settings_allow_it(project: Path) -> None:
    sandbox = await sandbox_or_skip(network=True)
    server, port = await _serve_once()
    async with server:
        code, out = await run_in(sandbox, project, f'{PYTHON} -c "{CONNECT.format(port=port)}"')
    assert code == 0 and "hello" in out


async def test_mode_off_gives_no_sandbox() -> None:
    assert await probe_sandbox(SandboxSettings(mode="off")) is None


async def test_missing_bwrap_warns_in_auto_and_fails_closed_when_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    warnings: list[str] = []
    assert await probe_sandbox(SandboxSettings(mode="auto"), warn=warnings.append) is None
    assert len(warnings) == 1
    assert 'mode = "off"' in warnings[0] and 'mode = "required"' in warnings[0]
    assert "bwrap" in warnings[0]
    with pytest.raises(UsageError, match="required"):
        await probe_sandbox(SandboxSettings(mode="required"))


def test_wrap_builds_the_documented_command(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    argv = Sandbox(network=False, home=None).wrap(["bash", "-c", "ls"], tmp_path)
    root = os.path.realpath(tmp_path)
    text = " ".join(argv)
    assert "--ro-bind / /" in text and "--tmpfs /tmp" in text
    assert f"--bind {root} {root}" in text
    assert f"--ro-bind {root}/.git {root}/.git" in text
    assert "--unshare-net" in argv and "--die-with-parent" in argv
    assert argv.index("--tmpfs") < argv.index("--bind")  # a root under /tmp stays visible
    assert argv[-3:] == ["bash", "-c", "ls"]
    assert argv[0] == "env" and "KIMICODE_API_KEY" in argv[: argv.index("bwrap")]
    assert text.count("--cap-drop ALL") == 1
    assert "--unshare-net" not in Sandbox(network=True, home=None).wrap(["true"], tmp_path)
