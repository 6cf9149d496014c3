"""The SSRF table: every forbidden address class is refused with a message that says why and how to allow it."""

from __future__ import annotations

import pytest

from services.alerting.safety import UnsafeDestinationError, check_url, parse_ipv4_legacy, redact, redact_url, truncate

REFUSED = [
    ("http://example.com/hook", "not https"),
    ("ftp://example.com/hook", "scheme"),
    ("https://user:pw@example.com/hook", "credentials"),
    ("https://127.0.0.1/", "loopback"),
    ("https://127.1/", "loopback"),
    ("https://2130706433/", "loopback"),  # decimal
    ("https://0177.0.0.1/", "loopback"),  # octal
    ("https://0x7f.0.0.1/", "loopback"),  # hex
    ("https://0x7f000001/", "loopback"),
    ("https://10.0.0.5/", "private"),
    ("https://172.16.3.4/", "private"),
    ("https://192.168.1.1/", "private"),
    ("https://0xa9fea9fe/", "metadata"),  # 169.254.169.254 in hex
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://169.254.10.1/", "link-local"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://224.0.0.1/", "multicast"),
    ("https://100.64.0.1/", "not publicly routable"),  # carrier-grade NAT
    ("https://[::1]/", "loopback"),
    ("https://[::]/", "unspecified"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://[fc00::1]/", "private"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[ff02::1]/", "multicast"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),  # IPv4-mapped
    ("https://[::ffff:a9fe:a9fe]/", "metadata"),  # IPv4-mapped metadata
    ("https://[::ffff:10.0.0.1]/", "private"),
    ("https://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
    ("https://[2002:7f00:1::]/", "loopback"),  # 6to4 of 127.0.0.1
    ("https://localhost/", "loopback"),  # a name resolving to 127.0.0.1
    ("https://does-not-exist.invalid/", "does not resolve"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_forbidden_destinations_are_refused_with_a_clear_message(url: str, reason: str) -> None:
    with pytest.raises(UnsafeDestinationError) as info:
        check_url(url, allowed_hosts=[])
    message = str(info.value)
    assert reason in message
    if "address" in message:
        assert "alerts.allowed_hosts" in message


def test_public_addresses_pass_and_the_checked_address_is_the_one_to_connect_to() -> None:
    dest = check_url("https://93.184.215.14/hook", allowed_hosts=[])
    assert dest.address == "93.184.215.14" and dest.port == 443 and not dest.allow_listed
    dest6 = check_url("https://[2606:4700:4700::1111]:8443/x", allowed_hosts=[])
    assert dest6.address == "2606:4700:4700::1111" and dest6.port == 8443


def test_the_allow_list_admits_http_and_private_hosts_on_purpose() -> None:
    dest = check_url("http://127.0.0.1:9093/", allowed_hosts=["127.0.0.1"])
    assert dest.allow_listed and dest.address == "127.0.0.1"
    assert check_url("http://localhost:1/", allowed_hosts=["LOCALHOST"]).address == "127.0.0.1"
    with pytest.raises(UnsafeDestinationError, match="loopback"):
        check_url("https://localhost/", allowed_hosts=["*.localhost"])  # a wildcard covers sub-domains only


@pytest.mark.parametrize(("text", "expected"), [
    ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"),
    ("10.1.2", "10.1.0.2"), ("1.2.3.4", "1.2.3.4"), ("256.1.1.1", None), ("example.com", None), ("08.1.1.1", None),
])
def test_legacy_ipv4_forms_parse_as_resolvers_do(text: str, expected: str | None) -> None:
    parsed = parse_ipv4_legacy(text)
    assert (str(parsed) if parsed else None) == expected


def test_redaction_and_truncation() -> None:
    url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"
    assert redact_url(url) == "https://hooks.slack.com/…"
    assert "XXXXSECRET" not in redact(f"failed posting to {url}", ["/services/T000/B000/XXXXSECRET"])
    long = "x" * 5000
    assert len(truncate(long)) < 400 and "more characters" in truncate(long)
