"""Integration fixtures: a fully wired application on a real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.integration.streams import StreamUnderTest, stream_under_test

from ordergrid.bootstrap import Application, bootstrap
from ordergrid.settings import Settings


def wire(url: str) -> Application:
    return bootstrap(Settings(database_url=url, auto_migrate=True, admin_token="admin-secret"))


@pytest.fixture
def application(database_url: str) -> Iterator[Application]:
    app = wire(database_url)
    yield app
    app.close()


@pytest.fixture
def nats_stream() -> Iterator[StreamUnderTest]:
    yield from stream_under_test()
