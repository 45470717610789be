"""The command line as a user runs it: demo, migrate, serve and token creation."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "ordergrid.entrypoints.cli.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_every_command_explains_its_options(tmp_path: Path) -> None:
    for command in ("serve", "worker", "migrate", "demo", "token"):
        result = run([command, "--help"], tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout
    assert "--database-url" in run(["serve", "--help"], tmp_path).stdout


@pytest.mark.slow
def test_demo_seeds_serves_and_places_orders(tmp_path: Path) -> None:
    port = free_port()
    result = run(
        [
            "demo",
            "--orders",
            "25",
            "--rate",
            "50",
            "--port",
            str(port),
            "--stores",
            "40",
            "--products",
            "80",
        ],
        tmp_path,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"http://127.0.0.1:{port}/v1" in out
    assert re.search(r"Admin token\s+\S{16,}", out)
    placed = re.search(r"placed (\d+) orders", out)
    assert placed is not None
    assert int(placed.group(1)) == 25
    assert "500" not in out.split("placed", 1)[1]  # no server errors among the outcomes


def test_migrate_then_serve_answers_and_token_works(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/og.db"
    migrated = run(["migrate", "--database-url", url], tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "database at revision" in migrated.stdout
    created = run(
        ["token", "create", "--name", "shop", "--role", "integrator", "--database-url", url],
        tmp_path,
    )
    secret = created.stdout.strip().rsplit(" ", 1)[-1]
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--database-url", url],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.2)
        auth = {"Authorization": f"Bearer {secret}"}
        assert httpx.get(f"{base}/v1/orders", headers=auth).status_code == 200
        assert httpx.get(f"{base}/v1/orders").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.postgres
def test_serve_refuses_an_unmigrated_postgres_and_names_the_command(
    tmp_path: Path, postgres_url: str
) -> None:
    result = run(["serve", "--database-url", postgres_url, "--port", str(free_port())], tmp_path)
    assert result.returncode == 2
    assert "ordergrid migrate" in result.stdout
