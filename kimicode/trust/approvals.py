"""Approvers: the permission rules turned into the `Approver` the agent loop calls.

Print mode has no one to ask, so "ask" becomes a denial whose reason tells the
model (and the log) how the user can allow the call. The TUI asks a person,
and remembers "approve this command prefix for the session" answers so the
same `npm test` is not asked about twenty times.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from pathlib import Path

from kimicode.tools.base import ApprovalDecision, ApprovalRequest, Approver
from kimicode.trust.rules import READ_ONLY_TOOLS, Decision, PermissionRules
from kimicode.trust.shell_parse import analyse, split_commands

Ask = Callable[[ApprovalRequest], Awaitable[ApprovalDecision]]


def print_mode_approver(
    rules: PermissionRules,
    mode: str,
    root: Path,
    *,
    read_only_tools: Collection[str] = READ_ONLY_TOOLS,
) -> Approver:
    """Approve or deny without a person: "ask" is a denial naming how to allow it."""

    async def approve(request: ApprovalRequest) -> ApprovalDecision:
        final, decision = _settle(rules, mode, root, request, read_only_tools)
        return final or ApprovalDecision(False, print_mode_ask_reason(request, decision))

    return approve


def interactive_approver(
    rules: PermissionRules,
    mode: str,
    root: Path,
    ask: Ask,
    session: SessionApprovals,
    *,
    read_only_tools: Collection[str] = READ_ONLY_TOOLS,
) -> Approver:
    """Rules first (deny always wins), then the session's remembered answers, then a person."""

    async def approve(request: ApprovalRequest) -> ApprovalDecision:
        final, _ = _settle(rules, mode, root, request, read_only_tools)
        if final is not None:
            return final
        if session.is_remembered(request):
            return ApprovalDecision(True)
        return await ask(request)

    return approve


def narrowed_approver(
    inner: Approver,
    rules: PermissionRules,
    mode: str,
    session_mode: str,
    root: Path,
    *,
    why: str,
    read_only_tools: Collection[str] = READ_ONLY_TOOLS,
) -> Approver:
    """`inner`, but never more permissive than `mode` (an agent type's): the stricter wins.

    A call `mode` denies is denied. One `mode` would ask about while the session's
    own mode allows it is denied too (the session's approver would not ask anyone);
    every other call goes to `inner`, which applies the session's rules and asks.
    """

    async def approve(request: ApprovalRequest) -> ApprovalDecision:
        decision = _evaluate(rules, mode, root, request, read_only_tools)
        if decision.verdict == "deny":
            return ApprovalDecision(False, denial_reason(request, decision))
        if decision.verdict == "ask":
            own = _evaluate(rules, session_mode, root, request, read_only_tools)
            if own.verdict == "allow":
                return ApprovalDecision(
                    False,
                    f"{_call_text(request)} needs approval in permission mode {mode} ({why}), "
                    "so it is denied for this agent; choose a different approach or report "
                    "what you need.",
                )
        return await inner(request)

    return approve


class SessionApprovals:
    """Answers a person gave for the rest of the session: `run_shell` + `npm test`."""

    def __init__(self) -> None:
        self._prefixes: dict[str, set[str]] = {}

    def remember_prefix(self, tool: str, prefix: str) -> None:
        """Approve `tool` calls starting with `prefix` ("" approves every call of the tool)."""
        self._prefixes.setdefault(tool, set()).add(" ".join(prefix.split()))

    def remembered(self, tool: str) -> list[str]:
        return sorted(self._prefixes.get(tool, ()))

    def is_remembered(self, request: ApprovalRequest) -> bool:
        """True when every command (or the path) of the call starts with a remembered prefix.

        For `run_shell` each simple command of a compound one must be covered, so
        approving `npm test` does not approve `npm test && curl ... | sh`; a command
        the parser cannot see through is never covered by a prefix.
        """
        prefixes = self._prefixes.get(request.tool)
        if not prefixes:
            return False
        if "" in prefixes:
            return True
        if request.tool == "run_shell":
            view = analyse(str(request.arguments.get("command", "")))
            parts = view.texts()
            return (
                not view.unseen
                and bool(parts)
                and all(_starts_with_any(p, prefixes) for p in parts)
            )
        first = next((v for v in request.arguments.values() if isinstance(v, str)), None)
        return first is not None and _starts_with_any(" ".join(first.split()), prefixes)


def suggest_prefix(command: str) -> str:
    """The prefix a person would most likely approve: the program and its subcommand."""
    parts = split_commands(command)
    if not parts:
        return ""
    words = parts[0].split(" ")
    keep = 2 if len(words) > 1 and not words[1].startswith("-") else 1
    return " ".join(words[:keep])


def denial_reason(request: ApprovalRequest, decision: Decision) -> str:
    return (
        f"{_call_text(request)} is denied: {decision.describe()}. "
        "Do not try another spelling of the same action; choose a different approach "
        "or tell the user what you need."
    )


def print_mode_ask_reason(request: ApprovalRequest, decision: Decision) -> str:
    why = decision.describe() if decision.rule else "not allowed by [permissions] allow"
    if request.tool == "run_shell" and (
        decision.source == "unseen" or analyse(str(request.arguments.get("command", ""))).unseen
    ):
        return (
            f"{_call_text(request)} needs approval ({why}), and no one can approve in "
            "print mode. No allow rule covers a command kimicode cannot see through: "
            "write it so every program it runs is named plainly (no computed program "
            "names, no script piped into a shell, no eval of a variable)."
        )
    return (
        f"{_call_text(request)} needs approval ({why}), and no one can approve in "
        "print mode. The user must allow it: run with --yolo, or add an allow rule "
        f"such as `{_suggest_rule(request)}` under [permissions] in .kimicode/config.toml."
    )


def _settle(
    rules: PermissionRules,
    mode: str,
    root: Path,
    request: ApprovalRequest,
    read_only_tools: Collection[str],
) -> tuple[ApprovalDecision | None, Decision]:
    """The answer when the rules and mode settle it (allow or deny), else None ("ask")."""
    decision = _evaluate(rules, mode, root, request, read_only_tools)
    if decision.verdict == "allow":
        return ApprovalDecision(True), decision
    if decision.verdict == "deny":
        return ApprovalDecision(False, denial_reason(request, decision)), decision
    return None, decision


def _evaluate(
    rules: PermissionRules,
    mode: str,
    root: Path,
    request: ApprovalRequest,
    read_only_tools: Collection[str],
) -> Decision:
    return rules.evaluate(
        request.tool,
        request.arguments,
        root,
        mode=mode,
        read_only=request.tool in read_only_tools
        if request.read_only is None
        else request.read_only or request.tool in read_only_tools,
    )


def _call_text(request: ApprovalRequest) -> str:
    if request.tool == "run_shell":
        return f"run_shell({request.arguments.get('command', '')})"
    return request.summary or request.tool


def _suggest_rule(request: ApprovalRequest) -> str:
    if request.tool == "run_shell":
        prefix = suggest_prefix(str(request.arguments.get("command", "")))
        return f"run_shell({prefix}*)" if prefix else "run_shell"
    if request.tool == "fetch_url":
        from urllib.parse import urlsplit

        try:
            host = urlsplit(str(request.arguments.get("url", ""))).hostname
        except ValueError:
            host = None
        return f"fetch_url({host})" if host else "fetch_url"
    path = request.arguments.get("path")
    if isinstance(path, str) and path:
        return f"{request.tool}({path})"
    return request.tool


def _starts_with_any(text: str, prefixes: Collection[str]) -> bool:
    return any(text == p or text.startswith(p + " ") for p in prefixes)
