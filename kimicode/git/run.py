"""Every git command kimicode runs, hardened against the repository it runs in.

A repository's own config (`.git/config`, a worktree's `config.worktree`, or
whatever gitdir a `.git` pointer file names) can be written by the model:
directly when the sandbox is off, or by rewriting a worktree's `.git` file to
a gitdir it made. Git executes several commands named there, so each command
is started with:

- `-c core.fsmonitor=false` and `-c core.hooksPath=/dev/null`: no fsmonitor
  hook, no `pre-commit`/`post-checkout`/... hooks, from any config;
- every `filter.<driver>.clean|smudge|process`, `diff.<driver>.command|
  textconv` and `hook.<name>.command` (newer git's config-defined hooks) that
  the repository's own config (scope `local` or `worktree`) defines, blanked
  (a user's own global drivers, git-lfs say, keep working);
- `--no-ext-diff --no-textconv` on `diff`, `log` and `show`: no `diff.external`;
- `--no-pager`, `credential.helper` emptied, signing and signature display
  off (`log.showSignature` would run `gpg.program`), `GIT_ASKPASS`,
  `GIT_EDITOR` and `GIT_PAGER` set to do nothing, `protocol.ext` refused;
- `safe.directory` for the directory kimicode was pointed at (its config can
  run nothing now, so git's ownership refusal protects nothing there);
- the scrubbed environment: no API key variables (`trust.sandbox.scrub_env`),
  no inherited `GIT_*` variable that redirects or runs something.

The listing of drivers is one extra `git config --list` per command; a few
milliseconds, paid for knowing what the repository asks git to run, except for
the plumbing in `NO_DRIVERS`, which runs none of those drivers (git applies
textconv and external diffs in porcelain only, and filters only where it
converts between the index and files: add, status, checkout, hash-object of
a path). A swarm's git work is that plumbing, and the listing was half of its
processes and of the time its commits took. Commands
are asyncio subprocesses (killed when their task is cancelled), retried while
another git holds a lock; `git_sync` is the blocking twin for worker threads.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from kimicode.errors import KimicodeError
from kimicode.spawn import spawn
from kimicode.trust.sandbox import scrub_env

LOCK_MARKERS = (".lock': File exists", "Unable to create", "is locked")
"""What git says when another git holds a lock: worth a retry. ("cannot lock ref" alone
is not: "reference already exists" and "is at X but expected Y" say the same, and waiting
does not change them.)"""
HARDENING = (
    "--no-pager",
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "credential.helper=",
    "-c", "core.askPass=",
    "-c", "commit.gpgSign=false",
    "-c", "tag.gpgSign=false",
    "-c", "log.showSignature=false",
    "-c", "protocol.ext.allow=never",
)  # fmt: skip
DIFF_COMMANDS = frozenset({"diff", "log", "show"})
DIFF_FLAGS = ("--no-ext-diff", "--no-textconv")
DRIVER_KEYS = {
    "filter": ("clean", "smudge", "process"),
    "diff": ("command", "textconv"),
    "hook": ("command",),
}
UNTRUSTED_SCOPES = ("local", "worktree")
NO_DRIVERS = frozenset(
    {
        "cat-file",
        "check-ignore",
        "commit-tree",
        "diff-tree",
        "fast-import",
        "for-each-ref",
        "ls-files",
        "ls-tree",
        "merge-base",
        "mktree",
        "rev-list",
        "rev-parse",
        "show-ref",
        "symbolic-ref",
        "update-ref",
        "var",
        "version",
    }
)
"""Plumbing that never runs a filter, textconv, external diff or hook, so it needs no
listing of the repository's drivers (the fixed hardening still applies)."""
DRIVER_FLAGS = frozenset({"--ext-diff", "--textconv", "--filters"})
"""Flags that make some of that plumbing run drivers after all."""
KEPT_GIT_VARS = frozenset(
    {
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
    }
)
"""The user's own choices of config file and identity; other inherited GIT_* go."""
QUIET_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "SSH_ASKPASS": "",
    "GIT_EDITOR": "true",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "LC_ALL": "C",
}


class GitError(KimicodeError):
    """A git command failed; the message carries the command and git's own words."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_ = list(args)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {stderr.strip()}")


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment git runs with: scrubbed, quiet, plus the caller's variables."""
    env = {
        k: v
        for k, v in scrub_env(os.environ).items()
        if not k.startswith("GIT_") or k in KEPT_GIT_VARS
    }
    env.update(QUIET_ENV)
    if extra:
        env.update(extra)
    return env


def _base(cwd: Path | str, env: Mapping[str, str]) -> list[str]:
    argv = ["git", *HARDENING, "-c", f"safe.directory={os.path.abspath(cwd)}"]
    if env.get("GIT_DIR"):
        argv += ["-c", f"safe.directory={os.path.abspath(env['GIT_DIR'])}"]
    return argv


def _subcommand_at(args: Sequence[str]) -> int:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in ("-c", "-C") else 1
    return i


def _with_diff_flags(args: Sequence[str]) -> list[str]:
    """`args` with --no-ext-diff --no-textconv after a porcelain diff subcommand."""
    i = _subcommand_at(args)
    if i < len(args) and args[i] in DIFF_COMMANDS:
        return [*args[: i + 1], *DIFF_FLAGS, *args[i + 1 :]]
    return list(args)


def runs_no_driver(args: Sequence[str]) -> bool:
    """`git args` is plumbing that cannot run a repository-defined driver."""
    i = _subcommand_at(args)
    if i >= len(args):
        return False
    rest = [a.split("=", 1)[0] for a in args[i + 1 :]]
    if args[i] == "hash-object":  # filters apply to a path's content, never to stdin's
        return "--stdin" in rest and not {"--path", "--stdin-paths"} & set(rest)
    return args[i] in NO_DRIVERS and not DRIVER_FLAGS & set(rest)


def driver_overrides(listing: bytes) -> list[str]:
    """`-c` pairs blanking every driver command the repository's own config defines."""
    out: list[str] = []
    records = listing.split(b"\0")
    for scope, entry in zip(records[::2], records[1::2], strict=False):
        if scope.decode(errors="replace") not in UNTRUSTED_SCOPES:
            continue
        key = entry.split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
        section, _, rest = key.partition(".")
        driver, _, name = rest.rpartition(".")
        if driver and name.lower() in DRIVER_KEYS.get(section.lower(), ()):
            out += ["-c", f"{section}.{driver}.{name}="]
            if section.lower() == "filter":
                out += ["-c", f"{section}.{driver}.required=false"]
    return out


_LIST = ("config", "--list", "--null", "--show-scope")


async def _exec(
    argv: list[str], cwd: Path | str, env: Mapping[str, str], input: bytes | None
) -> tuple[int, bytes, bytes]:
    proc = await spawn(
        *argv,
        cwd=str(cwd),
        env=dict(env),
        stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await proc.communicate(input)
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return proc.returncode or 0, out, err


async def git_argv(cwd: Path | str, args: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """The full hardened command line for `git args` in `cwd`."""
    base = _base(cwd, env)
    if runs_no_driver(args):
        return [*base, *args]
    _code, listing, _err = await _exec([*base, *_LIST], cwd, env, None)
    return [*base, *driver_overrides(listing), *_with_diff_flags(args)]


def git_argv_sync(cwd: Path | str, args: Sequence[str], env: Mapping[str, str]) -> list[str]:
    base = _base(cwd, env)
    if runs_no_driver(args):
        return [*base, *args]
    listing = subprocess.run([*base, *_LIST], cwd=str(cwd), env=dict(env), capture_output=True)
    return [*base, *driver_overrides(listing.stdout), *_with_diff_flags(args)]


async def git(
    cwd: Path | str,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    retries: int = 8,
) -> bytes:
    """Run `git args` in `cwd` and return stdout; retry while a lock file is in the way."""
    full_env = git_env(env)
    argv = await git_argv(cwd, args, full_env)
    delay = 0.01
    for attempt in range(retries + 1):
        code, out, err = await _exec(argv, cwd, full_env, input)
        if code == 0 or not check:
            return out
        text = err.decode("utf-8", "replace")
        if attempt < retries and any(m in text for m in LOCK_MARKERS):
            await asyncio.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)
            continue
        raise GitError(args, code, text)
    raise AssertionError("unreachable")


async def git_result(
    cwd: Path | str,
    *args: str,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
) -> tuple[int, bytes, bytes]:
    """(exit code, stdout, stderr) of `git args`, for callers that read git's own words."""
    full_env = git_env(env)
    return await _exec(await git_argv(cwd, args, full_env), cwd, full_env, input)


def git_sync_result(
    cwd: Path | str,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """The blocking twin of `git_result`, for code that already runs in a worker thread."""
    full_env = git_env(env)
    return subprocess.run(
        git_argv_sync(cwd, args, full_env),
        cwd=str(cwd),
        env=full_env,
        input=input,
        capture_output=True,
    )


def git_sync(
    cwd: Path | str,
    *args: str,
    input: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """The blocking twin of `git`, for code that already runs in a worker thread."""
    proc = git_sync_result(cwd, *args, input=input, env=env)
    if proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


async def git_text(
    cwd: Path | str, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> str:
    out = await git(cwd, *args, env=env, check=check)
    return out.decode("utf-8", "surrogateescape").strip()


def git_executable() -> str | None:
    """Where git is on this machine (a cluster node checks before it takes agents), or None."""
    import shutil

    return shutil.which("git")
