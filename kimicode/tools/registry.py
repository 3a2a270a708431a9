"""The tools an agent offers the model, looked up by name.

`core_tools()` builds the file, search and shell tools every agent has (run_shell with
its background handles shell_output and shell_kill); callers
add the rest (view_image, render_page, spawn_agents) and build a `ToolSet`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from kimicode.protocols import Tool

if TYPE_CHECKING:
    from kimicode.config import Settings


def core_tools() -> list[Tool]:
    from kimicode.tools.edit_file import EditFile
    from kimicode.tools.glob_tool import Glob
    from kimicode.tools.grep import Grep
    from kimicode.tools.read_file import ReadFile
    from kimicode.tools.run_shell import RunShell
    from kimicode.tools.shell_jobs import ShellKill, ShellOutput
    from kimicode.tools.write_file import WriteFile

    return [
        ReadFile(),
        WriteFile(),
        EditFile(),
        Glob(),
        Grep(),
        RunShell(),
        ShellOutput(),
        ShellKill(),
    ]


def web_tools(settings: Settings) -> list[Tool]:
    """fetch_url always; web_search when the session has a search provider."""
    from kimicode.tools.fetch_url import FetchUrl
    from kimicode.tools.web_search import web_search_tool
    from kimicode.web.search import choose

    tools: list[Tool] = [FetchUrl()]
    choice = choose(settings)
    if choice.provider is not None:
        tools.append(web_search_tool(choice.provider))
    return tools


class ToolSet:
    """An ordered name -> Tool mapping; names are unique."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        self._tools: dict[str, Tool] = {}
        self._wire: dict[str, Tool] = {}
        for tool in tools:
            if tool.name in self._tools:
                raise ValueError(f"two tools are named {tool.name!r}")
            self._tools[tool.name] = tool
            if tool.wire_name:
                self._wire[tool.wire_name] = tool

    def get(self, name: str) -> Tool | None:
        """The tool by its name, or by the name the model calls it (`$web_search`)."""
        return self._tools.get(name) or self._wire.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """OpenAI function-tool schemas of the available tools, in registration order."""
        return [tool.schema() for tool in self._tools.values() if tool.available]

    def read_only(self) -> ToolSet:
        """The tools that cannot change files or run anything (plan mode)."""
        return ToolSet(t for t in self._tools.values() if t.read_only)

    def without(self, *names: str) -> ToolSet:
        return ToolSet(t for t in self._tools.values() if t.name not in names)

    def with_tools(self, *tools: Tool) -> ToolSet:
        return ToolSet([*self._tools.values(), *tools])

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools
