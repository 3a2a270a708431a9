"""The exceptions that carry kimicode's control flow and user-facing errors.

Each one says what happened and what to do, and maps to a process exit code::

    KimicodeError                    exit 1
    ├── UsageError                   exit 2   bad flag, bad config, not a directory
    │   └── MissingApiKey            exit 2   no key in env or config
    ├── ModelError                   exit 1   the API refused the request (4xx)
    │   └── TemporaryModelError      exit 75  rate limit / network after retries were spent
    ├── LimitReached                 exit 1   --max-steps / --max-tool-calls / loop guard
    ├── ToolError                    (never exits: becomes a tool result the model reads)
    │   └── PathOutsideRoot          a path that resolves outside the agent's root
    └── Interrupted                  exit 130 Ctrl-C / SIGTERM
"""

from __future__ import annotations


class KimicodeError(Exception):
    """Base of every error kimicode raises on purpose."""

    exit_code = 1


class UsageError(KimicodeError):
    """The user asked for something that cannot work as given."""

    exit_code = 2


class MissingApiKey(UsageError):
    def __init__(self, base_url: str = "") -> None:
        where = f" for {base_url}" if base_url else ""
        super().__init__(
            f"no API key{where}: set KIMICODE_API_KEY (or MOONSHOT_API_KEY, OPENAI_API_KEY), "
            'or put `api_key = "..."` under [model] in ~/.config/kimicode/config.toml'
        )


class ModelError(KimicodeError):
    """The model endpoint answered with an error that retrying will not fix."""


class TemporaryModelError(ModelError):
    """Rate limit, server error or network failure that outlasted our retries."""

    exit_code = 75


class LimitReached(KimicodeError):
    """A step, tool-call or loop limit stopped the run before the task was done."""


class ToolError(KimicodeError):
    """A tool could not do what the model asked; the message goes back to the model."""


class PathOutsideRoot(ToolError):
    def __init__(self, path: str, root: str) -> None:
        super().__init__(
            f"path {path!r} resolves outside the project root {root}; "
            "only files inside the root can be read or written"
        )


class Interrupted(KimicodeError):
    """The user pressed Ctrl-C or the process got SIGTERM."""

    exit_code = 130
