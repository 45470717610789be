"""Factory for `uvicorn --factory`: each API process wires itself from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints.api.app import create_app


def app_from_environment() -> FastAPI:
    application = bootstrap()
    return create_app(application, embedded_worker=application.settings.embedded_worker)
