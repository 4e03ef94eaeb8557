"""The client's address: X-Forwarded-For believed only from the trusted proxies."""

import pytest
from django.core.checks import Error
from django.test import RequestFactory

from changning_aid.checks import check_settings
from changning_aid.net import client_ip


def address(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address("203.0.113.7") == "203.0.113.7"
    assert address("203.0.113.7", "10.9.9.9") == "203.0.113.7"


def test_a_spoofed_header_from_an_untrusted_address_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert address("198.51.100.20", "1.2.3.4") == "198.51.100.20"
    assert address("198.51.100.20", "10.0.0.5, 1.2.3.4") == "198.51.100.20"


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24", "192.168.1.1"]
    # The client forged "6.6.6.6"; its real address is what the first proxy appended.
    assert address("10.0.0.5", "6.6.6.6, 203.0.113.9") == "203.0.113.9"
    # Two trusted proxies in a row: both are skipped.
    assert address("10.0.0.5", "6.6.6.6, 203.0.113.9, 192.168.1.1") == "203.0.113.9"
    assert address("10.0.0.5", "203.0.113.9") == "203.0.113.9"


def test_a_trusted_proxy_without_a_header_is_itself_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert address("10.0.0.5") == "10.0.0.5"
    assert address("10.0.0.5", "") == "10.0.0.5"


def test_only_trusted_proxies_in_the_chain_gives_the_left_most(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address("10.0.0.5", "10.1.1.1, 10.2.2.2") == "10.1.1.1"


def test_garbage_in_the_chain_stops_at_the_proxy_that_passed_it_on(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert address("10.0.0.5", "203.0.113.9, <script>, 10.2.2.2") == "10.2.2.2"
    assert address("10.0.0.5", "not-an-address") == "10.0.0.5"


@pytest.mark.parametrize(
    "forwarded, expected",
    [
        ("203.0.113.9:51234", "203.0.113.9"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
    ],
)
def test_ports_brackets_and_mapped_addresses(settings, forwarded, expected):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    assert address("127.0.0.1", forwarded) == expected
    assert address("::1", forwarded) == expected


def test_a_broken_remote_address_is_unknown(settings):
    settings.TRUSTED_PROXIES = []
    assert address("") is None
    assert address("unix-socket") is None


def test_unreadable_trusted_proxies_fail_the_system_check(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5", "proxy.example", "10.0.0.0/33"]
    errors = [error for error in check_settings() if error.id == "changning_aid.E101"]
    assert len(errors) == 1 and isinstance(errors[0], Error)
    assert "proxy.example" in errors[0].msg and "10.0.0.0/33" in errors[0].msg
    settings.TRUSTED_PROXIES = ["10.0.0.5", "10.0.0.0/24", "::1"]
    assert not [error for error in check_settings() if error.id == "changning_aid.E101"]
