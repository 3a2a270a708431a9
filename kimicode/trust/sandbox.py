"""A bubblewrap jail for shell commands the model asks for.

Inside it the whole filesystem is visible but read-only; only the agent's root
(the project, or a sub-agent's worktree) is writable, /tmp is a private empty
tmpfs, well-known credential stores and host service sockets (docker, D-Bus,
/run/user) are hidden, capabilities are dropped, the API key variables are
unset, and the network is cut off unless `[sandbox] network = true`.

Inside the writable root, what decides what runs next stays read-only:
`.git` whether it is a directory or a linked worktree's pointer file (then the
gitdir it names, and that gitdir's common dir, are bound read-only too, which
also makes them visible when they live under the private /tmp), and
`.kimicode`, which is mounted as an empty read-only directory when it does not
exist yet, so a command cannot create the project's config either. Paths a
caller names in `read_only` (the targets of `[swarm] link` symlinks) are bound
read-only at their own place, so they stay visible wherever they live.

`probe_sandbox` checks once per process that bwrap can really start here
(containers and AppArmor profiles often forbid the namespaces it needs) and
picks flags that work; with `mode = "auto"` a failure is one warning and an
unsandboxed shell, with `mode = "required"` it is an error.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kimicode.config import ENV_VARS, SandboxSettings
from kimicode.errors import UsageError
from kimicode.paths import config_dir
from kimicode.spawn import spawn

SECRET_ENV_VARS = ENV_VARS["model.api_key"]
"""Never passed to a command the model runs."""
HIDDEN_HOME_PATHS = (
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".netrc",
    ".git-credentials",
    ".pypirc",
    ".config/gcloud",
    ".config/gh",
    ".config/kimicode",
)
"""Credential stores a build does not need; covered by an empty tmpfs (or /dev/null).

Sockets matter even with the network off: a unix socket on a read-only
filesystem still connects."""
HIDDEN_SYSTEM_PATHS = (
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/podman",
    "/run/containerd",
    "/run/dbus",
    "/var/run/dbus",
)
"""Host services a command could ask to run something outside the jail (plus the
user's /run/user/<uid>: session bus, systemd --user, agent sockets)."""
READ_ONLY_IN_ROOT = (".git", ".kimicode")
"""Inside the writable root, still read-only: history, and what runs next time."""

_FLAG_SETS: tuple[tuple[str, ...], ...] = (
    (),
    ("--unshare-user",),
    ("--unshare-user", "--ro-bind", "/proc", "/proc"),
)
"""Extra flags tried in order: as is, in a user namespace, with the host /proc."""
_probe_cache: dict[tuple[str, bool], tuple[tuple[str, ...] | None, str]] = {}


@dataclass(frozen=True, slots=True)
class Sandbox:
    """Builds the bwrap command line; `wrap` is what `trust.launcher` calls."""

    network: bool = False
    bwrap: str = "bwrap"
    extra_flags: tuple[str, ...] = ()
    """Flags the probe found necessary here (e.g. `--unshare-user`)."""
    home: Path | None = field(default_factory=lambda: Path.home())
    extra_hidden: tuple[str, ...] = ()
    """More paths to hide, besides HIDDEN_HOME_PATHS and HIDDEN_SYSTEM_PATHS."""

    def wrap(
        self,
        argv: list[str],
        root: Path,
        *,
        read_only: Sequence[Path] = (),
        writable: Sequence[Path] = (),
    ) -> list[str]:
        real_root = os.path.realpath(root)
        # `env -u` clears the key before bwrap starts: bwrap's own environment is
        # readable inside the jail as /proc/1/environ, so --unsetenv is not enough.
        args = ["env"]
        for name in SECRET_ENV_VARS:
            args += ["-u", name]
        args += [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev"]
        if "/proc" not in self.extra_flags:
            args += ["--proc", "/proc"]
        args += [f for f in self.extra_flags if f != "--unshare-user"]
        args += ["--tmpfs", "/tmp"]
        args += ["--bind", real_root, real_root]
        args += _read_only_in_root(real_root)
        for path in read_only:
            real = os.path.realpath(path)
            if os.path.exists(real):
                args += ["--ro-bind", real, real]
        args += self._hide_secrets(real_root)
        for path in writable:  # after the hiding: a directory kimicode made for this command
            real = os.path.realpath(path)
            if os.path.isdir(real):
                args += ["--bind", real, real]
        if not self.network:
            args.append("--unshare-net")
        if "--unshare-user" in self.extra_flags:
            args.append("--unshare-user")
        # bwrap started by real root keeps every capability unless told otherwise, and
        # CAP_SYS_ADMIN would let a command simply remount / read-write.
        args += ["--cap-drop", "ALL"]
        args += ["--unshare-pid", "--die-with-parent", "--new-session", "--chdir", real_root]
        return [*args, "--", *argv]

    def _hide_secrets(self, real_root: str) -> list[str]:
        """Mount over credential stores and host service sockets (empty dir or /dev/null)."""
        wanted = [*HIDDEN_SYSTEM_PATHS, f"/run/user/{os.getuid()}", *self.extra_hidden]
        if self.home is not None:
            wanted += [os.path.join(self.home, name) for name in HIDDEN_HOME_PATHS]
            wanted.append(str(config_dir()))  # moved by XDG_CONFIG_HOME: hidden there too
        args: list[str] = []
        seen: set[str] = set()
        for path in wanted:
            real = os.path.realpath(path)
            if real in seen or not os.path.exists(real) or real in ("/", "/tmp"):
                continue
            if real_root == real or real_root.startswith(real + "/"):
                continue  # the project lives there: hiding it would hide the project
            seen.add(real)
            if os.path.isdir(real):
                args += ["--tmpfs", real]
            else:
                args += ["--ro-bind", "/dev/null", real]
        return args


def _read_only_in_root(real_root: str) -> list[str]:
    """Bind flags keeping `.git` (dir or pointer file, and its gitdir) and `.kimicode`
    read-only, `.kimicode` even when it does not exist yet."""
    args: list[str] = []
    for name in READ_ONLY_IN_ROOT:
        inside = os.path.join(real_root, name)
        if os.path.lexists(inside):
            real = os.path.realpath(inside)
            if os.path.exists(real):
                args += ["--ro-bind", real, real]
            if name == ".git" and os.path.isfile(real):
                for gitdir in linked_git_dirs(real):
                    args += ["--ro-bind", gitdir, gitdir]
        elif name == ".kimicode":
            args += ["--tmpfs", inside, "--remount-ro", inside]
    return args


def linked_git_dirs(pointer: str) -> list[str]:
    """The common dir and gitdir a `.git` pointer file names (`gitdir: X`), real paths."""
    try:
        with open(pointer, encoding="utf-8") as f:
            text = f.read(4096).strip()
    except (OSError, UnicodeDecodeError):
        return []
    if not text.startswith("gitdir:"):
        return []
    named = text.split(":", 1)[1].strip()
    gitdir = os.path.realpath(os.path.join(os.path.dirname(pointer), named))
    if not os.path.isdir(gitdir):
        return []
    found = [gitdir]
    try:
        with open(os.path.join(gitdir, "commondir"), encoding="utf-8") as f:
            common = os.path.realpath(os.path.join(gitdir, f.read(4096).strip()))
    except (OSError, UnicodeDecodeError):
        return found
    return [common, gitdir] if os.path.isdir(common) else found


@dataclass(frozen=True, slots=True)
class SandboxProbe:
    sandbox: Sandbox | None
    warning: str | None = None


async def probe(settings: SandboxSettings) -> SandboxProbe:
    """The sandbox to use, or None with the one warning a user should read."""
    if settings.mode == "off":
        return SandboxProbe(None)
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        problem = "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt install bubblewrap)"
        flags = None
    else:
        key = (bwrap, settings.network)
        if key not in _probe_cache:
            _probe_cache[key] = await _find_flags(bwrap, settings.network)
        flags, problem = _probe_cache[key]
    if flags is not None and bwrap is not None:
        return SandboxProbe(Sandbox(network=settings.network, bwrap=bwrap, extra_flags=flags))
    if settings.mode == "required":
        raise UsageError(
            f'[sandbox] mode = "required" but the sandbox cannot start: {problem}. '
            'Install or permit bubblewrap, or set [sandbox] mode = "off" to run shell '
            "commands unsandboxed."
        )
    return SandboxProbe(None, unavailable_warning(problem))


async def probe_sandbox(
    settings: SandboxSettings, *, warn: Callable[[str], None] | None = None
) -> Sandbox | None:
    """`probe`, handing its warning (if any) to `warn`."""
    found = await probe(settings)
    if found.warning and warn is not None:
        warn(found.warning)
    return found.sandbox


def unavailable_warning(problem: str) -> str:
    return (
        f"shell commands run WITHOUT a sandbox: {problem}. "
        'Set [sandbox] mode = "off" to run unsandboxed knowingly (and silence this), '
        'or mode = "required" to refuse to run without it.'
    )


def scrub_env(env: Mapping[str, str]) -> dict[str, str]:
    """A copy of `env` without the API key variables, for any command kimicode starts."""
    return {k: v for k, v in env.items() if k not in SECRET_ENV_VARS}


async def _find_flags(bwrap: str, network: bool) -> tuple[tuple[str, ...] | None, str]:
    """The first extra-flag set with which a jail like ours starts, or the first error."""
    first_error = ""
    for flags in _FLAG_SETS:
        sandbox = Sandbox(network=network, bwrap=bwrap, extra_flags=flags)
        with tempfile.TemporaryDirectory(prefix="kimicode-probe-") as root:
            ok, error = await _runs(sandbox.wrap(["true"], Path(root)))
        if ok:
            return flags, ""
        first_error = first_error or error
    return None, f"bwrap cannot start here ({first_error or 'unknown error'})"


async def _runs(argv: list[str]) -> tuple[bool, str]:
    try:
        proc = await spawn(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    except (OSError, TimeoutError) as exc:
        return False, str(exc) or type(exc).__name__
    text = err.decode("utf-8", "replace").strip().splitlines()
    return proc.returncode == 0, text[-1] if text else f"exit {proc.returncode}"
