"""Who may see a health document's details: anonymous callers get the status only.

Details need one of: ``Authorization: Bearer <token>`` with a configured token, a configured
header with its expected value, or a client address in an allowed network. The address is
the ASGI server's view of the peer: behind a proxy, enable the server's proxy-headers
handling (uvicorn ``--forwarded-allow-ips``) rather than trusting ``X-Forwarded-For`` here.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Access:
    """The callers that get details; with nothing configured, nobody does."""

    tokens: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)  # header name → expected value
    networks: tuple[Network, ...] = ()

    @classmethod
    def of(
        cls,
        *,
        tokens: Iterable[str] = (),
        headers: Mapping[str, str] | None = None,
        networks: Iterable[str] = (),
    ) -> Access:
        """``Access.of(tokens=[…], headers={"X-Health-Key": …}, networks=["10.0.0.0/8"])``."""
        found = tuple(token for token in tokens if token)
        expected = {name.lower(): value for name, value in (headers or {}).items() if value}
        parsed = tuple(ipaddress.ip_network(network, strict=False) for network in networks)
        return cls(found, expected, parsed)

    def secrets(self) -> frozenset[str]:
        return frozenset((*self.tokens, *self.headers.values()))

    def allows(self, headers: Mapping[str, str], client: str | None) -> bool:
        """Whether a request (lower-case header names) gets details."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and _matches(token.strip(), self.tokens):
            return True
        for name, value in self.headers.items():
            if _matches(headers.get(name, ""), (value,)):
                return True
        return client is not None and _in_networks(client, self.networks)


def _matches(given: str, expected: Iterable[str]) -> bool:
    # compare_digest: the time taken does not tell how much of a token was right
    hits = [hmac.compare_digest(given.encode(), value.encode()) for value in expected]
    return bool(given) and any(hits)


def _in_networks(client: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:  # a unix socket path or a test client name
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)
