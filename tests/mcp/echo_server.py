"""A small MCP server the tests start as a real subprocess.

`python echo_server.py` serves over stdio; `--http PORT` serves streamable
HTTP on 127.0.0.1; `--hang` never answers (a server stuck at start);
`--name NAME` changes the server's tool set a little so two servers differ.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time

from mcp.server.mcpserver import Image, MCPServer
from mcp.server.mcpserver.exceptions import ToolError

# A 1x1 red PNG.
RED_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def build(name: str) -> MCPServer:
    server = MCPServer(name)

    @server.tool()
    def echo(text: str, times: int = 1) -> str:
        """Repeat the text.

        The text comes back `times` times, separated by spaces."""
        return " ".join([text] * times)

    @server.tool()
    def add(a: int, b: int) -> str:
        """Add two integers."""
        return str(a + b)

    @server.tool()
    def pixel() -> Image:
        """Return a 1x1 red PNG."""
        return Image(data=RED_PIXEL, format="png")

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails with the given reason."""
        raise ToolError(reason)

    @server.tool()
    def crash() -> str:
        """Exit the server process in the middle of the call."""
        print("echo server: crashing on purpose", file=sys.stderr, flush=True)
        os._exit(3)

    @server.tool()
    def stall() -> str:
        """Never return (a hung call)."""
        time.sleep(3600)
        return "unreachable"

    @server.tool()
    def pid() -> str:
        """The server's process id."""
        return str(os.getpid())

    @server.tool()
    def getenv(name: str) -> str:
        """The value of an environment variable in the server, or <unset>."""
        return os.environ.get(name, "<unset>")

    @server.tool(name="make-issue")
    def make_issue(title: str, labels: list[str] | None = None) -> str:
        """Create an issue (takes a property named `title`)."""
        return f"issue {title!r} labels={labels or []}"

    return server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=0, help="serve streamable HTTP on this port")
    parser.add_argument("--hang", action="store_true", help="never answer anything")
    parser.add_argument("--name", default="echo")
    args = parser.parse_args()
    if args.hang:
        time.sleep(3600)
        return
    server = build(args.name)
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.http)
    else:
        server.run()


if __name__ == "__main__":
    main()
