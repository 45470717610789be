"""Factory for `uvicorn --factory`: each API process wires itself from the environment."""

from __future__ import annotations

import os

from fastapi import FastAPI

from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints.api.app import create_app


def app_from_environment() -> FastAPI:
    embedded = os.environ.get("ORDERGRID_EMBEDDED_WORKER", "1") != "0"
    return create_app(bootstrap(), embedded_worker=embedded)
