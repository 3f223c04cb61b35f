"""The access log's client address: spoofed X-Forwarded-For entries are not believed."""

from __future__ import annotations

from django.test import RequestFactory

from forensics.audit.services import client_address


def request(xff: str = ""):
    extra = {"HTTP_X_FORWARDED_FOR": xff} if xff else {}
    return RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", **extra)


def test_without_trusted_proxies_it_is_the_peer_address(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_address(request("203.0.113.9")) == "10.0.0.5"


def test_behind_one_proxy_it_is_the_address_that_proxy_saw(settings):
    settings.TRUSTED_PROXIES = 1
    # The client claimed 198.51.100.1 itself; the proxy appended what it saw.
    assert client_address(request("198.51.100.1, 203.0.113.9")) == "203.0.113.9"


def test_behind_two_proxies_it_skips_the_inner_one(settings):
    settings.TRUSTED_PROXIES = 2
    assert client_address(request("198.51.100.1, 203.0.113.9, 10.0.0.7")) == "203.0.113.9"


def test_a_missing_header_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXIES = 1
    assert client_address(request()) == "10.0.0.5"
