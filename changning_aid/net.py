"""The client's network address, as every part of the project reads it.

Behind a reverse proxy every request comes from the proxy; the proxy names the client in
`X-Forwarded-For`. Anyone can send that header, so it is believed only when the request
comes from a proxy listed in `TRUSTED_PROXIES` (addresses or networks), and then only up
to the first address that is not itself a trusted proxy: each proxy appends the address it
received the request from, so the right-most untrusted entry is the last one a trusted
proxy vouches for, and everything left of it may be forged by the client.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


def client_ip(request):
    """The address of the client that sent `request`, as a string (None if unknown)."""
    remote = parse_address(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    if not is_trusted_proxy(remote):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    nearest = remote
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            # A trusted proxy passed on something that is not an address: nothing to its
            # left can be believed, so the proxy that passed it on is all we know.
            return str(nearest)
        if not is_trusted_proxy(address):
            return str(address)
        nearest = address
    return str(nearest)


def parse_address(value):
    """An `ipaddress` address from a header value (with or without a port), or None."""
    value = (value or "").strip()
    if not value:
        return None
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    # An IPv4 client seen through an IPv6 socket (::ffff:10.0.0.1) is the IPv4 client.
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted_proxy(address):
    return any(address in network for network in trusted_networks())


def trusted_networks():
    """`settings.TRUSTED_PROXIES` as networks (read on each call, so tests may change it)."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


@lru_cache(maxsize=8)
def _networks(entries):
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def invalid_proxy_entries(entries):
    """The entries of a TRUSTED_PROXIES list that are neither an address nor a network."""
    invalid = []
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            invalid.append(entry)
    return invalid
