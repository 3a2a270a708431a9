"""web_search: search the web through the session's provider; Kimi's own search on Moonshot.

Two shapes of one tool. `WebSearch` calls an HTTP provider (SearXNG, Brave)
and returns title, URL and snippet per hit. `KimiWebSearch` is offered on
Moonshot's endpoint as the `$web_search` builtin function: the endpoint runs
the search, and the client's whole part is to send the call's arguments back
unchanged as the tool result (Moonshot's protocol), after the same approval.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kimicode.errors import ToolError
from kimicode.tools.base import Tool, ToolContext, ToolResult

KIMI_BUILTIN = "$web_search"


class WebSearchParams(BaseModel):
    query: str = Field(description="What to search for, as you would type it into a search box.")
    max_results: int = Field(5, ge=1, le=20, description="How many results to return (1-20).")


class WebSearch(Tool[WebSearchParams]):
    name = "web_search"
    Params = WebSearchParams
    read_only = True
    network = True

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def summary(self, params: WebSearchParams) -> str:
        return f"web_search {params.query}"

    async def run(self, params: WebSearchParams, ctx: ToolContext) -> ToolResult:
        from kimicode.web.search import provider
        from kimicode.web.untrusted import fence

        if not params.query.strip():
            raise ToolError("the query is empty")
        engine = provider(ctx.settings, self.provider)
        hits = await engine.search(params.query, params.max_results, ctx.settings.web.timeout)
        if not hits:
            return ToolResult(text=f"No results for {params.query!r} ({engine.name}).")
        lines = []
        for number, hit in enumerate(hits, 1):
            lines.append(f"{number}. {hit.title}\n   {hit.url}")
            if hit.snippet:
                lines.append(f"   {hit.snippet}")
        head = f"{len(hits)} results for {params.query!r} ({engine.name}); fetch_url reads one."
        return ToolResult(text=head + "\n\n" + fence("\n".join(lines), f"{engine.name} search"))


class KimiWebSearchParams(BaseModel):
    """Whatever Moonshot put in the call: it goes back as it came."""

    model_config = ConfigDict(extra="allow")


class KimiWebSearch(Tool[KimiWebSearchParams]):
    name = "web_search"
    wire_name = KIMI_BUILTIN
    Params = KimiWebSearchParams
    read_only = True
    network = True

    @property
    def description(self) -> str:
        return "Kimi's built-in web search (run by Moonshot's endpoint)."

    def schema(self) -> dict[str, Any]:
        return {"type": "builtin_function", "function": {"name": KIMI_BUILTIN}}

    def summary(self, params: KimiWebSearchParams) -> str:
        query = (params.model_extra or {}).get("query")
        return f"web_search {query}" if isinstance(query, str) else "web_search (Kimi)"

    async def run(self, params: KimiWebSearchParams, ctx: ToolContext) -> ToolResult:
        return ToolResult(text=json.dumps(params.model_extra or {}, ensure_ascii=False))


def web_search_tool(choice_provider: str) -> Tool[Any]:
    return KimiWebSearch() if choice_provider == "moonshot" else WebSearch(choice_provider)
