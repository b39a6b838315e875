"""The reports fixture, shared."""

from tests.reports.conftest import rep  # noqa: F401
