"""Shared fixtures: a small organisation tree, accounts with grants, and a guard that
blocks outbound network access during tests."""

import socket

import pytest
from django.utils import translation

from tests.factories import OrgTree


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, request):
    """Tests may talk to the local machine only (databases, the live test server)."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
        ):
            raise RuntimeError(f"network access to {host!r} is blocked in tests")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _english_messages():
    """Service messages checked by tests are the English source texts, whatever a previous
    test's request left active (pages choose their language per request)."""
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def org(db):
    """The small tree of tests/factories.py, built through the services."""
    return OrgTree.build()
