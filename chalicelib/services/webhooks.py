"""Agency and business webhooks: which URLs we will ever call, and how a receiver knows the call is ours.

A webhook URL is typed in by someone outside the platform and then called by our Lambda from inside AWS,
so it is a server-side request forgery vector: pointed at 169.254.169.254 it would read the instance
credentials, pointed at 10.x it would probe the VPC. The rules, checked when a URL is registered and
again at every delivery (DNS may have changed since: rebinding):

- https only, no user:password@, port 443 or one of `ALLOWED_PORTS`;
- the host is a DNS name, not an IP literal in any form (decimal, hex, octal tricks included), not a
  local-only name (localhost, *.internal, *.local) and not a cloud metadata name;
- every address the name resolves to is public: no private, loopback, link-local, CGNAT, reserved,
  multicast or unspecified address, v4 or v6, including v4 addresses tunnelled inside v6 (mapped, 6to4,
  NAT64, Teredo).

The delivery then connects to one of the checked addresses itself (never re-resolving in between) and never
follows a redirect: `chalicelib.adapters.messaging`.

Signature: `X-Qalqan-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the scheme
Stripe made familiar; the timestamp in the signed text lets a receiver refuse replays of old deliveries.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from chalicelib.domain.errors import ValidationFailed, field_error

FIELD = "webhook_url"
ALLOWED_PORTS = frozenset({443, 8443})
MAX_URL_LENGTH = 2000
SIGNATURE_HEADER = "X-Qalqan-Signature"
EVENT_HEADER = "X-Qalqan-Event"
DELIVERY_HEADER = "X-Qalqan-Delivery"

# Names that lead to a metadata service or to the machine itself whatever DNS says about them.
_METADATA_NAMES = frozenset({
    "metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal",
    "metadata.azure.com", "metadata.tencentyun.com", "metadata.platformequinix.com",
})
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".lan", ".intranet", ".corp")
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", "broadcasthost"})
# Metadata endpoints by address. Most fall in ranges refused anyway (link-local, ULA, CGNAT); listed so
# the reason given is the honest one.
_METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "169.254.169.123", "169.254.169.253", "fd00:ec2::254", "fd00:ec2::23",
    "100.100.100.200", "192.0.0.192",
))
# Not globally reachable, but not every Python's `is_private` knows it (3.11 misses most of 192.0.0.0/24):
# shared address space (CGNAT, where a carrier's or a VPC's NAT lives) and the IETF protocol block.
_ALSO_REFUSED = (ipaddress.ip_network("100.64.0.0/10"), ipaddress.ip_network("192.0.0.0/24"))
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# A last label that is all digits or hex-with-0x is not a DNS name but an IP written oddly
# ("2130706433", "0x7f.1", "127.1"): the C resolver would happily turn it into 127.0.0.1.
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

Resolver = Callable[..., list]


@dataclass(frozen=True)
class WebhookTarget:
    """A URL that passed the checks, with the addresses it resolved to (all public) at check time."""
    url: str
    host: str            # the IDNA-encoded hostname: TLS SNI and the Host header
    port: int
    path: str            # path + query, what goes on the request line
    addresses: tuple[str, ...]


def _refuse(code: str, message: str, **context: str) -> ValidationFailed:
    """The refusal: `fields.webhook_url` = {code, message, **context} (context fills translated messages)."""
    fields = field_error(FIELD, code, message)
    fields[FIELD].update(context)
    return ValidationFailed(message, fields=fields)


def address_problem(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a delivery must not go to this address ("metadata", "not_public"), or None when it is public."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if ip in _METADATA_ADDRESSES:
        return "metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        # A v4 address inside v6 reaches the v4 host: judge that one.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and any(ip in net for net in _NAT64):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return address_problem(embedded) or ("not_public" if ip.teredo else None)
        if ip.scope_id:
            return "not_public"
    if (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global):
        return "not_public"
    if isinstance(ip, ipaddress.IPv4Address) and any(ip in net for net in _ALSO_REFUSED):
        return "not_public"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "not_public"
    return None


def _host(raw: str) -> str:
    """The hostname, lower-cased and IDNA-encoded, refused if it is an IP literal or a local-only name."""
    host = raw.strip().rstrip(".").lower()
    if not host:
        raise _refuse("invalid_url", "The webhook URL has no host.")
    try:
        ip = ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        ip = None
    if ip is not None:
        if address_problem(ip) == "metadata":
            raise _refuse("metadata_address", "A webhook cannot point at a cloud metadata service.")
        raise _refuse("ip_literal", "Give the webhook's host name, not an IP address.")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise _refuse("invalid_url", "The webhook URL's host name is not a valid domain name.") from None
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]):
        raise _refuse("ip_literal", "Give the webhook's host name, not an IP address.")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise _refuse("invalid_url", "The webhook URL's host name is not a valid domain name.")
    if host in _METADATA_NAMES:
        raise _refuse("metadata_address", "A webhook cannot point at a cloud metadata service.")
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES) or len(labels) < 2:
        raise _refuse("not_public", "The webhook's host must be a public internet name.")
    return host


def parse_webhook_url(url: str) -> WebhookTarget:
    """The static checks (no DNS): scheme, credentials, port and host. Returns a target without addresses."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise _refuse("invalid_url", f"The webhook URL must be 1 to {MAX_URL_LENGTH} characters.")
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F or ch == "\\" for ch in url):
        raise _refuse("invalid_url", "The webhook URL contains spaces, control characters or backslashes.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("invalid_url", "The webhook URL cannot be parsed.") from None
    if parts.scheme.lower() != "https":
        raise _refuse("https_required", "The webhook URL must start with https://.")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise _refuse("userinfo_not_allowed", "The webhook URL must not carry a user name or password.")
    port = 443 if port is None else port
    if port not in ALLOWED_PORTS:
        allowed = ", ".join(str(p) for p in sorted(ALLOWED_PORTS))
        raise _refuse("port_not_allowed", f"The webhook URL's port must be one of {allowed}.", allowed=allowed)
    host = _host(parts.hostname or "")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookTarget(url=url, host=host, port=port, path=path, addresses=())


def resolve_public(target: WebhookTarget, resolve: Resolver = socket.getaddrinfo) -> WebhookTarget:
    """Resolve the host and insist that every address is public (one bad address refuses the URL: a
    resolver may hand any of them to the next connection). Returns the target with its addresses."""
    try:
        infos = resolve(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise _refuse("unresolvable", "The webhook's host name does not resolve.") from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%")[0]
        problem = address_problem(address)
        if problem == "metadata":
            raise _refuse("metadata_address", "A webhook cannot point at a cloud metadata service.")
        if problem:
            raise _refuse("not_public", "The webhook's host name resolves to a private or reserved address.")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise _refuse("unresolvable", "The webhook's host name does not resolve.")
    return WebhookTarget(url=target.url, host=target.host, port=target.port, path=target.path,
                         addresses=tuple(addresses))


def validate_webhook_url(url: str, resolve: Resolver = socket.getaddrinfo) -> WebhookTarget:
    """Check a webhook URL completely (static rules, then DNS); raise ValidationFailed with
    `fields.webhook_url` = {code, message}. Called on registration and again before every delivery."""
    return resolve_public(parse_webhook_url(url), resolve)


def sign(secret: str, body: str | bytes, timestamp: int) -> str:
    """The X-Qalqan-Signature value for `body` sent at `timestamp` (unix seconds)."""
    payload = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), str(int(timestamp)).encode() + b"." + payload, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"


def verify(secret: str, body: str | bytes, header: str, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (and what our tests do): the signature matches and is at most `tolerance`
    seconds old. Compared in constant time."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp), f"t={timestamp},v1={parts.get('v1', '')}")
