"""Which webhook URLs are accepted: http(s) to public addresses only. A fake resolver
answers for host names, so nothing here touches the network."""

from __future__ import annotations

import socket

import pytest

from assay.domain.errors import ValidationFailed
from assay.services.addresses import check_url, non_public_kind

PUBLIC = "93.184.216.34"


def resolver(answers: dict[str, list[str]]):
    """A getaddrinfo stand-in: the addresses each host name resolves to."""
    def resolve(host: str, port: int, *args: object, **kwargs: object) -> list[tuple]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in answers[host]]
    return resolve


def refusal(url: str, answers: dict[str, list[str]] | None = None) -> str:
    with pytest.raises(ValidationFailed) as refused:
        check_url(url, resolve=resolver(answers or {}))
    [problem] = refused.value.problems
    assert problem.startswith("url: ")
    return problem


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.9", "private"),
    ("192.168.1.1", "private"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("0.0.0.0", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("100.64.0.1", "non-global"),  # carrier-grade NAT
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fc00::1", "private"),
    ("fdff:ffff::1", "private"),
    ("fe80::1", "link-local"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
    ("::ffff:10.0.0.1", "private"),
    ("2002:a00:1::1", "private"),  # 6to4 around 10.0.0.1
])
def test_an_address_literal_outside_the_public_internet_is_refused_and_named(address, kind):
    host = f"[{address}]" if ":" in address else address
    problem = refusal(f"https://{host}/hook", {address: [address]})
    assert f"resolves to {address}" in problem and f", a {kind} address;" in problem


def test_a_host_name_is_judged_by_every_address_it_resolves_to():
    assert "resolves to 127.0.0.1, a loopback address" in refusal(
        "https://localhost:8443/hook", {"localhost": ["127.0.0.1"]})
    # one private answer among public ones is enough to refuse
    assert "resolves to 10.0.0.7, a private address" in refusal(
        "https://hooks.bazaar.example/in", {"hooks.bazaar.example": [PUBLIC, "10.0.0.7"]})


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111"])
def test_a_public_address_is_accepted(address):
    resolve = resolver({"hooks.bazaar.example": [address]})
    assert [str(a) for a in check_url("https://hooks.bazaar.example/in", resolve=resolve)] == [address]
    assert non_public_kind(check_url("http://hooks.bazaar.example:8080/", resolve=resolve)[0]) is None


def test_private_addresses_are_allowed_only_when_asked_for():
    resolve = resolver({"localhost": ["127.0.0.1", "::1"]})
    assert [str(a) for a in check_url("http://localhost:9000/", allow_private=True, resolve=resolve)] == [
        "127.0.0.1", "::1"]


@pytest.mark.parametrize(("url", "says"), [
    ("ftp://hooks.bazaar.example/in", "its scheme is 'ftp'"),
    ("hooks.bazaar.example/in", "its scheme is none"),
    ("https:///in", "names no host"),
    ("https://user:pw@hooks.bazaar.example/in", "must not carry a user name or password"),
    ("https://hooks.bazaar.example:99999/in", "not a valid URL"),
    ("https://nowhere.invalid/in", "host nowhere.invalid does not resolve"),
    ("https://hooks.bazaar.example/" + "x" * 2000, "at most 2000 characters"),
])
def test_a_malformed_url_is_refused_saying_what_is_wrong(url, says):
    assert says in refusal(url, {"hooks.bazaar.example": [PUBLIC]})
