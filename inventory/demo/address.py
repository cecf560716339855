"""Where `make demo HOST=…` answers: the address it prints and, without SITE_URL, the one its
labels encode. Pure but for lan_address(); settings read it before Django is set up."""

import ipaddress
import re
import socket

# runserver's own syntax: [address:]port, the address an IPv4, a bracketed IPv6 or a name.
_HOST = re.compile(
    r"^(?:(?P<addr>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*):)?"
    r"(?P<port>\d+)$"
)
# runserver reads "0" as 0.0.0.0; these listen on every interface, a phone included.
ALL_INTERFACES = frozenset({"0", "0.0.0.0", "[::]"})  # noqa: S104


def binds_all_interfaces(host: str) -> bool:
    match = _HOST.match(host.strip())
    return match is not None and match["addr"] in ALL_INTERFACES


def lan_address() -> str | None:
    """This machine's IPv4 address on its local network, the one a phone there reaches."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            # A UDP "connection" sends nothing: it only asks the system which interface, and so
            # which address, would reach the outside (192.0.2.1 is a documentation address).
            probe.connect(("192.0.2.1", 9))
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if ipaddress.ip_address(address).is_loopback else address


def demo_url(host: str, lan: str | None = None) -> str | None:
    """The base URL (with its final slash) at which `runserver HOST` is reached.

    A host listening on every interface is named by the machine's LAN address `lan` (found by
    lan_address()), or the loopback one when the machine has none. None when HOST is not
    something runserver accepts (runserver then says why).
    """
    match = _HOST.match(host.strip())
    if match is None:
        return None
    address = match["addr"] or "127.0.0.1"
    if address in ALL_INTERFACES:
        address = lan or ("[::1]" if address == "[::]" else "127.0.0.1")
    return f"http://{address}:{match['port']}/"
