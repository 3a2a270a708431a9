"""Programs that run another program named in their arguments, and how to find it.

`sudo -u bob git push`, `timeout 5 git push`, `xargs git`, `su -c 'git push'`,
`find . -exec rm {} ;`: a permission rule about `git push` or `rm` must see the
command inside. Each runner here says how its options are read (which take a
value, which take a shell script) and where the inner command starts; the parser
in `shell_parse` walks through them one layer at a time.

The tables follow each program's manual for the options that take a value, so
that the value is not mistaken for the command. A program not listed is taken
as a plain command; the README lists that limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
Then = Literal["command", "joined", "script-only"]


@dataclass(frozen=True, slots=True)
class Runner:
    valued: str = ""
    """Short options that take a value (`-u bob`)."""
    long_valued: frozenset[str] = field(default_factory=frozenset)
    """Long options that take a value when not written `--opt=value`."""
    script: str = ""
    """Short options whose value is a shell command line (`su -c '...'`)."""
    long_script: frozenset[str] = field(default_factory=frozenset)
    split: str = ""
    """Short options whose value is split into words put before the command (`env -S`)."""
    skip: int = 0
    """Positional words before the command: timeout's duration, flock's file, chrt's priority."""
    then: Then = "command"
    """command: the words after the options run; joined: they are joined and run by a shell
    (watch, parallel); script-only: nothing runs but the script option (su, script)."""
    stops: str = ""
    """Flags after which no command follows (`chrt -p`, `taskset -p`: they act on a pid)."""
    stdin_args: bool = False
    """The command gets more arguments from stdin (xargs, parallel)."""
    recorded: bool = True
    """Whether the runner's own command line is kept for rules (`sudo ...`: yes; `nice`: no)."""
    default: tuple[str, ...] = ()
    """What runs when no command is given (xargs runs echo)."""


_Q = frozenset
RUNNERS: dict[str, Runner] = {
    # transparent: they change how a command runs, not what it may do
    "command": Runner(recorded=False),
    "builtin": Runner(recorded=False),
    "exec": Runner(valued="a", recorded=False),
    "nohup": Runner(recorded=False),
    "time": Runner(valued="fo", long_valued=_Q({"--format", "--output"}), recorded=False),
    "nice": Runner(valued="n", long_valued=_Q({"--adjustment"}), recorded=False),
    "ionice": Runner(valued="cnpPu", stops="pPu", recorded=False),
    "timeout": Runner(
        valued="sk", long_valued=_Q({"--signal", "--kill-after"}), skip=1, recorded=False
    ),
    "stdbuf": Runner(valued="ioe", recorded=False),
    "setsid": Runner(recorded=False),
    "chronic": Runner(recorded=False),
    "unbuffer": Runner(recorded=False),
    "catchsegv": Runner(recorded=False),
    "coproc": Runner(recorded=False),
    "busybox": Runner(recorded=False),
    "env": Runner(
        valued="uCP",
        long_valued=_Q({"--unset", "--chdir"}),
        split="S",
        recorded=False,
    ),
    # runners that change who runs it, or run it later, elsewhere or many times
    "sudo": Runner(
        valued="CDghpRrTtUu",
        long_valued=_Q({"--user", "--group", "--chdir", "--prompt", "--host", "--close-from"}),
    ),
    "doas": Runner(valued="uC"),
    "pkexec": Runner(long_valued=_Q({"--user"})),
    "chroot": Runner(long_valued=_Q({"--userspec", "--groups"}), skip=1),
    "flock": Runner(
        valued="wE",
        long_valued=_Q({"--timeout", "--wait", "--conflict-exit-code"}),
        script="c",
        long_script=_Q({"--command"}),
        skip=1,
    ),
    "strace": Runner(valued="abeEIoOpPSsuX"),
    "ltrace": Runner(valued="aAeFlnopsuwx"),
    "watch": Runner(valued="nq", long_valued=_Q({"--interval", "--equexit"}), then="joined"),
    "chrt": Runner(valued="TPD", skip=1, stops="p"),
    "taskset": Runner(skip=1, stops="p"),
    "su": Runner(
        valued="gGsw",
        long_valued=_Q({"--group", "--supp-group", "--shell", "--whitelist-environment"}),
        script="c",
        long_script=_Q({"--command", "--session-command"}),
        then="script-only",
    ),
    "script": Runner(
        valued="BEIOTmo",
        long_valued=_Q({"--log-io", "--log-in", "--log-out", "--log-timing", "--echo"}),
        script="c",
        long_script=_Q({"--command"}),
        then="script-only",
    ),
    "sg": Runner(script="c", skip=1, then="joined"),
    "xargs": Runner(
        valued="adEILnPs",
        long_valued=_Q(
            {
                "--arg-file",
                "--delimiter",
                "--max-lines",
                "--max-args",
                "--max-procs",
                "--max-chars",
                "--process-slot-var",
            }
        ),
        stdin_args=True,
        default=("echo",),
    ),
    "parallel": Runner(
        valued="aCdEIjlLnNPsS",
        long_valued=_Q({"--jobs", "--sshlogin", "--arg-file", "--colsep", "--joblog"}),
        then="joined",
        stdin_args=True,
    ),
}

RUNNERS["runuser"] = RUNNERS["su"]

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "rbash", "fish"})
SHELL_VALUED = frozenset({"-o", "+o", "-O", "+O", "--rcfile", "--init-file"})
FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
PARALLEL_ARGS = frozenset({":::", "::::", ":::+", "::::+"})


@dataclass(slots=True)
class Unwrapped:
    """What one runner layer leaves: the inner command's words and any scripts it runs."""

    inner: list[int] = field(default_factory=list)
    """Indexes (into the runner's words) of the inner command, in order."""
    scripts: list[tuple[int, int]] = field(default_factory=list)
    """(index, offset) of words that are shell command lines from `offset` on (`-c'...'`)."""
    split: list[tuple[int, int]] = field(default_factory=list)
    """(index, offset) of words split into words before the inner command (`env -S`)."""
    joined: bool = False
    """The inner words are joined into one shell command line."""
    stdin_args: bool = False
    default: tuple[str, ...] = ()


def unwrap(name: str, words: list[str]) -> Unwrapped:
    """Where `words` (a runner's arguments, its own name excluded) put the command it runs."""
    spec = RUNNERS[name]
    out = Unwrapped(stdin_args=spec.stdin_args, default=spec.default)
    i, skip, n = 0, spec.skip, len(words)
    while i < n:
        word = words[i]
        if word == "--":
            i += 1
            break
        if word.startswith("--") and len(word) > 2:
            key, has_value, _ = word.partition("=")
            if key in spec.long_script and not has_value:
                if i + 1 < n:
                    out.scripts.append((i + 1, 0))
                i += 2
                continue
            i += 2 if key in spec.long_valued and not has_value else 1
            continue
        if word.startswith("-") and len(word) > 1:
            taken, stop = _short_options(spec, word, i, out)
            if stop:
                return Unwrapped()
            i += 1 + taken
            continue
        if name == "env" and _ASSIGNMENT.match(word):
            i += 1
            continue
        if name == "coproc" and i + 1 < n and words[i + 1] in ("{", "("):
            i += 1  # the coprocess's NAME
            continue
        if skip:
            skip -= 1
            i += 1
            if skip == 0 and i + 1 < n and words[i] in {f"-{c}" for c in spec.script}:
                out.scripts.append((i + 1, 0))  # flock FILE -c '...', sg GROUP -c '...'
                return out
            continue
        if spec.then == "script-only":
            i += 1  # su's user, script's log file
            continue
        break
    if spec.then == "script-only":
        return out
    rest = list(range(i, n))
    if name == "parallel":
        rest = rest[: next((k for k, j in enumerate(rest) if words[j] in PARALLEL_ARGS), None)]
    if name == "coproc" and rest and words[rest[0]] in ("{", "("):
        rest = rest[1:]
    out.inner = rest
    out.joined = spec.then == "joined"
    return out


def _short_options(spec: Runner, word: str, i: int, out: Unwrapped) -> tuple[int, bool]:
    """Read one `-abc` cluster: (how many following words it takes, whether no command follows)."""
    letters = word[1:]
    for k, letter in enumerate(letters):
        last = k == len(letters) - 1
        if letter in spec.stops:
            return 0, True
        for kind, where in ((spec.script, out.scripts), (spec.split, out.split)):
            if letter in kind:
                if last:
                    where.append((i + 1, 0))
                    return 1, False
                where.append((i, k + 2))  # the value is attached: `-S'git push'`
                return 0, False
        if letter in spec.valued:
            return (1 if last else 0), False
    return 0, False


def shell_script(words: list[str]) -> tuple[str, int | None]:
    """How a shell is told what to run: ("c", index of the script), ("file", index of the
    script file) or ("stdin", None) when it reads its commands from stdin."""
    wants_c = False
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("-", "--"):
            i += 1
            break
        if word in SHELL_VALUED:
            i += 2
            continue
        if word.startswith("--"):
            i += 1
            continue
        if word[:1] in "-+" and len(word) > 1:
            wants_c = wants_c or "c" in word[1:]
            if word[0] == "-" and "s" in word[1:]:
                return "stdin", None
            i += 1
            continue
        break
    if i >= len(words):
        return "stdin", None
    return ("c" if wants_c else "file"), i


GIT_VALUED = frozenset(
    {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--exec-path"}
)


def git_subcommand(words: list[str]) -> int | None:
    """Where git's subcommand starts after its global options (`git -C . push`), or None
    when there are none to skip."""
    i = 0
    while i < len(words) and words[i].startswith("-") and words[i] != "--":
        i += 2 if words[i] in GIT_VALUED else 1
    return i if 0 < i < len(words) else None


def find_commands(words: list[str]) -> list[list[int]]:
    """The commands `find ... -exec cmd {} ;` runs, as index lists into find's arguments."""
    found: list[list[int]] = []
    i = 0
    while i < len(words):
        if words[i] in FIND_EXEC:
            end = i + 1
            while end < len(words) and words[end] not in (";", "+"):
                end += 1
            found.append(list(range(i + 1, end)))
            i = end
        i += 1
    return found
