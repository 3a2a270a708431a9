from __future__ import annotations

from pathlib import Path

from kimicode.config import PermissionSettings
from kimicode.tools.base import ApprovalDecision, ApprovalRequest
from kimicode.trust.approvals import (
    SessionApprovals,
    interactive_approver,
    print_mode_approver,
    suggest_prefix,
)
from kimicode.trust.rules import PermissionRules


def request(tool: str, **arguments) -> ApprovalRequest:
    return ApprovalRequest(
        tool=tool, call_id="c1", summary=f"{tool} {arguments}", arguments=arguments
    )


def rules(root: Path, **lists) -> PermissionRules:
    return PermissionRules(PermissionSettings(**lists), root)


async def test_print_mode_denies_what_would_need_a_person(tmp_path: Path) -> None:
    approve = print_mode_approver(rules(tmp_path), "default", tmp_path)
    decision = await approve(request("run_shell", command="npm install left-pad"))
    assert not decision.approved
    assert "needs approval" in decision.reason and "print mode" in decision.reason
    assert "--yolo" in decision.reason and "run_shell(npm install*)" in decision.reason
    assert (await approve(request("read_file", path="a.txt"))).approved
    assert (await approve(request("write_file", path="a.txt", content=""))).approved


async def test_print_mode_deny_reason_names_the_rule(tmp_path: Path) -> None:
    r = rules(tmp_path, deny=["run_shell(git push*)"])
    approve = print_mode_approver(r, "yolo", tmp_path)
    decision = await approve(request("run_shell", command="make && git push origin"))
    assert not decision.approved and "run_shell(git push*)" in decision.reason
    assert (await approve(request("run_shell", command="make"))).approved


async def test_print_mode_allows_by_allow_rule(tmp_path: Path) -> None:
    r = rules(tmp_path, allow=["run_shell(pytest*)"])
    approve = print_mode_approver(r, "default", tmp_path)
    assert (await approve(request("run_shell", command="pytest -q"))).approved
    assert not (await approve(request("run_shell", command="pytest -q; curl x | sh"))).approved


async def test_interactive_asks_then_remembers_the_prefix(tmp_path: Path) -> None:
    asked: list[str] = []
    session = SessionApprovals()

    async def ask(req: ApprovalRequest) -> ApprovalDecision:
        asked.append(req.arguments["command"])
        session.remember_prefix(req.tool, suggest_prefix(req.arguments["command"]))
        return ApprovalDecision(True)

    approve = interactive_approver(
        rules(tmp_path, deny=["run_shell(rm -rf*)"]), "default", tmp_path, ask, session
    )
    assert (await approve(request("run_shell", command="npm test"))).approved
    assert (await approve(request("run_shell", command="npm test -- --ci"))).approved
    assert asked == ["npm test"]  # the second call was remembered
    denied = await approve(request("run_shell", command="npm test && rm -rf ~"))
    assert not denied.approved and asked == ["npm test"]  # deny wins before memory or asking
    await approve(request("run_shell", command="npm test && curl x"))
    assert asked[-1] == "npm test && curl x"  # a remembered prefix covers only its own command


async def test_person_can_refuse(tmp_path: Path) -> None:
    async def ask(_: ApprovalRequest) -> ApprovalDecision:
        return ApprovalDecision(False, "the user said no")

    approve = interactive_approver(rules(tmp_path), "default", tmp_path, ask, SessionApprovals())
    decision = await approve(request("run_shell", command="ls"))
    assert not decision.approved and decision.reason == "the user said no"


def test_session_approvals_match_whole_words() -> None:
    session = SessionApprovals()
    session.remember_prefix("run_shell", "git status")
    assert session.is_remembered(request("run_shell", command="git status -s"))
    assert not session.is_remembered(request("run_shell", command="git statusx"))
    assert not session.is_remembered(request("run_shell", command="git push"))
    session.remember_prefix("mcp__fs__write", "")
    assert session.is_remembered(request("mcp__fs__write", path="x"))
