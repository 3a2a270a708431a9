"""An MCP server's tool, offered to the model as one of ours.

The name is `mcp__<server>__<tool>`, so permission rules such as
`mcp__github__*` match it; it is never read-only, because we cannot know what
a server does. The arguments model checks only what the schema requires and
passes everything through: the server validates its own arguments, and the
model sees the server's schema unchanged but for our endpoint rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from kimicode.mcp.connection import ServerConnection, ServerUnavailable
from kimicode.mcp.schema import model_schema, required_arguments
from kimicode.tools.base import Tool, ToolContext, ToolResult

MAX_NAME = 64
MAX_TEXT = 60_000
"""Characters of a result's text the model gets; the rest is cut with a note."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class McpArguments(BaseModel):
    """Whatever the model sent, with the schema's required names present."""

    model_config = ConfigDict(extra="allow")
    required_names: ClassVar[tuple[str, ...]] = ()
    input_schema: ClassVar[dict[str, Any]] = {}

    @model_validator(mode="before")
    @classmethod
    def _has_required(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("the arguments must be a JSON object")
        missing = [name for name in cls.required_names if name not in data]
        if missing:
            raise ValueError(f"missing required argument(s): {', '.join(missing)}")
        return data

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return model_schema(cls.input_schema)

    def arguments(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class McpTool(Tool[McpArguments]):
    """Base of the per-tool classes `make_tool` builds."""

    read_only: ClassVar[bool] = False
    server: ClassVar[str] = ""
    remote_name: ClassVar[str] = ""
    remote_description: ClassVar[str] = ""

    def __init__(self, connection: ServerConnection, call_timeout: float) -> None:
        self.connection = connection
        self.call_timeout = call_timeout

    @property
    def description(self) -> str:
        return (
            self.remote_description
            or f"The {self.remote_name} tool of the MCP server {self.server}."
        )

    @property
    def available(self) -> bool:
        return self.connection.alive

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": model_schema(self.Params.input_schema),  # type: ignore[attr-defined]
            },
        }

    def summary(self, params: McpArguments) -> str:
        shown = json.dumps(params.arguments(), ensure_ascii=False, default=str)
        return f"{self.name} {shown[:200]}"

    async def run(self, params: McpArguments, ctx: ToolContext) -> ToolResult:
        try:
            result = await self.connection.call(
                self.remote_name, params.arguments(), self.call_timeout
            )
        except ServerUnavailable as exc:
            return ToolResult(
                f"Error: {exc}. Its tools are withdrawn; go on without them.", is_error=True
            )
        except Exception as exc:  # an error answer (bad arguments, unknown tool)
            return ToolResult(f"Error: the MCP server {self.server} answered: {exc}", is_error=True)
        return to_tool_result(result)


def make_tool(connection: ServerConnection, remote: Any, name: str, call_timeout: float) -> McpTool:
    """A Tool for one `mcp.types.Tool` of a connected server, named `name`."""
    schema = remote.input_schema if isinstance(remote.input_schema, dict) else {}
    params = type(
        f"{_class_name(name)}Arguments",
        (McpArguments,),
        {"required_names": required_arguments(schema), "input_schema": schema},
    )
    cls = type(
        _class_name(name),
        (McpTool,),
        {
            "name": name,
            "Params": params,
            "server": connection.spec.name,
            "remote_name": remote.name,
            "remote_description": (remote.description or remote.title or "").strip(),
        },
    )
    tool: McpTool = cls(connection, call_timeout)
    return tool


def tool_name(server: str, tool: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """`mcp__<server>__<tool>` with only [A-Za-z0-9_-], at most 64 characters, not in `taken`."""
    name = f"mcp__{_UNSAFE.sub('_', server)}__{_UNSAFE.sub('_', tool)}"
    if len(name) > MAX_NAME or name in taken:
        digest = hashlib.sha1(f"{server}\0{tool}".encode()).hexdigest()[:8]
        name = f"{name[: MAX_NAME - 9]}_{digest}"
    return name


def to_tool_result(result: Any) -> ToolResult:
    """MCP content blocks as our ToolResult: text, image parts, is_error."""
    texts: list[str] = []
    images: list[dict[str, Any]] = []
    for block in result.content or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            texts.append(block.text)
        elif kind == "image":
            url = f"data:{block.mime_type};base64,{block.data}"
            images.append({"type": "image_url", "image_url": {"url": url}})
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            if text is not None:
                texts.append(text)
            else:
                texts.append(
                    f"[binary resource {resource.uri} ({resource.mime_type or 'unknown type'})]"
                )
        elif kind == "resource_link":
            texts.append(
                f"[resource {block.uri}{': ' + block.description if block.description else ''}]"
            )
        else:
            texts.append(f"[{kind or 'unknown'} content not shown]")
    if not texts and result.structured_content is not None:
        texts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=1))
    text = "\n".join(texts)
    if len(text) > MAX_TEXT:
        text = f"{text[:MAX_TEXT]}\n[... {len(text) - MAX_TEXT} more characters cut]"
    if not text:
        text = f"[{len(images)} image(s)]" if images else "(no output)"
    return ToolResult(text, images=images, is_error=bool(result.is_error))


def _class_name(name: str) -> str:
    return "Mcp_" + re.sub(r"\W", "_", name)
