"""Factory for `uvicorn --factory`: each API process wires itself from the environment."""

from __future__ import annotations

from fastapi import FastAPI

from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints.api.app import create_app
from ordergrid.entrypoints.runtime import tune_garbage_collector


def app_from_environment() -> FastAPI:
    application = bootstrap()
    app = create_app(application, embedded_worker=application.settings.embedded_worker)
    tune_garbage_collector(application.settings)
    return app
