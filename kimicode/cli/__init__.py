"""The command line: the front end that parses arguments and starts a session.

- `app`: the Typer commands, thin: they parse and hand over (`kimicode`'s entry point).
- `runner`: print mode and the TUI from options (settings, exit codes, Ctrl-C).
- `services`: the one start-up of a session nobody sits at (print mode, watch, demo).
- `watch`: `kimicode watch`, acting on `AI!`/`AI?` comments as files are saved.
- `subcommands`: the small ones (sessions, config, swarm clean, mcp, skills, undo).
- `completions`: shell completion scripts generated from the Typer app.
- `interrupts`: Ctrl-C and SIGTERM cancel the running task instead of killing it.

Importing this package is cheap; the Typer app loads when `main` runs.
"""

from __future__ import annotations


def main() -> None:
    """The `kimicode` console script (and `python -m kimicode`)."""
    from kimicode.cli.app import main as run

    run()
