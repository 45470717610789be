"""`ordergrid serve` in a subprocess on a loopback port, for as long as a block runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from common import wait_until

# The admin token the API runs with; the load generator sends it.
TOKEN = "placement-benchmark-admin-token"


@dataclass(frozen=True)
class Server:
    base_url: str
    pid: int


def _ready(base_url: str, log: Path, processes: int) -> bool:
    try:
        ok = httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
    started = log.read_text(errors="replace").count("Application startup complete")
    return ok and started >= processes


@contextmanager
def api_server(
    url: str, port: int, processes: int, log: Path, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """`ordergrid serve` in a subprocess on a loopback port, until the block ends; `env`
    adds to the environment it runs with."""
    base_url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "ordergrid.entrypoints.cli.main", "serve"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(processes)]
    cmd += ["--database-url", url]
    env = {**os.environ, "ORDERGRID_ADMIN_TOKEN": TOKEN, **(env or {})}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        up = wait_until(lambda: proc.poll() is not None or _ready(base_url, log, processes), 60)
        if not up or proc.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
            raise RuntimeError(f"the API did not start:\n{tail}")
        yield Server(base_url, proc.pid)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
