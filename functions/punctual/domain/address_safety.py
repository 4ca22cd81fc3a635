"""Which addresses an HTTPS target may reach: never punctual's own network neighbourhood (SSRF).

Loopback, private (RFC 1918, ULA), link-local, the cloud metadata endpoints (169.254.169.254,
fd00:ec2::254), unspecified, multicast and reserved addresses are refused. A stage for development may allow
loopback (``punctual dev`` calls receivers on 127.0.0.1); nothing allows the rest.
"""

from __future__ import annotations

import ipaddress

_METADATA = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})


def refusal(address: str, *, allow_loopback: bool) -> str | None:
    """Why ``address`` (an IP literal) may not be called, or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address!r} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if ip in _METADATA:
        return f"{ip} is a cloud metadata endpoint"
    if ip.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_private:
        return f"{ip} is a private address"
    if ip.is_multicast or ip.is_reserved:
        return f"{ip} is a multicast or reserved address"
    return None
