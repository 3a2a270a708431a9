"""Permission rules: which tool calls run, which need a person, which never run.

A rule is `tool` or `tool(spec)`; the tool part is a glob (`mcp__github__*`).
The spec is matched against what the call would touch:

- `run_shell(npm test*)`: the command, `*` spanning spaces; a trailing `:*`
  (`git push:*`) means the command or the command followed by arguments.
  Deny and ask rules are also matched against every simple command inside a
  compound one (`a && b`, `$(...)`, `sh -c '...'`, `xargs rm`; see
  `shell_parse`), and an allow rule covers a compound command only when it
  covers each of its parts. A command the parser cannot see through (it does
  not parse, its program is computed, a shell reads commands from a pipe) is
  never allowed by an allow rule, and asks, in yolo mode too, when a deny rule
  could apply to what it hides; so does a command with a computed word (`git
  $x`, `xargs git`) that a deny or ask rule could match once it is filled in.
- `write_file(src/**)`, `read_file(~/secrets/**)`: the path arguments, made
  absolute, `..` collapsed, symlinks resolved and case folded where the
  filesystem folds case, then matched both relative to the root and as an
  absolute path, with the glob semantics of `kimicode.globs`.
- `fetch_url(docs.python.org)`, `fetch_url(*.github.com)`: the URL's host.
- any other tool: its first string argument.

Read-only tools are checked too. A `read_file(path)` rule also covers the
other tools that show a file's contents (`CONTENT_READERS`), and `hidden`
keeps such files out of grep's and glob's results.

Lists are evaluated deny, then ask, then allow; the first list with a
matching rule decides. No match: the permission mode's default applies
(`mode_default`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kimicode.config import PermissionSettings
from kimicode.errors import UsageError
from kimicode.globs import glob_match
from kimicode.tools.beneath import NotBeneath, settled_realpath
from kimicode.trust.shell_parse import ShellView, analyse
from kimicode.trust.shell_rules import hidden_from

Verdict = Literal["deny", "ask", "allow"]
Mode = Literal["default", "accept-edits", "plan", "yolo"]
MODES: tuple[str, ...] = ("default", "accept-edits", "plan", "yolo")

PATH_KEYS = frozenset({"path", "target", "reference_image", "file_path"})
PATH_LIST_KEYS = frozenset({"files", "paths"})
EDIT_TOOLS = frozenset({"write_file", "edit_file"})
READ_ONLY_TOOLS = frozenset({"read_file", "glob", "grep", "view_image", "render_page"})
"""Built-in tools that change nothing; callers with the tool objects pass `read_only`."""
NETWORK_TOOLS = frozenset({"fetch_url", "web_search"})
"""Tools that change no file but reach outside the machine: they ask unless allowed."""
CONTENT_READERS = frozenset({"grep", "view_image", "render_page"})
"""Tools besides read_file that show a file's contents: `read_file(path)` rules cover them."""
PROTECTED_DIRS = (".kimicode", ".git")
"""Writes here need a person outside yolo mode: they change what runs next time."""

_RULE = re.compile(r"^\s*([^()\s]+)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class Rule:
    text: str
    tool: str
    spec: str | None

    @classmethod
    def parse(cls, text: str) -> Rule:
        match = _RULE.match(text)
        if not match:
            raise UsageError(
                f"invalid [permissions] rule {text!r}: expected `tool` or `tool(pattern)`"
            )
        spec = match.group(2)
        return cls(text.strip(), match.group(1), spec.strip() if spec is not None else None)

    def names(self, tool: str) -> bool:
        return _glob_regex(self.tool, spans=False).fullmatch(tool) is not None


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    rule: str | None = None
    """The rule text that decided, or None when the mode's default did."""
    source: Literal["deny", "ask", "allow", "mode", "built-in", "unseen"] = "mode"
    reason: str = ""

    def describe(self) -> str:
        if self.rule is None or self.source == "unseen":
            return self.reason or f"{self.verdict} by the permission mode"
        where = "built in" if self.source == "built-in" else f"[permissions] {self.source}"
        return f"{self.verdict} by rule `{self.rule}` ({where})"


class PermissionRules:
    """The `[permissions]` lists, compiled for one project root."""

    def __init__(
        self,
        settings: PermissionSettings,
        root: Path,
        *,
        fold_case: bool | None = None,
    ) -> None:
        self.root = Path(os.path.realpath(root))
        self.fold_case = fs_folds_case(self.root) if fold_case is None else fold_case
        self.lists: dict[Verdict, list[Rule]] = {
            "deny": [Rule.parse(t) for t in settings.deny],
            "ask": [Rule.parse(t) for t in settings.ask],
            "allow": [Rule.parse(t) for t in settings.allow],
        }

    # --- public ------------------------------------------------------------------

    def decide(self, tool: str, arguments: dict[str, Any], workspace_root: Path) -> Verdict | None:
        """deny / ask / allow from the rules, or None when no rule matches."""
        found = self.check(tool, arguments, workspace_root)
        return found.verdict if found else None

    def check(self, tool: str, arguments: dict[str, Any], workspace_root: Path) -> Decision | None:
        """Like `decide`, with the rule that matched."""
        call = _Call(tool, arguments, Path(os.path.realpath(workspace_root)), self.fold_case)
        for verdict in ("deny", "ask"):
            for rule in self.lists[verdict]:
                if rule.names(tool) and call.any_part_matches(rule.spec):
                    return Decision(verdict, rule.text, verdict)
                if _reads_as_read_file(rule, tool) and call.any_path_matches(rule.spec or ""):
                    return Decision(verdict, rule.text, verdict)
            named = [(r.text, r.spec) for r in self.lists[verdict] if r.names(tool)]
            hidden = hidden_from(call.view, named) if call.view is not None else None
            if hidden is not None:
                return Decision(
                    "ask", hidden[0], "unseen" if verdict == "deny" else "ask", hidden[1]
                )
        allow = [r for r in self.lists["allow"] if r.names(tool)]
        if call.view is not None and call.view.unseen:
            return None
        if allow and call.all_parts_match([r.spec for r in allow]):
            text = next((r.text for r in allow if call.any_part_matches(r.spec)), allow[0].text)
            return Decision("allow", text, "allow")
        return None

    def evaluate(
        self,
        tool: str,
        arguments: dict[str, Any],
        workspace_root: Path,
        *,
        mode: str,
        read_only: bool | None = None,
    ) -> Decision:
        """The final answer for one call: rules first, then the mode's default.

        Deny rules win in every mode, yolo included, and so does the "ask" for a
        command that may hide what a deny rule names. Plan mode refuses anything
        not read-only whatever the allow list says.
        """
        if mode not in MODES:
            raise UsageError(f"unknown permission mode {mode!r}; choose one of {', '.join(MODES)}")
        read_only = tool in READ_ONLY_TOOLS if read_only is None else read_only
        found = self.check(tool, arguments, workspace_root)
        if found and found.verdict == "deny":
            return found
        if not tool_allowed_in_mode(tool, read_only, mode):
            return Decision("deny", None, "mode", f"{tool} is not available in plan mode")
        if found and found.source == "unseen":
            return found
        if mode == "yolo":
            if found and found.verdict == "allow":
                return found
            return Decision("allow", None, "mode", "allowed by --permission-mode yolo")
        if found and found.verdict == "ask":
            return found
        protected = self._protected_write(tool, arguments, workspace_root, read_only)
        if protected and not (found and _names_dir(found.rule, protected.rule)):
            return protected
        if found:
            return found
        return Decision(mode_default(tool, read_only, mode), None, "mode")

    def hidden(self, tool: str, rels: Iterable[str], workspace_root: Path) -> set[str]:
        """The files among `rels` a deny rule keeps from `tool`'s results (grep, glob).

        A `read_file(path)` deny rule (or one naming the tool itself with a
        path) hides a file's contents from a search and its name from a
        listing, so `grep` over a directory cannot show what `read_file` may not.
        """
        specs = [
            r.spec
            for r in self.lists["deny"]
            if r.spec is not None and (r.names(tool) or r.names("read_file"))
        ]
        if not specs:
            return set()
        root = Path(os.path.realpath(workspace_root))
        patterns = [_normalise_rule(spec, root, self.fold_case) for spec in specs]
        out = set()
        for rel in rels:
            forms = _normalise(rel, root, self.fold_case)
            if any(glob_match(p, f) for p in patterns for f in forms):
                out.add(rel)
        return out

    # --- helpers -----------------------------------------------------------------

    def _protected_write(
        self, tool: str, arguments: dict[str, Any], root: Path, read_only: bool
    ) -> Decision | None:
        if read_only:
            return None
        call = _Call(tool, arguments, Path(os.path.realpath(root)), self.fold_case)
        for name in PROTECTED_DIRS:
            if call.any_path_matches(f"{name}/**"):
                return Decision(
                    "ask",
                    f"{tool}({name}/**)",
                    "built-in",
                    f"{name}/ decides what runs next time, so writing it needs a person",
                )
        return None


def _names_dir(rule: str | None, protected: str | None) -> bool:
    """An allow rule that itself names the protected directory lifts the protection."""
    if not rule or not protected:
        return False
    name = protected[protected.index("(") + 1 :].split("/")[0]
    return name in rule


def _reads_as_read_file(rule: Rule, tool: str) -> bool:
    """A `read_file(path)` rule also covers the other tools that show a file's contents."""
    return rule.spec is not None and tool in CONTENT_READERS and rule.names("read_file")


def mode_default(tool: str, read_only: bool, mode: str) -> Verdict:
    """What happens to a call no rule matched."""
    if mode == "yolo":
        return "allow"
    if tool in NETWORK_TOOLS:
        return "ask"
    if read_only:
        return "allow"
    if mode == "plan":
        return "deny"
    if tool in EDIT_TOOLS or tool == "spawn_agents":
        return "allow"  # file tools are confined to the root; sub-agents face the same rules
    return "ask"


def tool_allowed_in_mode(tool_name: str, read_only: bool, mode: str) -> bool:
    """Whether the tool is offered to the model at all (plan mode: read-only tools only)."""
    return read_only or mode != "plan"


@functools.lru_cache(maxsize=64)
def fs_folds_case(path: Path) -> bool:
    """True when the filesystem holding `path` treats `A` and `a` as one name."""
    probe = path
    while probe != probe.parent and probe.name.lower() == probe.name.upper():
        probe = probe.parent
    if probe == probe.parent:
        return False
    swapped = probe.with_name(probe.name.swapcase())
    try:
        return swapped.exists() and os.path.samefile(probe, swapped)
    except OSError:
        return False


# --- matching ----------------------------------------------------------------------


class _Call:
    """One tool call seen as the strings rules are matched against."""

    def __init__(self, tool: str, arguments: dict[str, Any], root: Path, fold: bool) -> None:
        self.tool = tool
        self.root = root
        self.fold = fold
        self.shell = tool == "run_shell"
        self.paths: list[tuple[str, ...]] = []
        self.text: str | None = None
        self.view: ShellView | None = None
        if self.shell:
            command = str(arguments.get("command", ""))
            self.whole = [command.strip(), " ".join(command.split())]
            self.view = analyse(command)
            self.parts = self.view.texts() or [""]
        else:
            self.paths = [_normalise(v, root, fold) for v in _path_values(arguments)]
            self.text = _url_host(arguments) if tool == "fetch_url" else _first_string(arguments)

    def any_part_matches(self, spec: str | None) -> bool:
        if spec is None:
            return True
        if self.shell:
            return any(_command_matches(spec, c) for c in [*self.whole, *self.parts])
        if self.paths:
            return self.any_path_matches(spec)
        return self.text is not None and bool(_glob_regex(spec, spans=True).fullmatch(self.text))

    def all_parts_match(self, specs: list[str | None]) -> bool:
        given = [s for s in specs if s is not None]
        if len(given) < len(specs):
            return True
        if self.shell:
            if (
                any(_command_matches(s, c) for s in given for c in self.whole)
                and len(self.parts) == 1
            ):
                return True
            return all(any(_command_matches(s, c) for s in given) for c in self.parts)
        if self.paths:
            return all(any(self._path_matches(s, p) for s in given) for p in self.paths)
        return self.any_part_matches_any(specs)

    def any_part_matches_any(self, specs: Iterable[str | None]) -> bool:
        return any(self.any_part_matches(s) for s in specs)

    def any_path_matches(self, spec: str) -> bool:
        return any(self._path_matches(spec, p) for p in self.paths)

    def _path_matches(self, spec: str, forms: tuple[str, ...]) -> bool:
        pattern = _normalise_rule(spec, self.root, self.fold)
        return any(glob_match(pattern, form) for form in forms)


def _command_matches(spec: str, command: str) -> bool:
    if spec.endswith(":*"):
        prefix = spec[:-2].rstrip()
        regex = _glob_regex(prefix, spans=True)
        words = command.split(" ")
        return any(regex.fullmatch(" ".join(words[:n])) for n in range(1, len(words) + 1))
    regex = _glob_regex(spec, spans=True)
    if regex.fullmatch(command):
        return True
    head, _, rest = command.partition(" ")
    base = os.path.basename(head)
    return base != head and regex.fullmatch(f"{base} {rest}".strip()) is not None


def _path_values(arguments: Any) -> Iterator[str]:
    """Every path-like argument, nested lists of tasks included (spawn_agents)."""
    if isinstance(arguments, dict):
        for key, value in arguments.items():
            if key in PATH_KEYS and isinstance(value, str):
                yield value
            elif key in PATH_LIST_KEYS and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            elif isinstance(value, (dict, list)):
                yield from _path_values(value)
    elif isinstance(arguments, list):
        for item in arguments:
            yield from _path_values(item)


def _url_host(arguments: dict[str, Any]) -> str | None:
    from urllib.parse import urlsplit

    url = arguments.get("url")
    if not isinstance(url, str):
        return None
    try:
        return (urlsplit(url.strip()).hostname or "").lower() or None
    except ValueError:
        return None


def _first_string(arguments: dict[str, Any]) -> str | None:
    return next((v for v in arguments.values() if isinstance(v, str)), None)


def _normalise(value: str, root: Path, fold: bool) -> tuple[str, ...]:
    """(absolute real path, path relative to root if inside) — or the URL as given."""
    if _URL.match(value):
        return (value,)
    candidate = os.path.expanduser(value)
    if not os.path.isabs(candidate):
        candidate = os.path.join(root, candidate)
    try:
        real = settled_realpath(candidate)
    except NotBeneath:  # still changing: the tool itself refuses it when it resolves
        real = os.path.normpath(candidate)
    forms = [real]
    root_text = str(root)
    if real == root_text:
        forms.append(".")
    elif real.startswith(root_text.rstrip("/") + "/"):
        forms.append(real[len(root_text.rstrip("/")) + 1 :])
    return tuple(f.casefold() for f in forms) if fold else tuple(forms)


def _normalise_rule(spec: str, root: Path, fold: bool) -> str:
    """A rule path in the form the call's paths take: `~` expanded, real prefix."""
    if _URL.match(spec):
        return spec
    text = os.path.expanduser(spec)
    if os.path.isabs(text):
        literal, glob = _split_literal(text)
        text = os.path.realpath(literal) + glob if literal else text
    else:
        while text.startswith("./"):
            text = text[2:]
        literal, glob = _split_literal(text)
        if ".." in literal.split("/"):
            text = os.path.realpath(os.path.join(root, literal)) + glob
    text = text.rstrip("/") or text
    return text.casefold() if fold else text


def _split_literal(text: str) -> tuple[str, str]:
    """`/a/b/*.py` -> (`/a/b`, `/*.py`): the directories before the first glob character."""
    first = min((text.find(c) for c in "*?[" if c in text), default=-1)
    if first < 0:
        return text, ""
    cut = text.rfind("/", 0, first)
    return (text[:cut], text[cut:]) if cut > 0 else ("", text)


@functools.lru_cache(maxsize=512)
def _glob_regex(pattern: str, *, spans: bool) -> re.Pattern[str]:
    """`*` matches anything (spans=True) or anything but `/`; `?` one character."""
    star = ".*" if spans else "[^/]*"
    out = []
    for ch in pattern:
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return re.compile("".join(out), re.DOTALL)
