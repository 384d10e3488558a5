"""Fixtures shared by the sandbox test modules."""

import pytest
from sandbox_fixtures.host import Host


@pytest.fixture(scope="module")
def host() -> Host:
    """The host's files, processes and memory before a module's hostile programs run."""
    return Host.create()
