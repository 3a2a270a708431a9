"""GET a URL the way the agent may: checked hop by hop, capped, and with nothing of the user's.

Each request goes to the addresses `WebPolicy` checked (the host is sent as
the `Host` header and as the TLS server name), so the name cannot resolve to
somewhere else between the check and the connect. Redirects are followed here,
not by httpx, so every hop is checked again. The client is made per fetch with
`trust_env=False`: no proxy variables, no `.netrc`, no cookies kept, and no
Authorization header — the API key and the user's credentials never leave.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

from kimicode import __version__
from kimicode.errors import ToolError
from kimicode.web.policy import Target, WebPolicy

USER_AGENT = f"kimicode/{__version__} (fetch_url; +https://github.com/kimicode)"
REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(slots=True)
class Fetched:
    url: str
    """The final URL, after redirects."""
    status: int
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool
    """The body was cut at `max_bytes`."""
    hops: list[str] = field(default_factory=list)
    """The URLs that redirected here, in order."""


async def fetch(
    url: str,
    policy: WebPolicy,
    *,
    max_bytes: int,
    limit_s: float,
    max_redirects: int,
    accept: str = "text/html,application/xhtml+xml,text/plain,application/json,*/*;q=0.5",
) -> Fetched:
    """The response to GET `url`, or a ToolError the model can act on."""
    import httpx

    hops: list[str] = []
    try:
        async with asyncio.timeout(limit_s):
            async with httpx.AsyncClient(
                trust_env=False,
                follow_redirects=False,
                timeout=httpx.Timeout(limit_s),
                headers={"User-Agent": USER_AGENT, "Accept": accept},
            ) as client:
                current = url
                while True:
                    target = await policy.check(current)
                    response = await _get(client, target, max_bytes)
                    if response.status in REDIRECTS and response.location:
                        if len(hops) >= max_redirects:
                            raise ToolError(
                                f"{url}: more than {max_redirects} redirects (last: {current})"
                            )
                        hops.append(current)
                        current = urljoin(current, response.location)
                        continue
                    response.url, response.hops = current, hops
                    return response
    except TimeoutError:
        raise ToolError(f"{url}: no complete answer within {limit_s:g} s") from None
    except httpx.HTTPError as exc:
        raise ToolError(f"{url}: {_describe(exc)}") from None


@dataclass(slots=True)
class _Response(Fetched):
    location: str | None = None


async def _get(client: object, target: Target, max_bytes: int) -> _Response:
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    last: Exception | None = None
    for address in target.addresses:  # the checked addresses, in resolver order
        pinned, headers, extensions = _pinned(target, address)
        try:
            request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
            response = await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            last = exc
            continue
        try:
            body, truncated = await _read(response, max_bytes)
        finally:
            await response.aclose()
        content_type = response.headers.get("content-type", "")
        return _Response(
            url=target.url,
            status=response.status_code,
            content_type=content_type.split(";")[0].strip().lower(),
            charset=response.charset_encoding,
            body=body,
            truncated=truncated,
            location=response.headers.get("location"),
        )
    assert last is not None
    raise last


def _pinned(target: Target, address: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """The URL with the host swapped for a checked address, plus the Host header and SNI."""
    parts = urlsplit(target.url)
    literal = f"[{address}]" if ipaddress.ip_address(address).version == 6 else address
    default = 443 if target.scheme == "https" else 80
    netloc = literal if target.port == default else f"{literal}:{target.port}"
    host_header = target.host if target.port == default else f"{target.host}:{target.port}"
    url = urlunsplit((target.scheme, netloc, parts.path or "/", parts.query, ""))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return url, {"Host": host_header}, extensions


async def _read(response: object, max_bytes: int) -> tuple[bytes, bool]:
    """At most `max_bytes` of the decoded body: a huge or zip-bombed answer stops at the cap."""
    import httpx

    assert isinstance(response, httpx.Response)
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        return f"TLS error: {text}"
    return text
