from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from kimicode.config import HooksSettings
from kimicode.trust.hooks import run_hooks, tool_payload

PY = sys.executable


def script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    return f"{PY} {path}"


async def test_hook_reads_the_event_as_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "seen.json"
    hook = script(
        tmp_path, "rec.py", f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())"
    )
    settings = HooksSettings(PostToolUse=[hook])
    payload = tool_payload(
        "write_file", {"path": "a.py"}, agent="ui-agent", result={"text": "wrote a.py"}
    )
    outcome = await run_hooks("PostToolUse", payload, settings, tmp_path)
    assert not outcome.blocked and outcome.warnings == []
    seen = json.loads(out.read_text())
    assert seen["hook_event_name"] == "PostToolUse"
    assert seen["tool_name"] == "write_file"
    assert seen["tool_input"] == {"path": "a.py"}
    assert seen["tool_response"] == {"text": "wrote a.py"}
    assert seen["agent"] == "ui-agent"
    assert seen["cwd"] == str(tmp_path)


async def test_exit_2_blocks_with_stderr_as_the_reason(tmp_path: Path) -> None:
    guard = script(
        tmp_path,
        "guard.py",
        "import json, sys\n"
        "event = json.load(sys.stdin)\n"
        "if 'rm -rf' in event['tool_input']['command']:\n"
        "    print('no recursive deletes here', file=sys.stderr); sys.exit(2)\n",
    )
    later = tmp_path / "later-ran"
    settings = HooksSettings(PreToolUse=[guard, f"touch {later}"])
    blocked = await run_hooks(
        "PreToolUse", tool_payload("run_shell", {"command": "rm -rf /"}), settings, tmp_path
    )
    assert blocked.blocked and blocked.reason == "no recursive deletes here"
    assert not later.exists()  # a block stops the remaining hooks
    passed = await run_hooks(
        "PreToolUse", tool_payload("run_shell", {"command": "ls"}), settings, tmp_path
    )
    assert not passed.blocked and later.exists()


async def test_other_failures_are_warnings_not_blocks(tmp_path: Path) -> None:
    settings = HooksSettings(
        Stop=["echo broken >&2; exit 1", "this-command-does-not-exist-kimicode", "echo fine"]
    )
    outcome = await run_hooks("Stop", {"agent": "main"}, settings, tmp_path)
    assert not outcome.blocked
    assert len(outcome.warnings) == 2
    assert "exited 1: broken" in outcome.warnings[0]
    assert "exited 127" in outcome.warnings[1]
    assert outcome.outputs == ["fine"]


async def test_a_hanging_hook_times_out_as_a_warning(tmp_path: Path) -> None:
    settings = HooksSettings(SubagentStart=["sleep 30"])
    outcome = await run_hooks("SubagentStart", {"agent": "a"}, settings, tmp_path, timeout_s=0.5)
    assert not outcome.blocked
    assert outcome.warnings and "timed out" in outcome.warnings[0]


async def test_hooks_do_not_see_the_api_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("KIMICODE_API_KEY", "sk-secret-value")
    settings = HooksSettings(SubagentStop=['echo "key=$KIMICODE_API_KEY"'])
    outcome = await run_hooks("SubagentStop", {"agent": "a"}, settings, tmp_path)
    assert outcome.outputs == ["key="]


async def test_no_hooks_configured_is_a_no_op(tmp_path: Path) -> None:
    outcome = await run_hooks("Stop", {}, HooksSettings(), tmp_path)
    assert not outcome.blocked and outcome.warnings == []
    with pytest.raises(ValueError):
        await run_hooks("Whenever", {}, HooksSettings(), tmp_path)
