"""Split a shell command line into the simple commands it would run, with a real parser.

A rule like `run_shell(git push*)` must catch `true && git push`, `echo $(git
push)`, `git $'push'` and `echo push | xargs git` too, so rules are matched
against every simple command the line runs. tree-sitter-bash parses it; this
module walks the tree: lists, pipelines, subshells, `if`/`for`/functions, the
bodies of `$(...)`, backticks and `<(...)`, here-documents, and the scripts
given to `sh -c`, `eval`, `trap`, `su -c`, `watch`, `find -exec` and the other
runners of `shell_runners`. Words are read the way the shell reads them
(quotes and escapes removed, `$'...'` decoded); leading `NAME=value`
assignments and redirections are not part of a command.

What it cannot see is said, not guessed: a program name the shell computes
(`$g push`), a word that expands (`$x`, a glob, `{a,b}`, arguments from stdin)
marks the rest of that command as computed, and a line that does not parse, a
shell fed commands on stdin or an `eval` of a variable land in `unseen`. The
permission rules treat those as needing a person whenever a rule could apply.
Scripts on disk (`bash build.sh`, `make`, `python -c`) are not read.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kimicode.trust.shell_runners import (
    RUNNERS,
    SHELLS,
    find_commands,
    git_subcommand,
    shell_script,
    unwrap,
)

if TYPE_CHECKING:
    from tree_sitter import Node

MAX_DEPTH = 8
"""Scripts inside scripts (`sh -c "eval '...'"`) are followed this deep, then unseen."""

Word = tuple[str, bool]
"""A word's value as the shell would pass it, and whether that value is known before it runs."""

_GLOB = re.compile(r"(?<!\\)(?:[*?]|\[[^\]]+\])")
_BRACE = re.compile(r"(?<!\\)\{[^{}]*(?:,|\.\.)[^{}]*\}")
_EXPANSIONS = frozenset(
    {"simple_expansion", "expansion", "command_substitution", "arithmetic_expansion"}
)
_ANSI = re.compile(
    r"\\(?:([abeEfnrtv\\'\"?])|([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})"
    r"|U([0-9a-fA-F]{1,8})|c(.))",
    re.DOTALL,
)
_ANSI_SIMPLE = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n"}
_ANSI_SIMPLE |= {"r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


@dataclass(frozen=True, slots=True)
class SimpleCommand:
    words: tuple[str, ...]
    known: int
    """How many leading words are fixed text; from there on a word is computed when the
    command runs (`$x`, `$(...)`, a glob, arguments read from stdin) and shown as written."""

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def known_text(self) -> str:
        return " ".join(self.words[: self.known])

    @property
    def computed(self) -> bool:
        return self.known < len(self.words)


@dataclass(frozen=True, slots=True)
class ShellView:
    """Every simple command a command line runs, and why some of it cannot be seen."""

    commands: tuple[SimpleCommand, ...]
    unseen: tuple[str, ...]
    """Empty when the parser sees all the line runs; else one reason per blind spot."""

    def texts(self) -> list[str]:
        return [c.text for c in self.commands if c.text]


@functools.lru_cache(maxsize=256)
def analyse(command: str) -> ShellView:
    """The simple commands in `command`, nested ones included (cached: rules ask often)."""
    walker = _Walker()
    try:
        walker.program(command, 0, None)
    except RecursionError:  # `$($($(...)))` thousands deep: a blind spot, not a crash
        walker.unseen.append("it nests too deeply to follow")
    return ShellView(tuple(walker.commands), tuple(dict.fromkeys(walker.unseen)))


def split_commands(command: str) -> list[str]:
    """Every simple command in `command` as text, outermost first."""
    return analyse(command).texts()


class _Walker:
    def __init__(self) -> None:
        self.commands: list[SimpleCommand] = []
        self.unseen: list[str] = []

    def program(self, text: str, depth: int, stdin: str | None) -> None:
        """Parse `text` as a script and walk it; `stdin` is what it reads, None if unknown."""
        if depth > MAX_DEPTH:
            self.unseen.append("it nests too deeply to follow")
            return
        from tree_sitter import Parser

        from kimicode.repo.languages import grammar

        tree = Parser(grammar("bash")).parse(text.encode("utf-8", "surrogatepass"))
        if tree.root_node.has_error:
            self.unseen.append("it does not parse as a shell command")
        self._visit(tree.root_node, depth, stdin)

    def _visit(self, node: Node, depth: int, stdin: str | None) -> None:
        kind = node.type
        if kind == "command":
            self._command(node, depth, stdin)
        elif kind == "pipeline":
            self._pipeline(node.named_children, depth, stdin)
        elif kind == "redirected_statement":
            body = node.child_by_field_name("body")
            if body is not None:
                self._visit(body, depth, _fed(node.children, stdin))
            for child in node.children:
                if child == body:
                    continue
                for inner in child.named_children if child.type == "heredoc_redirect" else [child]:
                    if inner.type == "pipeline":  # `cat <<EOF | sh`: the grammar nests it here
                        self._pipeline(inner.named_children, depth, _output(node))
                    else:
                        self._visit(inner, depth, None)
        elif kind in ("command_substitution", "process_substitution"):
            for child in node.named_children:
                self._visit(child, depth, None)
        else:
            for child in node.children:
                self._visit(child, depth, stdin)

    def _pipeline(self, stages: list[Node], depth: int, stdin: str | None) -> None:
        """Each stage reads what the one before it writes (known only for fixed text)."""
        for stage in stages:
            self._visit(stage, depth, stdin)
            stdin = _output(stage)

    def _command(self, node: Node, depth: int, stdin: str | None) -> None:
        name = node.child_by_field_name("name")
        parts = [name] if name is not None else []
        words = [_word(n) for n in [*parts, *node.children_by_field_name("argument")]]
        self._run(words, depth, _fed(node.children, stdin))
        for child in node.children:  # what `$(...)` in a word or an assignment runs
            self._visit(child, depth, None)

    def _record(self, words: list[Word]) -> None:
        known = next((i for i, (_, fixed) in enumerate(words) if not fixed), len(words))
        self.commands.append(SimpleCommand(tuple(v for v, _ in words), known))

    def _run(self, words: list[Word], depth: int, stdin: str | None) -> None:
        """Record one simple command, then what it runs in turn (runners, shells, eval)."""
        while words and words[0][1] and words[0][0] in ("{", "}", "!", "(", ")"):
            words = words[1:]
        if not words:
            return
        head, known = words[0]
        if not known:
            self.unseen.append(f"the program it runs is computed ({_short(head)})")
            self._record(words)
            return
        name = os.path.basename(head)
        values = [v for v, _ in words[1:]]
        if name in RUNNERS:
            self._runner(name, words, depth, stdin)
            return
        self._record(words)
        if name in SHELLS and not {"--version", "--help"} & set(values):
            how, index = shell_script(values)
            if how == "c" and index is not None:
                self._script([words[1 + index]], depth, stdin, f"{name} -c runs a computed script")
            elif how == "stdin":
                self._stdin_script(name, depth, stdin)
        elif name == "eval":
            self._script(words[1:], depth, stdin, "eval runs a computed string")
        elif name == "trap" and len(values) >= 2 and values[0] not in ("-", "-l", "-p"):
            script = words[2] if values[0] == "--" else words[1]
            self._script([script], depth, stdin, "trap runs a computed string")
        elif name == "git" and (start := git_subcommand(values)) is not None:
            if any(v.startswith("alias.") for v in values[:start]):
                self.unseen.append("git -c alias.… defines the command it runs")
            self._record([words[0], *words[1 + start :]])  # `git -C . push` is `git push`
        elif name == "find":
            for indexes in find_commands(values):
                inner = [words[1 + i] for i in indexes]
                self._run([(v, fixed and "{}" not in v) for v, fixed in inner], depth, stdin)

    def _runner(self, name: str, words: list[Word], depth: int, stdin: str | None) -> None:
        spec = RUNNERS[name]
        if spec.recorded:
            self._record(words)
        args = words[1:]
        found = unwrap(name, [v for v, _ in args])
        for index, offset in found.scripts:
            value, fixed = args[index]
            self._script([(value[offset:], fixed)], depth, stdin, f"{name} runs a computed script")
        if spec.then == "script-only" and not found.scripts:
            self._stdin_script(name, depth, stdin)  # `su bob` runs a shell reading its input
        inner: list[Word] = []
        for index, offset in found.split:
            value, fixed = args[index]
            try:
                inner += [(w, fixed) for w in shlex.split(value[offset:])]
            except ValueError:
                self.unseen.append(f"{name} -S is given a string it cannot split")
        inner += [args[i] for i in found.inner]
        if found.joined:
            if not inner:
                self._stdin_script(name, depth, stdin)
            else:
                tail = [('"$@"', True)] if found.stdin_args else []
                self._script([*inner, *tail], depth, stdin, f"{name} runs a computed script")
            return
        if not inner and not found.scripts:
            inner = [(w, True) for w in found.default]
        if inner and found.stdin_args:
            inner += _stdin_words(stdin)
        if inner:
            self._run(inner, depth, stdin)

    def _stdin_script(self, name: str, depth: int, stdin: str | None) -> None:
        """A shell (or parallel, su) that runs the commands it reads from its input."""
        if stdin is None:
            self.unseen.append(f"{name} reads the commands it runs from its input")
        else:
            self.program(stdin, depth + 1, None)

    def _script(self, words: list[Word], depth: int, stdin: str | None, why: str) -> None:
        """Walk the script these words make, or say it cannot be seen when one is computed."""
        if all(fixed for _, fixed in words):
            self.program(" ".join(v for v, _ in words), depth + 1, stdin)
        else:
            self.unseen.append(why)


def _stdin_words(stdin: str | None) -> list[Word]:
    """The arguments xargs reads: the known input's words, or one computed word."""
    if stdin is not None:
        try:
            return [(w, True) for w in shlex.split(stdin)]
        except ValueError:
            pass
    return [("<stdin>", False)]


def _fed(nodes: list[Node], stdin: str | None) -> str | None:
    """What a command reads after its redirections: a here-document, a here-string, a file."""
    for node in nodes:
        if node.type == "heredoc_redirect":
            body = next((c for c in node.children if c.type == "heredoc_body"), None)
            if body is None:
                stdin = ""
            elif any(c.type in _EXPANSIONS for c in body.children):
                stdin = None
            else:
                stdin = _text(body)
        elif node.type == "herestring_redirect" and node.named_children:
            value, fixed = _word(node.named_children[-1])
            stdin = value + "\n" if fixed else None
        elif node.type == "file_redirect" and _reads_stdin(node):
            stdin = None
    return stdin


def _reads_stdin(node: Node) -> bool:
    descriptor = node.child_by_field_name("descriptor")
    operators = [c.type for c in node.children if not c.is_named]
    return any(op in ("<", "<>", "<&") for op in operators) and (
        descriptor is None or _text(descriptor) == "0"
    )


def _output(node: Node) -> str | None:
    """What a pipeline stage writes, when it is plainly fixed text (`echo`, `printf`, `cat <<`)."""
    if node.type == "redirected_statement":
        body = node.child_by_field_name("body")
        if body is not None and body.type == "command" and _words_of(body) == [("cat", True)]:
            return _fed(node.children, None)
        return None
    if node.type != "command":
        return None
    words = _words_of(node)
    if not words or not all(fixed for _, fixed in words):
        return None
    head, args = words[0][0], [v for v, _ in words[1:]]
    if head == "echo":
        newline = "\n"
        if args[:1] == ["-n"]:
            args, newline = args[1:], ""
        if any(a.startswith("-") for a in args[:1]) or any("\\" in a for a in args):
            return None
        return " ".join(args) + newline
    if head == "printf" and len(args) == 1 and not re.search(r"[%\\]", args[0]):
        return args[0]
    if head == "cat" and not args:
        return _fed(node.children, None)
    return None


def _words_of(node: Node) -> list[Word]:
    name = node.child_by_field_name("name")
    parts = [name] if name is not None else []
    return [_word(n) for n in [*parts, *node.children_by_field_name("argument")]]


def _word(node: Node) -> Word:
    kind = node.type
    text = _text(node)
    if kind == "command_name":
        return _concat(node.named_children) if node.named_children else (text, True)
    if kind == "word":
        fixed = not (_GLOB.search(text) or _BRACE.search(text))
        return _unescape(text), fixed
    if kind == "number":
        return text, True
    if kind == "raw_string":
        return text[1:-1], True
    if kind == "ansi_c_string":
        return _ansi_c(text[2:-1]), True
    if kind == "string":
        parts: list[Word] = []
        for child in node.named_children:
            if child.type == "string_content":
                parts.append((_unescape_quoted(_text(child)), True))
            else:
                parts.append((_text(child), False))
        return "".join(v for v, _ in parts), all(fixed for _, fixed in parts)
    if kind == "translated_string":
        return _concat(node.named_children)
    if kind == "concatenation":
        value, fixed = _concat(node.children)
        plain = "".join(_text(c) for c in node.children if c.type == "word")
        return value, fixed and not (_GLOB.search(plain) or _BRACE.search(plain))
    return text, False


def _concat(nodes: list[Node]) -> Word:
    parts = [_word(n) for n in nodes]
    return "".join(v for v, _ in parts), all(fixed for _, fixed in parts)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "surrogatepass")


def _unescape(text: str) -> str:
    """An unquoted word's value: `\\x` is `x`, a backslash-newline is nothing."""
    return re.sub(r"\\(.)", r"\1", text.replace("\\\n", ""), flags=re.DOTALL)


def _unescape_quoted(text: str) -> str:
    """Inside double quotes only `\\$`, `\\``, `\\"`, `\\\\` and backslash-newline are escapes."""
    return re.sub(r'\\([$`"\\\n])', lambda m: "" if m[1] == "\n" else m[1], text)


def _ansi_c(body: str) -> str:
    """The value of `$'...'`: C escapes decoded (`$'\\x70ush'` is `push`)."""

    def one(match: re.Match[str]) -> str:
        simple, octal, hex2, u4, u8, control = match.groups()
        if simple is not None:
            return _ANSI_SIMPLE[simple]
        if control is not None:
            return chr(ord(control.upper()) ^ 0x40) if control != "?" else "\x7f"
        number = int(octal, 8) if octal else int(hex2 or u4 or u8, 16)
        return chr(min(number, 0x10FFFF))

    return _ANSI.sub(one, body)
