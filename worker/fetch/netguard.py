"""The private-network guard: refuse connections to addresses a feed has no business reaching.

A redirect (or a link in a story, for full-text fetching) chosen by a remote server must not make
the worker talk to its own loopback, the cloud metadata service (169.254.169.254) or the
internal network. The check runs on the addresses a host name *resolves to*, in the network
layer that then connects to exactly the address it checked, so neither a DNS name pointing at
127.0.0.1 nor a name that resolves differently a second time (DNS rebinding) gets through.

Use ``new_client(..., guard=True)`` in :mod:`worker.fetch`, whose connections come from
:class:`GuardedBackend`, for any request whose URL came from a remote party.
"""

from __future__ import annotations

import ipaddress
import socket
import typing

import httpcore

from worker.exceptions import PrivateAddressRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_private(address: IPAddress) -> bool:
    """True for loopback, link-local, RFC 1918/4193, CGNAT, unspecified and reserved addresses.

    IPv4 written as IPv6 (``::ffff:127.0.0.1``, NAT64 ``64:ff9b::/96``, 6to4) is judged by the
    IPv4 address inside it.
    """
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or _nat64(address)
        if inner is not None:
            return is_private(inner)
    return not address.is_global or address.is_multicast


def _nat64(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address in ipaddress.IPv6Network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def public_addresses(host: str, port: int) -> list[str]:
    """Resolve ``host`` and return its addresses; refuse when any of them is private."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for found in addresses:
        if is_private(ipaddress.ip_address(found.split("%")[0])):
            raise PrivateAddressRefused(
                f"refused to connect to {host} ({found}): a private, loopback or link-local "
                "address (set allow_private_networks: true in the config to allow it)")
    return addresses


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync network layer, connecting only to the public addresses it checked."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = public_addresses(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                return self._backend.connect_tcp(
                    address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise PrivateAddressRefused("refused to connect to a Unix socket")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
