"""Web search providers: which one a session has, and their answers as title, URL, snippet.

On Moonshot's endpoint the model searches with Kimi's built-in `$web_search`
(the endpoint runs it; kimicode only echoes the call back), so a Kimi user
needs no other key. Elsewhere: a SearXNG instance the user names
(`[web] searxng_url`, typically their own on localhost, which is why it is
not put through the private-address check), or Brave's API with
`BRAVE_API_KEY`. With none of these there is no `web_search` tool, and
`kimicode config show` says why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Protocol

from kimicode.config import Settings
from kimicode.errors import ToolError

BRAVE_KEY_VAR = "BRAVE_API_KEY"


@dataclass(frozen=True, slots=True)
class Hit:
    title: str
    url: str
    snippet: str


class SearchProvider(Protocol):
    name: str

    async def search(self, query: str, max_results: int, limit_s: float) -> list[Hit]: ...


@dataclass(frozen=True, slots=True)
class Choice:
    """The provider a session uses ("moonshot", "searxng", "brave") or None, and why."""

    provider: str | None
    reason: str


def choose(settings: Settings) -> Choice:
    from kimicode.llm.thinking import resolve_provider

    web = settings.web
    on_moonshot = resolve_provider(settings.model) == "moonshot"
    wanted = web.search
    if wanted == "off":
        return Choice(None, 'web_search is off ([web] search = "off")')
    if wanted == "moonshot" or (wanted == "auto" and on_moonshot):
        if not on_moonshot:
            return Choice(None, '[web] search = "moonshot" needs Moonshot\'s endpoint')
        return Choice("moonshot", "Kimi's built-in $web_search on Moonshot's endpoint")
    if wanted == "searxng" or (wanted == "auto" and web.searxng_url):
        if not web.searxng_url:
            return Choice(None, '[web] search = "searxng" needs [web] searxng_url')
        return Choice("searxng", f"SearXNG at {web.searxng_url}")
    if wanted == "brave" or (wanted == "auto" and os.environ.get(BRAVE_KEY_VAR)):
        if not os.environ.get(BRAVE_KEY_VAR):
            return Choice(None, f'[web] search = "brave" needs {BRAVE_KEY_VAR} in the environment')
        return Choice("brave", f"Brave Search ({BRAVE_KEY_VAR})")
    return Choice(
        None,
        f"no search provider: not on Moonshot's endpoint, no [web] searxng_url, no {BRAVE_KEY_VAR}",
    )


def provider(settings: Settings, name: str) -> SearchProvider:
    if name == "searxng":
        assert settings.web.searxng_url
        return Searxng(settings.web.searxng_url)
    if name == "brave":
        return Brave(settings.web.brave_url, os.environ.get(BRAVE_KEY_VAR, ""))
    raise ValueError(f"no HTTP provider named {name!r}")


class Searxng:
    name = "searxng"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    async def search(self, query: str, max_results: int, limit_s: float) -> list[Hit]:
        data = await _get_json(
            f"{self.base_url}/search", {"q": query, "format": "json"}, {}, limit_s, "SearXNG"
        )
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise ToolError("SearXNG answered without a results list (is format=json enabled?)")
        return _hits(results, "content", max_results)


class Brave:
    name = "brave"

    def __init__(self, url: str, key: str) -> None:
        self.url = url
        self.key = key

    async def search(self, query: str, max_results: int, limit_s: float) -> list[Hit]:
        headers = {"X-Subscription-Token": self.key, "Accept": "application/json"}
        params = {"q": query, "count": str(max_results)}
        data = await _get_json(self.url, params, headers, limit_s, "Brave Search")
        web = data.get("web") if isinstance(data, dict) else None
        results = web.get("results") if isinstance(web, dict) else None
        if not isinstance(results, list):
            raise ToolError("Brave Search answered without web results")
        return _hits(results, "description", max_results)


async def _get_json(
    url: str, params: dict[str, str], headers: dict[str, str], limit_s: float, who: str
) -> Any:
    import httpx

    try:
        async with httpx.AsyncClient(trust_env=False, timeout=limit_s) as client:
            response = await client.get(url, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise ToolError(f"{who} did not answer: {exc or type(exc).__name__}") from None
    if response.status_code != 200:
        raise ToolError(f"{who} answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError:
        raise ToolError(f"{who} did not answer JSON") from None


def _hits(results: list[Any], snippet_key: str, max_results: int) -> list[Hit]:
    hits = []
    for item in results:
        if not isinstance(item, dict) or not item.get("url"):
            continue
        hits.append(
            Hit(
                title=str(item.get("title") or item["url"]),
                url=str(item["url"]),
                snippet=" ".join(str(item.get(snippet_key) or "").split()),
            )
        )
        if len(hits) >= max_results:
            break
    return hits
