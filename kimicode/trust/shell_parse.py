"""Split a shell command line into the simple commands it would run.

A rule like `run_shell(git push*)` must catch `true && git push`, `echo $(git
push)` and `FOO=1 command git push` too, so rules are matched against every
simple command: the parts between `&&`, `||`, `;`, `|`, `&` and newlines, the
bodies of `$(...)`, backticks and `<(...)`, and the script given to `sh -c` or
`eval`. Each part is normalised the way the shell would see its words (quotes
removed, leading `NAME=value` assignments and wrappers such as `env`,
`command`, `exec`, `nohup`, `sudo`, `timeout` dropped).

This is a parser for matching, not a shell: it errs towards finding more
commands, never fewer. It cannot see through variables (`$g push`) or
scripts written to disk; the sandbox is what holds those.
"""

from __future__ import annotations

import os
import re
import shlex

_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "fish", "busybox"}
# Wrappers that run their arguments as a command, with the options that take a value.
_WRAPPERS: dict[str, set[str]] = {
    "command": set(),
    "builtin": set(),
    "exec": {"-a"},
    "nohup": set(),
    "time": {"-f", "-o"},
    "env": {"-u", "-C", "-S", "--unset", "--chdir"},
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"},
    "doas": {"-u", "-C"},
    "nice": {"-n", "--adjustment"},
    "ionice": {"-c", "-n", "-p"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "stdbuf": {"-i", "-o", "-e"},
    "xargs": {"-I", "-n", "-P", "-L", "-d", "-E", "-s", "-a"},
    "setsid": set(),
    "chronic": set(),
}
_KEYWORDS = {"{", "}", "!", "if", "then", "elif", "else", "fi", "while", "until", "do", "done"}
_TAKES_POSITIONAL = {"timeout": 1}
"""Wrappers whose first non-option argument is not the command (the duration)."""


def split_commands(command: str) -> list[str]:
    """Every simple command in `command`, normalised, nested ones included."""
    found: list[str] = []
    _collect(command, found, depth=0)
    return [c for c in found if c]


def _collect(text: str, found: list[str], depth: int) -> None:
    if depth > 8:
        found.append(" ".join(text.split()))
        return
    for segment, nested in _segments(text):
        for inner in nested:
            _collect(inner, found, depth + 1)
        words = _words(segment)
        words = strip_wrappers(words)
        if not words:
            continue
        found.append(" ".join(words))
        script = _inline_script(words)
        if script is not None:
            _collect(script, found, depth + 1)


def _segments(text: str) -> list[tuple[str, list[str]]]:
    """Top-level simple-command texts, each with the substitutions found inside it."""
    out: list[tuple[str, list[str]]] = []
    buf: list[str] = []
    nested: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None

    def flush() -> None:
        out.append(("".join(buf), list(nested)))
        buf.clear()
        nested.clear()

    while i < n:
        ch = text[i]
        if quote == "'":
            buf.append(ch)
            if ch == "'":
                quote = None
            i += 1
            continue
        if ch == "\\" and i + 1 < n:
            buf.append(text[i : i + 2])
            i += 2
            continue
        if ch in "$<>" and text.startswith("(", i + 1):
            end = _matching_paren(text, i + 2)
            inner = text[i + 2 : end]
            if inner.startswith("(") and inner.endswith(")"):
                inner = inner[1:-1]  # $(( arithmetic )) still may hide $(...) inside
            nested.append(inner)
            buf.append(text[i : end + 1])
            i = end + 1
            continue
        if ch == "`":
            end = text.find("`", i + 1)
            end = n if end < 0 else end
            nested.append(text[i + 1 : end])
            buf.append(text[i : end + 1])
            i = end + 1
            continue
        if quote == '"':
            buf.append(ch)
            if ch == '"':
                quote = None
            i += 1
            continue
        if ch in "'\"":
            quote = ch
            buf.append(ch)
            i += 1
            continue
        if ch == "#" and (not buf or buf[-1][-1:].isspace()):
            while i < n and text[i] != "\n":
                i += 1
            continue
        if ch in "&|" and _is_redirection(buf, text, i):
            buf.append(ch)
            i += 1
            continue
        if ch in ";&|\n()":
            flush()
            i += 1
            continue
        buf.append(ch)
        i += 1
    flush()
    return out


def _is_redirection(buf: list[str], text: str, i: int) -> bool:
    """`2>&1`, `&>file`, `>|file`: an `&` or `|` that belongs to a redirection."""
    after_angle = bool(buf) and buf[-1].endswith((">", "<"))
    return after_angle or (text[i] == "&" and text.startswith(">", i + 1))


def _matching_paren(text: str, start: int) -> int:
    depth, i, quote = 1, start, None
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = None
            elif ch == "\\" and quote == '"':
                i += 1
        elif ch == "\\":
            i += 1
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text)


def _words(segment: str) -> list[str]:
    try:
        words = shlex.split(segment, comments=False, posix=True)
    except ValueError:
        words = segment.split()
    while words and words[0] in _KEYWORDS:
        words.pop(0)
    return words


def strip_wrappers(words: list[str]) -> list[str]:
    """Drop leading assignments, redirections and command wrappers (`env`, `sudo`...)."""
    words = list(words)
    while words:
        head = words[0]
        if _ASSIGNMENT.match(head) or re.match(r"^\d*[<>]", head):
            words.pop(0)
            continue
        name = os.path.basename(head)
        if name not in _WRAPPERS:
            break
        words.pop(0)
        with_value = _WRAPPERS[name]
        positional = _TAKES_POSITIONAL.get(name, 0)
        while words:
            word = words[0]
            if word == "--":
                words.pop(0)
                break
            if word.startswith("-") and len(word) > 1:
                words.pop(0)
                if word in with_value and words:
                    words.pop(0)
                continue
            if name == "env" and _ASSIGNMENT.match(word):
                words.pop(0)
                continue
            if positional:
                positional -= 1
                words.pop(0)
                continue
            break
    return words


def _inline_script(words: list[str]) -> str | None:
    """The script text of `sh -c '...'` or `eval ...`, to be split in turn."""
    name = os.path.basename(words[0])
    if name == "eval":
        return " ".join(words[1:])
    if name in _SHELLS:
        for index, word in enumerate(words[1:], start=1):
            if word.startswith("-") and "c" in word.lstrip("-") and not word.startswith("--"):
                return words[index + 1] if index + 1 < len(words) else None
    return None
