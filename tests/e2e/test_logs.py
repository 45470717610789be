"""Logs of the API: a request id on every answer and record, one access record per
request, JSON lines for log collectors, and `serve` writing them as configured."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.e2e.helpers_errors import ADMIN_TOKEN, H
from tests.e2e.test_cli import CLI, free_port

from ordergrid.bootstrap import bootstrap
from ordergrid.domain.errors import NotFound
from ordergrid.entrypoints.api.app import create_app
from ordergrid.entrypoints.logs import (
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    logging_config,
)
from ordergrid.service import queries
from ordergrid.settings import Settings

GENERATED = re.compile(r"[0-9a-f]{32}")


def _client(tmp_path: Path, **settings: object) -> TestClient:
    app = bootstrap(
        Settings(
            database_url=f"sqlite:///{tmp_path}/t.db",
            admin_token=ADMIN_TOKEN,
            auto_migrate=True,
            **settings,  # type: ignore[arg-type]
        )
    )
    return TestClient(create_app(app), raise_server_exceptions=False)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path) as c:
        yield c


def _access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "ordergrid.access"]


def test_an_answer_carries_the_callers_request_id_when_it_is_tame(client: TestClient) -> None:
    r = client.get("/healthz", headers={"X-Request-Id": "checkout-7:a.b_c"})
    assert r.headers["x-request-id"] == "checkout-7:a.b_c"


@pytest.mark.parametrize(
    "given", [None, b"has spaces", b"x" * 129, b'quote"d', "ünïcode".encode()], ids=str
)
def test_an_answer_without_a_tame_request_id_gets_a_new_one(
    client: TestClient, given: bytes | None
) -> None:
    headers = {} if given is None else {"X-Request-Id": given}
    first = client.get("/healthz", headers=headers).headers["x-request-id"]
    second = client.get("/healthz", headers=headers).headers["x-request-id"]
    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


def test_refusals_before_the_application_carry_the_request_id_too(client: TestClient) -> None:
    r = client.get("/v1/orders/ord-x", headers={"X-Request-Id": "no-token-1"})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == "no-token-1"


def test_each_request_is_logged_once_with_route_status_duration_and_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ordergrid.access")
    client.get("/v1/orders/ord-missing", headers={**H, "X-Request-Id": "find-1"})
    client.get("/v1/orders/ord-missing", headers={"X-Request-Id": "anon-1"})
    found, refused = (r.__dict__ for r in _access(caplog))
    assert found["method"] == "GET"
    assert found["path"] == "/v1/orders/ord-missing"
    assert found["route"] == "/v1/orders/{order_id}"
    assert found["status"] == 404
    assert found["request_id"] == "find-1"
    assert found["duration_ms"] >= 0
    expected = f"GET /v1/orders/ord-missing 404 {found['duration_ms']:.2f} ms"
    assert found["msg"] % found["args"] == expected
    assert refused["status"] == 401
    assert refused["request_id"] == "anon-1"


def test_no_access_records_when_the_access_log_is_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ordergrid.access")
    with _client(tmp_path, access_log=False) as c:
        assert c.get("/healthz").status_code == 200
    assert _access(caplog) == []


def test_an_unexpected_error_is_logged_and_answered_with_the_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(queries, "order", broken)
    caplog.set_level(logging.INFO)
    r = client.get("/v1/orders/ord-1", headers={**H, "X-Request-Id": "boom-1"})
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert r.headers["x-request-id"] == "boom-1"
    errors = [x for x in caplog.records if x.getMessage() == "unhandled error"]
    assert len(errors) == 1
    assert errors[0].__dict__["request_id"] == "boom-1"
    assert "disk on fire" in json.loads(JsonFormatter().format(errors[0]))["error"]
    (answered,) = _access(caplog)
    assert answered.__dict__["status"] == 500
    assert answered.__dict__["request_id"] == "boom-1"


def test_a_record_written_by_a_route_in_the_thread_pool_names_its_request(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamped: list[object] = []

    def looking_up(*_: object) -> None:
        record = logging.makeLogRecord({"name": "ordergrid.service", "msg": "looking"})
        RequestIdFilter().filter(record)
        stamped.append(record.__dict__["request_id"])
        raise NotFound("order", "ord-2")

    monkeypatch.setattr(queries, "order", looking_up)
    client.get("/v1/orders/ord-2", headers={**H, "X-Request-Id": "pool-1"})
    client.get("/v1/orders/ord-2", headers={**H, "X-Request-Id": "pool-2"})
    assert stamped == ["pool-1", "pool-2"]


def test_a_json_record_holds_its_fields_extras_and_request_id() -> None:
    record = logging.makeLogRecord(
        {
            "name": "ordergrid.access",
            "levelname": "INFO",
            "msg": "GET %s %d",
            "args": ("/healthz", 200),
            "status": 200,
            "request_id": "r-1",
            "created": datetime(2026, 11, 18, 8, 26, 40, 250_000, tzinfo=UTC).timestamp(),
        }
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["ts"] == "2026-11-18T08:26:40.250+00:00"
    assert entry["level"] == "info"
    assert entry["logger"] == "ordergrid.access"
    assert entry["message"] == "GET /healthz 200"
    assert entry["status"] == 200
    assert entry["request_id"] == "r-1"
    assert "error" not in entry
    assert "args" not in entry


def test_a_json_record_outside_a_request_has_no_request_id_and_keeps_its_traceback() -> None:
    try:
        raise ValueError("bad feed")
    except ValueError:
        record = logging.makeLogRecord(
            {"name": "ordergrid.worker", "levelname": "ERROR", "msg": "round failed"}
        )
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert "request_id" not in entry
    assert entry["error"].startswith("Traceback")
    assert "ValueError: bad feed" in entry["error"]


def test_a_text_record_names_its_request_only_inside_one() -> None:
    inside = logging.makeLogRecord({"name": "ordergrid.api", "msg": "hi", "request_id": "r-9"})
    outside = logging.makeLogRecord({"name": "ordergrid.api", "msg": "hi"})
    assert TextFormatter().format(inside).endswith(" ordergrid.api [r-9]: hi")
    assert TextFormatter().format(outside).endswith(" ordergrid.api: hi")


def test_the_configuration_follows_the_settings() -> None:
    json_config = logging_config(Settings(log_format="json", log_level="warning"))
    assert json_config["formatters"]["ordergrid"]["()"] is JsonFormatter
    assert json_config["loggers"]["ordergrid"]["level"] == "WARNING"
    text_config = logging_config(Settings())
    assert text_config["formatters"]["ordergrid"]["()"] is TextFormatter
    assert text_config["loggers"]["ordergrid"]["level"] == "INFO"


def test_serve_writes_json_lines_with_an_access_record_per_request(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "ORDERGRID_LOG_FORMAT": "json",
        "ORDERGRID_ADMIN_TOKEN": ADMIN_TOKEN,
        "ORDERGRID_STOCK_CACHE_WARM": "false",
    }
    url = f"sqlite:///{tmp_path}/serve.db"
    with log.open("wb") as err:
        server = subprocess.Popen(
            [*CLI, "serve", "--port", str(port), "--database-url", url],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        r = httpx.get(f"{base}/v1/orders/ord-none", headers={**H, "X-Request-Id": "serve-1"})
        assert r.status_code == 404
        assert r.headers["x-request-id"] == "serve-1"
    finally:
        server.terminate()
        server.wait(timeout=20)
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any(e["message"] == "Application startup complete." for e in entries)
    access = [e for e in entries if e["logger"] == "ordergrid.access"]
    mine = [e for e in access if e.get("request_id") == "serve-1"]
    assert len(mine) == 1
    assert mine[0]["status"] == 404
    assert mine[0]["route"] == "/v1/orders/{order_id}"
