"""Webhook URL rules (SSRF) and the signature (chalicelib/services/webhooks.py).

A webhook URL comes from outside and is called from inside AWS, so every way of naming a private or
metadata address must be refused: literals in v4 and v6 (and their odd spellings), local names, and names
that resolve to such an address. The resolver is injected: no test here touches the network.
"""
from __future__ import annotations

import hashlib
import hmac
import socket

import pytest

from chalicelib.domain.errors import ValidationFailed
from chalicelib.services.webhooks import (
    address_problem, parse_webhook_url, sign, validate_webhook_url, verify,
)

PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"


class Resolver:
    """getaddrinfo's shape, answering from a table; an unknown name fails like a real NXDOMAIN."""

    def __init__(self, table: dict[str, list[str]]):
        self.table = table
        self.calls: list[tuple[str, int]] = []

    def __call__(self, host, port, *args, **kwargs):
        self.calls.append((host, port))
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in self.table[host]]


DNS = Resolver({
    "hooks.kzpp.gov.kz": [PUBLIC_V4],
    "v6.example.kz": [PUBLIC_V6],
    "both.example.kz": [PUBLIC_V4, PUBLIC_V6],
    "xn--b1agh1afp.kz": [PUBLIC_V4],                  # "привет.kz" in IDNA
    "rebind.example.com": ["10.1.2.3"],               # a public-looking name pointing into the VPC
    "mixed.example.com": [PUBLIC_V4, "192.168.0.10"],  # one bad address among good ones
    "loop.example.com": ["127.0.0.1"],
    "meta.example.com": ["169.254.169.254"],
    "meta6.example.com": ["fd00:ec2::254"],
    "cgnat.example.com": ["100.64.12.1"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "sixtofour.example.com": ["2002:a9fe:a9fe::1"],   # 6to4 wrapping 169.254.169.254
    "nat64.example.com": ["64:ff9b::7f00:1"],          # NAT64 wrapping 127.0.0.1
    "ula.example.com": ["fd12:3456:789a::1"],
    "linklocal6.example.com": ["fe80::1%eth0"],
    "multicast.example.com": ["239.1.1.1"],
    "empty.example.com": [],
})


@pytest.mark.parametrize("url, host, port, path", [
    ("https://hooks.kzpp.gov.kz/qalqan", "hooks.kzpp.gov.kz", 443, "/qalqan"),
    ("https://HOOKS.kzpp.gov.kz./qalqan?x=1", "hooks.kzpp.gov.kz", 443, "/qalqan?x=1"),
    ("https://hooks.kzpp.gov.kz:8443", "hooks.kzpp.gov.kz", 8443, "/"),
    ("https://v6.example.kz/h", "v6.example.kz", 443, "/h"),
    ("https://привет.kz/h", "xn--b1agh1afp.kz", 443, "/h"),
])
def test_a_public_https_url_is_accepted_with_its_checked_addresses(url, host, port, path):
    target = validate_webhook_url(url, DNS)
    assert (target.host, target.port, target.path) == (host, port, path)
    assert target.addresses and all(address_problem(a) is None for a in target.addresses)
    assert target.url == url


def test_every_address_of_a_name_is_kept_for_the_delivery():
    assert validate_webhook_url("https://both.example.kz/", DNS).addresses == (PUBLIC_V4, PUBLIC_V6)


@pytest.mark.parametrize("url, code", [
    # scheme and shape
    ("http://hooks.kzpp.gov.kz/q", "https_required"),
    ("ftp://hooks.kzpp.gov.kz/q", "https_required"),
    ("//hooks.kzpp.gov.kz/q", "https_required"),
    ("hooks.kzpp.gov.kz/q", "https_required"),
    ("", "invalid_url"),
    ("https://" + "a" * 2000 + ".kz/", "invalid_url"),
    ("https://hooks.kzpp.gov.kz/a b", "invalid_url"),
    ("https://hooks.kzpp.gov.kz\\@evil.com/", "invalid_url"),
    ("https://hooks.kzpp.gov.kz:99999/", "invalid_url"),
    ("https:///path-only", "invalid_url"),
    ("https://-bad-.kz/", "invalid_url"),
    ("https://exa_mple.kz/", "invalid_url"),
    # credentials and ports
    ("https://user:pw@hooks.kzpp.gov.kz/q", "userinfo_not_allowed"),
    ("https://user@hooks.kzpp.gov.kz/q", "userinfo_not_allowed"),
    ("https://hooks.kzpp.gov.kz@evil.example.com/", "userinfo_not_allowed"),
    ("https://hooks.kzpp.gov.kz:22/q", "port_not_allowed"),
    ("https://hooks.kzpp.gov.kz:80/q", "port_not_allowed"),
    ("https://hooks.kzpp.gov.kz:6379/q", "port_not_allowed"),
    # IP literals, any spelling
    (f"https://{PUBLIC_V4}/q", "ip_literal"),
    ("https://10.0.0.1/q", "ip_literal"),
    ("https://127.0.0.1/q", "ip_literal"),
    (f"https://[{PUBLIC_V6}]/q", "ip_literal"),
    ("https://[::1]/q", "ip_literal"),
    ("https://[::ffff:127.0.0.1]/q", "ip_literal"),
    ("https://2130706433/q", "ip_literal"),          # 127.0.0.1 as one decimal number
    ("https://0x7f000001/q", "ip_literal"),
    ("https://127.1/q", "ip_literal"),
    ("https://0177.0.0.1/q", "ip_literal"),
    # metadata, by address or by name
    ("https://169.254.169.254/latest/meta-data/", "metadata_address"),
    ("https://[fd00:ec2::254]/latest/meta-data/", "metadata_address"),
    ("https://metadata.google.internal/computeMetadata/v1/", "metadata_address"),
    ("https://instance-data/latest/", "metadata_address"),
    # local-only names
    ("https://localhost/q", "not_public"),
    ("https://LOCALHOST./q", "not_public"),
    ("https://api.localhost/q", "not_public"),
    ("https://printer.local/q", "not_public"),
    ("https://db.corp.internal/q", "not_public"),
    ("https://intranet/q", "not_public"),
])
def test_urls_refused_before_any_dns(url, code):
    resolve = Resolver({})
    with pytest.raises(ValidationFailed) as refused:
        validate_webhook_url(url, resolve)
    assert refused.value.fields["webhook_url"]["code"] == code, refused.value.fields
    assert refused.value.fields["webhook_url"]["message"]
    assert resolve.calls == []  # refused on its face: no lookup was made


@pytest.mark.parametrize("host, code", [
    ("rebind.example.com", "not_public"),
    ("mixed.example.com", "not_public"),
    ("loop.example.com", "not_public"),
    ("meta.example.com", "metadata_address"),
    ("meta6.example.com", "metadata_address"),
    ("cgnat.example.com", "not_public"),
    ("mapped.example.com", "not_public"),
    ("sixtofour.example.com", "metadata_address"),
    ("nat64.example.com", "not_public"),
    ("ula.example.com", "not_public"),
    ("linklocal6.example.com", "not_public"),
    ("multicast.example.com", "not_public"),
    ("empty.example.com", "unresolvable"),
    ("nxdomain.example.com", "unresolvable"),
])
def test_a_name_is_judged_by_every_address_it_resolves_to(host, code):
    with pytest.raises(ValidationFailed) as refused:
        validate_webhook_url(f"https://{host}/hook", DNS)
    assert refused.value.fields["webhook_url"]["code"] == code


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.255.255.254", "0.0.0.0", "169.254.1.1",
    "100.64.0.1", "100.127.255.254", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.51.100.7", "203.0.113.9",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "fe80::1", "fc00::1", "fd00::1", "ff02::1", "2001:db8::1", "fec0::1", "100::1",
    "::ffff:192.168.1.1", "2002:c0a8:101::1", "64:ff9b::c0a8:101", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
])
def test_private_and_reserved_addresses_are_refused(address):
    assert address_problem(address) is not None


@pytest.mark.parametrize("address", [PUBLIC_V4, "1.1.1.1", "8.8.8.8", "2.134.0.1", PUBLIC_V6, "2a00:1450:4001::200e",
                                     "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808"])
def test_public_addresses_pass(address):
    assert address_problem(address) is None


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "169.254.170.2", "100.100.100.200"])
def test_metadata_addresses_are_named_as_such(address):
    assert address_problem(address) == "metadata"


def test_the_static_checks_alone_make_no_lookup():
    target = parse_webhook_url("https://hooks.kzpp.gov.kz/q")
    assert target.addresses == () and target.host == "hooks.kzpp.gov.kz"


def test_the_resolver_is_asked_for_the_idna_host_and_the_port():
    resolve = Resolver({"hooks.kzpp.gov.kz": [PUBLIC_V4]})
    validate_webhook_url("https://hooks.kzpp.gov.kz:8443/q", resolve)
    assert resolve.calls == [("hooks.kzpp.gov.kz", 8443)]


# ----------------------------------------------------------------------------------------------- signature
SECRET = "qalqan-webhook-secret"
BODY = '{"event":"complaint.routed","complaint_id":"7K3M9QX2ABCD"}'


def test_signature_known_answer():
    # Computed once with `openssl dgst -sha256 -hmac qalqan-webhook-secret` over "1764489600.<body>".
    # Receivers implement this; it must never change.
    assert sign(SECRET, BODY, 1764489600) == (
        "t=1764489600,v1=9f0a0e65a1fa377bfb363a7adeef218dac59dc59e30dd4060d1dd6060bf4f260")


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(SECRET.encode(), f"1700000000.{BODY}".encode(), hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY.encode(), 1700000000) == f"t=1700000000,v1={expected}"
    assert sign(SECRET, "{\"x\":\"Қалқан\"}", 1) == sign(SECRET, "{\"x\":\"Қалқан\"}".encode(), 1)  # UTF-8


def test_a_receiver_verifies_and_refuses_tampering_and_replays():
    header = sign(SECRET, BODY, 1764489600)
    assert verify(SECRET, BODY, header, now=1764489600 + 299)
    assert not verify(SECRET, BODY, header, now=1764489600 + 301)             # too old: a replay
    assert not verify(SECRET, BODY.replace("routed", "rerouted"), header, now=1764489600)
    assert not verify("another-secret", BODY, header, now=1764489600)
    forged = header.replace("t=1764489600", "t=1764489999")                   # a fresh timestamp, old MAC
    assert not verify(SECRET, BODY, forged, now=1764489999)
    assert not verify(SECRET, BODY, "garbage", now=1764489600)
    assert not verify(SECRET, BODY, "t=abc,v1=00", now=1764489600)
