"""Which IP addresses are personal data: public host addresses only.

Loopback, private, link-local, shared, documentation, benchmarking, multicast, reserved and
unspecified addresses name no person's connection, and neither does a network block (a CIDR
prefix with its host bits zero). The ranges are listed here explicitly (IANA's special-purpose
registries) rather than taken from ``ipaddress``' ``is_private``/``is_global``, whose meaning
changed between Python versions (``192.0.2.1`` is "private" since 3.11.10 and 3.12.4; 224.0.0.1 is
"global" in 3.11).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# IPv4 and IPv6 networks that are not a person's address (RFC numbers in the comments).
NOT_PERSONAL_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified (RFC 791, 1122)
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # shared address space, carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",  # loopback (RFC 1122)
        "169.254.0.0/16",  # link-local (RFC 3927)
        "172.16.0.0/12",  # private (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890)
        "192.0.2.0/24",  # documentation TEST-NET-1 (RFC 5737)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast (RFC 7526)
        "192.168.0.0/16",  # private (RFC 1918)
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "198.51.100.0/24",  # documentation TEST-NET-2 (RFC 5737)
        "203.0.113.0/24",  # documentation TEST-NET-3 (RFC 5737)
        "224.0.0.0/4",  # multicast (RFC 5771)
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast (RFC 1112, 919)
        "::/8",  # unspecified, loopback, IPv4-compatible and other reserved (RFC 4291)
        "64:ff9b:1::/48",  # local-use IPv4/IPv6 translation (RFC 8215)
        "100::/64",  # discard-only (RFC 6666)
        "2001::/23",  # IETF protocol assignments: Teredo, ORCHIDv2, benchmarking... (RFC 2928, 6890)
        "2001:db8::/32",  # documentation (RFC 3849)
        "2002::/16",  # 6to4 (RFC 3056): the embedded IPv4 address is checked instead
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment routing SIDs (RFC 9602)
        "fc00::/7",  # unique local (RFC 4193)
        "fe80::/10",  # link-local (RFC 4291)
        "fec0::/10",  # deprecated site-local (RFC 3879)
        "ff00::/8",  # multicast (RFC 4291)
    )
)


def is_personal_address(address: IPAddress) -> bool:
    """Whether `address` is a public host address (mapped IPv4 addresses judged as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_personal_address(address.ipv4_mapped)
        if address.sixtofour is not None:
            return is_personal_address(address.sixtofour)
        if address.packed[0] & 0xE0 != 0x20:
            return False  # outside 2000::/3, the global unicast space
    return not any(address.version == net.version and address in net for net in NOT_PERSONAL_NETWORKS)


@lru_cache(maxsize=4096)
def is_personal_ip(text: str) -> bool:
    """Whether an address as written (``a.b.c.d``, IPv6, ``%zone``, ``/prefix``) is personal data.

    A prefix whose host bits are all zero is a network block (``10.88.0.0/16``,
    ``2001:db8:4860::/64``), not an address; with host bits set (``81.2.69.142/24``) it is an
    interface address and judged as the address.
    """
    address_text, _, prefix = text.partition("/")
    address_text = address_text.split("%", 1)[0]
    try:
        address = ipaddress.ip_address(address_text)
    except ValueError:
        return False
    if prefix:
        try:
            network = ipaddress.ip_network(f"{address_text}/{prefix}", strict=False)
        except ValueError:
            return False
        if network.network_address == address and network.prefixlen < network.max_prefixlen:
            return False
    return is_personal_address(address)
