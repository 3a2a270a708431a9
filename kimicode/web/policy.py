"""Which URLs the agent may reach: scheme, domain lists, and where the name resolves.

A page the model read can steer it at the user's router or a cloud metadata
service, so every URL (the first and each redirect hop) is checked here before
a byte is sent: `http`/`https` only, `[web] deny` wins, `[web] allow` (when
given) must name the host, and the host's addresses *after DNS resolution*
must all be public unless `[web] allow_private` is set or the host is named
explicitly in `allow` (the user's own SearXNG on localhost). The checked
addresses are returned so the connection goes to exactly those: a name that
resolves to a public address for the check and to 127.0.0.1 for the connect
(DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from kimicode.config import WebSettings
from kimicode.errors import ToolError

SCHEMES = ("http", "https")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL: where to connect, and what to call the host on the wire."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


class WebPolicy:
    def __init__(self, settings: WebSettings) -> None:
        self.allow = [_entry(e) for e in settings.allow]
        self.deny = [_entry(e) for e in settings.deny]
        self.allow_private = settings.allow_private

    def check_name(self, url: str) -> tuple[str, str, int]:
        """Scheme, host and port of `url`, or a ToolError saying why it is refused (no DNS)."""
        if any(c in url for c in "\r\n\t\x00") or " " in url.strip():
            raise ToolError(
                f"{url!r} is not a valid URL (it contains spaces or control characters)"
            )
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ToolError(f"{url!r} is not a valid URL: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            shown = f"{scheme}:" if scheme else "no scheme"
            raise ToolError(
                f"{url!r}: {shown} is not supported; fetch_url reads http:// and https:// URLs"
            )
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise ToolError(f"{url!r} has no host name")
        port = port or (443 if scheme == "https" else 80)
        if parts.username or parts.password:
            raise ToolError(f"{url!r} carries credentials; fetch_url never sends credentials")
        if self._listed(self.deny, host, port):
            raise ToolError(f"{host} is denied by [web] deny")
        if self.allow and not self._listed(self.allow, host, port):
            literal = _literal(host)
            if literal is not None and not _is_public(literal):
                raise ToolError(_private_reason(host, literal))
            raise ToolError(
                f"{host} is not in [web] allow ({', '.join(_show(e) for e in self.allow)}); "
                "the user can add it to .kimicode/config.toml"
            )
        return scheme, host, port

    async def check(self, url: str) -> Target:
        """The URL checked by name and by every address its host resolves to."""
        scheme, host, port = self.check_name(url)
        addresses = await _resolve(host, port)
        private = [a for a in addresses if not _is_public(a)]
        if private and not (self.allow_private or self._named(host, port)):
            raise ToolError(_private_reason(host, private[0]))
        return Target(url.strip(), scheme, host, port, tuple(str(a) for a in addresses))

    def _named(self, host: str, port: int) -> bool:
        """The host is named in `allow` literally (no wildcard): the user meant that one."""
        return any(
            not pat.startswith("*") and _matches(pat, p, host, port) for pat, p in self.allow
        )

    @staticmethod
    def _listed(entries: list[tuple[str, int | None]], host: str, port: int) -> bool:
        return any(_matches(pat, p, host, port) for pat, p in entries)


def host_matches(pattern: str, host: str) -> bool:
    """`docs.python.org` matches itself and its subdomains; `*.x.org` only subdomains."""
    pattern = pattern.lower().rstrip(".")
    host = host.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern or host.endswith("." + pattern)


def _matches(pattern: str, want_port: int | None, host: str, port: int) -> bool:
    return host_matches(pattern, host) and (want_port is None or want_port == port)


def _entry(text: str) -> tuple[str, int | None]:
    """`host`, `host:port`, or a URL whose host (and port) are taken."""
    text = text.strip()
    if "://" in text:
        parts = urlsplit(text)
        return (parts.hostname or "").lower(), parts.port
    if text.startswith("[") and "]" in text:  # [::1]:8080
        host, _, rest = text[1:].partition("]")
        return host.lower(), int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host.lower(), int(port)
    return text.lower(), None


def _show(entry: tuple[str, int | None]) -> str:
    return entry[0] if entry[1] is None else f"{entry[0]}:{entry[1]}"


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _private_reason(host: str, address: IPAddress) -> str:
    return (
        f"{host} {_is_or_resolves(host, address)} a private, loopback or link-local address; "
        "refused so a page cannot steer requests into the user's network. "
        "The user can allow it with [web] allow_private = true, or by naming the host "
        "in [web] allow"
    )


async def _resolve(host: str, port: int) -> list[IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ToolError(f"cannot resolve {host}: {exc}") from None
    seen: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in seen:
            seen.append(address)
    if not seen:
        raise ToolError(f"{host} resolves to no address")
    return seen


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _is_or_resolves(host: str, address: IPAddress) -> str:
    return "is" if host.strip("[]") == str(address) else f"resolves to {address},"
