"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives and refuses the
mailbox ``nobody@…``; and the published campaign of the report tests."""

import socket
from email import message_from_bytes
from email import policy as email_policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller

from tests.reports.conftest import rep  # noqa: F401 - the shared fixture


class Sink:
    def __init__(self):
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.original_content or envelope.content,
                                 policy=email_policy.default)
        self.messages.append(SimpleNamespace(to=list(envelope.rcpt_tos), msg=msg,
                                             raw=envelope.original_content,
                                             mail_from=envelope.mail_from))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(settings):
    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port,
                                                "timeout": 10}}}
    settings.DEFAULT_FROM_EMAIL = "Quán Triệt <no-reply@quantriet.test>"
    settings.SITE_URL = "https://quantriet.test"
    settings.NOTIFY_RATE = 0
    yield sink
    controller.stop()
