"""`kimicode acp` through the SDK's real client over stdio: a chat turn with the editor's
file system, approvals granted and denied, a cancel, and plan mode."""

from __future__ import annotations

import asyncio
from pathlib import Path

import acp
from acp_client import CAPABILITIES, RecordingClient, no_process, running_agent
from helpers import call, requests_of, script, turn


async def _start(conn, repo: Path, mode: str = "default", capabilities=CAPABILITIES) -> str:
    init = await conn.initialize(
        protocol_version=acp.PROTOCOL_VERSION, client_capabilities=capabilities
    )
    assert init.agent_capabilities.load_session is True
    assert init.agent_capabilities.prompt_capabilities.image is True
    assert init.agent_capabilities.prompt_capabilities.embedded_context is True
    assert init.agent_info.name == "kimicode"
    session = await conn.new_session(cwd=str(repo), mcp_servers=[])
    assert session.modes.current_mode_id == mode
    assert {m.id for m in session.modes.available_modes} == {
        "default",
        "accept-edits",
        "plan",
        "yolo",
    }
    return session.session_id


async def test_a_chat_turn_streams_and_edits_through_the_editor(
    repo: Path, replay, tmp_path
) -> None:
    server = replay(
        script(
            (
                "tidy cli.py",
                [
                    turn(
                        reasoning_content="Read it first.",
                        tool_calls=[call("read_file", path="cli.py")],
                    ),
                    turn(
                        tool_calls=[
                            call(
                                "edit_file",
                                path="cli.py",
                                old_string="# unsaved edit",
                                new_string="# tidied",
                            )
                        ]
                    ),
                    turn("Tidied **cli.py**.", chunks=3),
                ],
            )
        )
    )
    cli = str(repo / "cli.py")
    unsaved = (repo / "cli.py").read_text() + "# unsaved edit\n"
    client = RecordingClient(buffers={cli: unsaved})
    async with running_agent(client, repo, server.url, "--yolo", stderr_to=tmp_path / "err") as (
        conn,
        _,
    ):
        sid = await _start(conn, repo, "yolo")
        done = await conn.prompt(session_id=sid, prompt=[acp.text_block("tidy cli.py")])
    assert done.stop_reason == "end_turn"
    assert client.text("agent_thought_chunk") == "Read it first."
    assert client.text() == "Tidied **cli.py**."
    starts = {u.tool_call_id: u for u in client.of("tool_call")}
    assert [s.title for s in starts.values()] == ["Read cli.py", "Edit cli.py"]
    assert [s.kind for s in starts.values()] == ["read", "edit"]
    assert all(s.locations[0].path == cli for s in starts.values())
    # the read came from the editor's unsaved buffer, not from disk
    bodies = requests_of(server)
    assert "# unsaved edit" in bodies[1]["messages"][-1]["content"]
    # the edit applies to the buffer's text, shows as a diff, and lands in the editor
    assert (repo / "cli.py").read_text() == unsaved.replace("# unsaved edit", "# tidied")
    finished = [u for u in client.of("tool_call_update") if u.status == "completed"]
    diff = next(c for u in finished for c in (u.content or []) if c.type == "diff")
    assert diff.path == cli and "# unsaved edit" in diff.old_text and "# tidied" in diff.new_text
    assert client.writes == [(cli, unsaved.replace("# unsaved edit", "# tidied"))]


async def test_approvals_granted_once_always_and_denied(repo: Path, replay, tmp_path) -> None:
    server = replay(
        script(
            (
                "run things",
                [
                    turn(tool_calls=[call("run_shell", command="echo granted-once")]),
                    turn(tool_calls=[call("run_shell", command="echo denied-one > denied.txt")]),
                    turn(tool_calls=[call("run_shell", command="git status")]),
                    turn(tool_calls=[call("run_shell", command="git status --short")]),
                    turn("Ran what I was allowed to."),
                ],
            )
        )
    )
    client = RecordingClient(answers=["allow_once", "reject_once", "allow_always"])
    async with running_agent(client, repo, server.url, stderr_to=tmp_path / "err") as (conn, _):
        sid = await _start(conn, repo)
        done = await conn.prompt(session_id=sid, prompt=[acp.text_block("run things")])
    assert done.stop_reason == "end_turn"
    asked = [p.tool_call for p in client.permissions]
    assert [t.title for t in asked] == [
        "echo granted-once",
        "echo denied-one > denied.txt",
        "git status",
    ]  # `git status --short` was covered by "always allow git status"
    options = client.permissions[0].options
    assert [o.kind for o in options] == ["allow_once", "allow_always", "reject_once"]
    assert "git status" in client.permissions[2].options[1].name
    started = {u.tool_call_id for u in client.of("tool_call")}
    assert all(t.tool_call_id in started for t in asked)  # the editor saw each call first
    results = [m["content"] for m in requests_of(server)[-1]["messages"] if m["role"] == "tool"]
    assert "granted-once" in results[0]
    assert results[1] == "Denied: the user denied this in the editor"
    assert not (repo / "denied.txt").exists()
    failed = [u for u in client.of("tool_call_update") if u.status == "failed"]
    assert {u.tool_call_id for u in failed} == {asked[1].tool_call_id}
    shell = next(
        u
        for u in client.of("tool_call_update")
        if u.tool_call_id == asked[0].tool_call_id and u.content
    )
    assert "granted-once" in shell.content[0].content.text


async def test_cancel_stops_the_turn_and_the_session_goes_on(repo: Path, replay, tmp_path) -> None:
    server = replay(
        script(
            (  # the second prompt is routed here too: by the conversation's first message
                "wait a while",
                [turn(tool_calls=[call("run_shell", command="sleep 31")]), turn("Still here.")],
            ),
        )
    )
    client = RecordingClient()
    async with running_agent(client, repo, server.url, "--yolo", stderr_to=tmp_path / "err") as (
        conn,
        _,
    ):
        sid = await _start(conn, repo, "yolo")
        turn_ = asyncio.create_task(
            conn.prompt(session_id=sid, prompt=[acp.text_block("wait a while")])
        )
        await client.wait_for(
            lambda: any(u.title == "Run `sleep 31`" for u in client.of("tool_call"))
        )
        await asyncio.sleep(0.3)
        await conn.cancel(session_id=sid)
        done = await asyncio.wait_for(turn_, 60)
        assert done.stop_reason == "cancelled"
        assert await no_process("sleep 31")
        again = await conn.prompt(session_id=sid, prompt=[acp.text_block("and now")])
    assert again.stop_reason == "end_turn"
    assert client.text().endswith("Still here.")
    history = requests_of(server)[-1]["messages"]
    assert any(m["role"] == "tool" for m in history)  # the cut-off call was answered


async def test_plan_mode_and_custom_commands_as_slash_commands(
    repo: Path, replay, tmp_path
) -> None:
    (repo / ".kimicode" / "commands").mkdir(parents=True)
    (repo / ".kimicode" / "commands" / "survey.md").write_text(
        "---\ndescription: Survey a file\nargument-hint: FILE\n---\nSurvey $ARGUMENTS closely.\n"
    )
    server = replay(script(("^Survey cli.py closely", [turn("Looked.")])))
    client = RecordingClient()
    async with running_agent(client, repo, server.url, stderr_to=tmp_path / "err") as (conn, _):
        sid = await _start(conn, repo)
        await client.wait_for(lambda: bool(client.of("available_commands_update")))
        await conn.set_session_mode(session_id=sid, mode_id="plan")
        await conn.prompt(session_id=sid, prompt=[acp.text_block("/survey cli.py")])
    (commands,) = client.of("available_commands_update")
    (survey,) = commands.available_commands
    assert (survey.name, survey.description, survey.input.root.hint) == (
        "survey",
        "Survey a file",
        "FILE",
    )
    body = requests_of(server)[0]
    assert body["messages"][1]["content"] == "Survey cli.py closely."
    names = {t["function"]["name"] for t in body["tools"]}
    assert "read_file" in names and not names & {"write_file", "edit_file", "run_shell"}
    assert [u.current_mode_id for u in client.of("current_mode_update")] == ["plan"]
