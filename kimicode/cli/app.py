"""The command line: thin Typer commands that parse and hand over.

Start-up stays fast: nothing heavy (openai, textual, playwright, aiohttp)
is imported here; each command imports what it uses.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from kimicode import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
    help="kimicode: a terminal coding agent. Run it in a project to chat in the TUI, "
    "or `kimicode -p PROMPT` to run one task and print the result.",
)
sessions_app = typer.Typer(help="Saved sessions.", no_args_is_help=True)
swarm_app = typer.Typer(help="Swarm maintenance.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
mcp_app = typer.Typer(help="MCP servers.", no_args_is_help=True)
skills_app = typer.Typer(help="Agent Skills.", no_args_is_help=True)
replay_app = typer.Typer(help="The replay model server (deterministic runs).", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")
app.add_typer(swarm_app, name="swarm")
app.add_typer(config_app, name="config")
app.add_typer(replay_app, name="replay")
app.add_typer(mcp_app, name="mcp")
app.add_typer(skills_app, name="skills")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kimicode {__version__}")
        raise typer.Exit()


DirOpt = Annotated[
    Path | None,
    typer.Option("-C", "--directory", metavar="DIR", help="Run in DIR instead of the current one."),
]


@app.callback()
def root(
    ctx: typer.Context,
    prompt_text: Annotated[str | None, typer.Option("--prompt-text", hidden=True)] = None,
    print_mode: Annotated[
        bool, typer.Option("-p", "--print", help="Run the prompt (argument or stdin) and exit.")
    ] = False,
    model: Annotated[str | None, typer.Option(metavar="NAME", help="Model id.")] = None,
    base_url: Annotated[
        str | None, typer.Option(metavar="URL", help="OpenAI-compatible endpoint.")
    ] = None,
    thinking: Annotated[
        bool | None, typer.Option("--thinking/--no-thinking", help="Model thinking on or off.")
    ] = None,
    swarm: Annotated[
        bool | None, typer.Option("--swarm/--no-swarm", help="Let the agent spawn sub-agents.")
    ] = None,
    max_agents: Annotated[
        int | None,
        typer.Option(min=1, max=300, metavar="N", help="Concurrent sub-agents (default 16)."),
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="Model turns per agent.")
    ] = None,
    max_tool_calls: Annotated[
        int | None,
        typer.Option(
            min=1, max=10_000, metavar="N", help="Tool calls for the task, all agents (1500)."
        ),
    ] = None,
    image: Annotated[
        list[Path] | None,
        typer.Option("--image", metavar="PATH", help="Attach an image (repeatable)."),
    ] = None,
    video: Annotated[
        list[Path] | None,
        typer.Option("--video", metavar="PATH", help="Attach a video (repeatable)."),
    ] = None,
    directory: DirOpt = None,
    continue_: Annotated[
        bool, typer.Option("--continue", "-c", help="Continue the latest session here.")
    ] = False,
    resume: Annotated[
        str | None, typer.Option("--resume", metavar="ID", help="Resume session ID.")
    ] = None,
    yolo: Annotated[bool, typer.Option("--yolo", help="Approve every tool call.")] = False,
    permission_mode: Annotated[
        str | None,
        typer.Option(metavar="MODE", help="default | accept-edits | plan | yolo"),
    ] = None,
    visual_check: Annotated[
        bool | None,
        typer.Option("--visual-check/--no-visual-check", help="Render pages and compare."),
    ] = None,
    commit: Annotated[
        bool, typer.Option("--commit", help="Commit each merged sub-agent's work.")
    ] = False,
    output_format: Annotated[
        str, typer.Option(metavar="FORMAT", help="Print mode output: text | json | stream-json.")
    ] = "text",
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from kimicode.cli.runner import RunOptions, run_interactive, run_print

    if output_format not in ("text", "json", "stream-json"):
        raise typer.BadParameter("must be text, json or stream-json", param_hint="--output-format")
    opts = RunOptions(
        prompt=prompt_text or "",
        directory=directory,
        flags={
            "model.name": model,
            "model.base_url": base_url,
            "model.thinking": thinking,
            "swarm.enabled": swarm,
            "swarm.max_agents": max_agents,
            "swarm.commit": commit or None,
            "agent.max_steps": max_steps,
            "agent.max_tool_calls": max_tool_calls,
            "vision.self_check": visual_check,
            "permissions.mode": "yolo" if yolo else permission_mode,
        },
        images=list(image or []),
        videos=list(video or []),
        continue_last=continue_,
        resume=resume,
        output_format=output_format,
    )
    if print_mode or not sys.stdin.isatty():
        raise typer.Exit(run_print(opts))
    raise typer.Exit(run_interactive(opts))


@sessions_app.command("list")
def sessions_list(directory: DirOpt = None, all_: bool = typer.Option(False, "--all")) -> None:
    """List saved sessions (of this directory, or --all)."""
    from kimicode.cli.subcommands import sessions_list as run

    run(directory, all_)


@sessions_app.command("show")
def sessions_show(session_id: str) -> None:
    """Show one session's conversation."""
    from kimicode.cli.subcommands import sessions_show as run

    run(session_id)


@swarm_app.command("clean")
def swarm_clean(
    directory: DirOpt = None,
    force: bool = typer.Option(False, "--force", help="Also delete unmerged work."),
) -> None:
    """Remove worktrees, branches and refs left by interrupted swarm runs."""
    from kimicode.cli.subcommands import swarm_clean as run

    run(directory, force)


@swarm_app.command("list")
def swarm_list(directory: DirOpt = None) -> None:
    """Swarm runs with unfinished or unmerged agents, and each agent's state."""
    from kimicode.cli.subcommands import swarm_list as run

    run(directory)


@swarm_app.command("merge")
def swarm_merge(
    run_id: str = typer.Argument(..., metavar="RUN", help="The run id (kimicode swarm list)."),
    directory: DirOpt = None,
) -> None:
    """Merge a stopped run's finished agents without resuming the rest."""
    from kimicode.cli.subcommands import swarm_merge as run

    run(directory, run_id)


@config_app.command("show")
def config_show(directory: DirOpt = None) -> None:
    """Print every effective setting and where it came from."""
    from kimicode.cli.subcommands import config_show as run

    run(directory)


@config_app.command("init")
def config_init(
    directory: DirOpt = None,
    user: bool = typer.Option(False, "--user", help="Write the user file instead."),
) -> None:
    """Write a commented config file for this project (or the user)."""
    from kimicode.cli.subcommands import config_init as run

    run(directory, user)


@mcp_app.command("list")
def mcp_list(directory: DirOpt = None) -> None:
    """Configured MCP servers, whether they connect, and their tools."""
    from kimicode.cli.subcommands import mcp_list as run

    raise typer.Exit(run(directory))


@skills_app.command("list")
def skills_list(directory: DirOpt = None) -> None:
    """Agent Skills the agent can load here, and the ones skipped (with why)."""
    from kimicode.cli.subcommands import skills_list as run

    raise typer.Exit(run(directory))


@replay_app.command("serve")
def replay_serve(
    script: Path,
    port: int = typer.Option(0, help="Port (0: any free port)."),
    host: str = typer.Option("127.0.0.1"),
    latency_ms: float | None = typer.Option(None, help="Delay before every answer."),
) -> None:
    """Serve a replay script as an OpenAI-compatible endpoint."""
    from kimicode.replay.server import serve

    serve(script, host, port, latency_ms)


@app.command()
def demo(
    keep: Path | None = typer.Option(None, help="Where to put the result (default: a temp dir)."),
    max_agents: int = typer.Option(8, min=1, max=100),
) -> None:
    """Run a real swarm on a sample project with the bundled replay model (no key needed)."""
    from kimicode.demo.run import run_demo

    raise typer.Exit(run_demo(keep, max_agents))


@app.command()
def acp(
    model: str | None = typer.Option(None, metavar="NAME", help="Model id."),
    base_url: str | None = typer.Option(None, metavar="URL", help="OpenAI-compatible endpoint."),
    swarm: bool | None = typer.Option(None, "--swarm/--no-swarm", help="Offer spawn_agents."),
    max_agents: int | None = typer.Option(None, min=1, max=300, metavar="N"),
    yolo: bool = typer.Option(False, "--yolo", help="Approve every tool call."),
) -> None:
    """Serve the Agent Client Protocol on stdio, for Zed, JetBrains IDEs and Neovim."""
    from kimicode.acp.server import run_acp

    raise typer.Exit(
        run_acp(
            {
                "model.name": model,
                "model.base_url": base_url,
                "swarm.enabled": swarm,
                "swarm.max_agents": max_agents,
                "permissions.mode": "yolo" if yolo else None,
            }
        )
    )


@app.command()
def undo(
    count: int = typer.Argument(1, min=1, help="How many change sets to undo."),
    directory: DirOpt = None,
) -> None:
    """Restore the files of the last N change sets exactly as they were."""
    from kimicode.cli.subcommands import undo as run

    raise typer.Exit(run(directory, count))


@app.command()
def checkpoints(directory: DirOpt = None) -> None:
    """List the undo points of this project, newest first."""
    from kimicode.cli.subcommands import checkpoints_list as run

    run(directory)


@app.command()
def watch(directory: DirOpt = None, yolo: bool = typer.Option(False, "--yolo")) -> None:
    """Watch the repo and act on `AI!` / `AI?` comments."""
    from kimicode.cli.watch import run_watch

    raise typer.Exit(run_watch(directory, yolo))


def main() -> None:
    """Entry point: fast path for --version, one-line errors, exit codes from DESIGN.md."""
    argv = sys.argv[1:]
    if argv == ["--version"]:
        print(f"kimicode {__version__}")
        return
    from kimicode.errors import KimicodeError

    command = typer.main.get_command(app)
    try:
        code = command.main(
            args=split_prompt(argv, command), prog_name="kimicode", standalone_mode=False
        )
    except KimicodeError as exc:
        print(f"kimicode: error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("kimicode: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        kind = type(exc).__name__
        if kind == "Exit":
            sys.exit(getattr(exc, "exit_code", 0))
        if kind == "Abort":
            sys.exit(130)
        if not hasattr(exc, "format_message"):  # not a command-line error: a real bug
            raise
        ctx = getattr(exc, "ctx", None)
        path = getattr(ctx, "command_path", "kimicode") or "kimicode"
        hint = (
            f" (see `{path} --help`)"
            if kind
            in ("UsageError", "NoSuchOption", "BadParameter", "BadOptionUsage", "MissingParameter")
            else ""
        )
        print(f"kimicode: error: {exc.format_message()}{hint}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


def split_prompt(argv: list[str], command: object) -> list[str]:
    """Turn free prompt words into `--prompt-text`, so options may come anywhere.

    `kimicode -p fix the tests --yolo` and `kimicode sessions list` share one
    command line: when the first positional word is not a subcommand, every
    positional word is the prompt.
    """
    params = getattr(command, "params", [])
    commands = getattr(command, "commands", {})
    takes_value = {
        opt
        for p in params
        if getattr(p, "opts", None)
        and not getattr(p, "is_flag", False)
        and not getattr(p, "count", False)
        for opt in p.opts
    }
    rest: list[str] = []
    words: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            words.extend(argv[i + 1 :])
            break
        if tok.startswith("-") and len(tok) > 1:
            rest.append(tok)
            if "=" not in tok and tok in takes_value and i + 1 < len(argv):
                rest.append(argv[i + 1])
                i += 1
        elif not words and tok in commands:
            return argv
        else:
            words.append(tok)
        i += 1
    if words:
        rest += ["--prompt-text", " ".join(words)]
    return rest
