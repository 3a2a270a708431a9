"""The network a rendered page gets: its own origin only, unless `[sandbox] network = true`.

Chromium runs in kimicode's process tree, outside the sandbox, while the page's
JavaScript is the model's (or comes from a dev server the model wrote). So a
render would be a way around `--unshare-net`: a `fetch`, beacon, image,
WebSocket or navigation to any address. Every request of the context is routed
through `confine`:

- to the page's own origin (kimicode's static server, or the local dev server
  `render_page` was pointed at): fetched on the page's behalf and handed over;
  redirects are followed here, hop by hop, so a same-origin URL cannot bounce
  the browser elsewhere (Chromium follows a handed-over redirect without asking);
- anything else: refused, and listed in the report as blocked;
- WebSockets to another origin are closed; service workers are blocked when the
  context is made (they would fetch beyond the routes).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Route, WebSocketRoute

MAX_HOPS = 10
BLOCKED_NOTE = "blocked: pages reach only their own origin ([sandbox] network = false)"


def origin_of(url: str) -> str:
    """scheme://host:port, with the default port spelled out."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme, 0)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def _same_site(url: str, origin: str) -> bool:
    """True for the page's origin, its WebSocket twin included (ws:// for http://)."""
    here = origin_of(url)
    return here == origin or here == origin.replace("http", "ws", 1)


async def confine(context: BrowserContext, page_url: str, blocked: list[str]) -> None:
    """Route every request of `context`; what was refused is appended to `blocked`."""
    origin = origin_of(page_url)

    async def on_request(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob", "about"):
            await route.continue_()
            return
        if not _same_site(url, origin):
            blocked.append(url)
            await route.abort("blockedbyclient")
            return
        try:
            for _ in range(MAX_HOPS):
                response = await route.fetch(url=url, max_redirects=0)
                location = response.headers.get("location")
                if not (300 <= response.status < 400 and location):
                    await route.fulfill(response=response)
                    return
                url = urljoin(url, location)
                if not _same_site(url, origin):
                    blocked.append(url)
                    break
        except Exception:  # the server went away: the page sees a failed request
            await route.abort("failed")
            return
        await route.abort("blockedbyclient")

    async def on_websocket(ws: WebSocketRoute) -> None:
        if _same_site(ws.url, origin):
            ws.connect_to_server()
        else:
            blocked.append(ws.url)
            await ws.close()

    await context.route("**/*", on_request)
    await context.route_web_socket(re.compile(".*"), on_websocket)


def context_options(network: bool) -> dict[str, Any]:
    """Options for `new_context`: no service workers when the network is confined."""
    return {} if network else {"service_workers": "block"}
