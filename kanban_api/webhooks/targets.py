"""Where webhooks may be sent: public addresses only, unless private ones are allowed.

A URL is checked when it is set and again, on the addresses its host resolves to
then, before each delivery; the request goes to the address checked, so a name
that resolves elsewhere between the check and the connection (DNS rebinding)
cannot redirect it to an internal service.
"""

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from kanban_api.config import Settings
from kanban_api.limits import TCP_PORTS


class UnsafeTargetError(ValueError):
    """A webhook URL the server will not send to; the message says why, after "The URL"."""


@dataclass(frozen=True)
class TargetPolicy:
    """Which targets are allowed (`webhook_allow_private`), and how long checking one may
    take (`webhook_timeout_seconds`)."""

    allow_private: bool
    timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "TargetPolicy":
        return cls(settings.webhook_allow_private, settings.webhook_timeout_seconds)


@dataclass(frozen=True)
class Target:
    """A webhook URL and the address to connect to for it."""

    url: httpx.URL
    address: str

    def request_url(self) -> httpx.URL:
        """The URL with its host replaced by the checked address (Host and SNI keep the name)."""
        return self.url.copy_with(host=self.address)


def parse(url: str, *, allow_private: bool) -> httpx.URL:
    """The URL, if its form may be a webhook's: `https` (and `http` with private targets
    allowed), a host, a TCP port if any (1-65535), no credentials; UnsafeTargetError if not."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise UnsafeTargetError(f"is not a valid URL: {error}") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parsed.scheme not in schemes:
        raise UnsafeTargetError(f"must be an {' or '.join(schemes)} URL")
    if not parsed.host:
        raise UnsafeTargetError("must name a host")
    if parsed.userinfo:
        raise UnsafeTargetError("must not carry a user name or password")
    port = _written_port(url)
    if port is not None and not (_PORT.fullmatch(port) and int(port) in TCP_PORTS):
        raise UnsafeTargetError(f"has port {port!r}; a port is 1 to 65535, in digits")
    return parsed


# Digits as RFC 3986 writes them; httpx also reads "+443", "4_43" or other scripts' digits.
_PORT = re.compile(r"[0-9]{1,5}")


def _written_port(url: str) -> str | None:
    """The port as the URL writes it (None: none written), from its authority: after
    any user info, and after the brackets of an IPv6 address."""
    authority = urlsplit(url).netloc.rpartition("@")[2]
    host_end = authority.find("]") + 1 if authority.startswith("[") else 0
    _, colon, port = authority[host_end:].partition(":")
    return port if colon else None


async def resolve(url: httpx.URL, *, allow_private: bool) -> Target:
    """The URL's host resolved; UnsafeTargetError if it does not resolve, or if any of its
    addresses is not public (loopback, private, link-local, reserved…) and those are not
    allowed: a name with one public and one private address could be made to use either."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            url.host, url.port or (443 if url.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as error:
        raise UnsafeTargetError(f"host {url.host} does not resolve: {error}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeTargetError(f"host {url.host} does not resolve")
    if not allow_private:
        for address in addresses:
            if not _is_public(address):
                raise UnsafeTargetError(
                    f"host {url.host} resolves to {address}, which is not a public address"
                )
    return Target(url, addresses[0])


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast
