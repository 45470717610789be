"""`ordergrid import inventory` against a database the API also serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.e2e.conftest import Api, seed
from typer.testing import CliRunner

from ordergrid.bootstrap import bootstrap
from ordergrid.entrypoints.api.app import create_app
from ordergrid.entrypoints.cli.main import app as cli
from ordergrid.settings import Settings

AS_OF = "2026-01-05T12:00:00+00:00"


@pytest.fixture
def served(sqlite_url: str) -> Iterator[Api]:
    application = bootstrap(
        Settings(database_url=sqlite_url, admin_token="admin-secret", auto_migrate=True)
    )
    with TestClient(create_app(application)) as client:
        api = Api(client, application)
        seed(api)
        yield api
    application.close()


def invoke(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["import", "inventory", *args, "--database-url", url])
    return result.exit_code, " ".join(result.output.split())  # Rich wraps long lines


def test_a_csv_file_is_imported_and_rows_per_second_printed(
    served: Api, sqlite_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "counts.csv"
    file.write_text("location_id,sku,on_hand\nDC-RNO,A,7\nST-NYC,A,2\nST-NYC,B,4\n")
    code, output = invoke(sqlite_url, str(file), "--as-of", AS_OF)
    assert code == 0, output
    assert "3 rows for 2 locations (partial)" in output
    assert "rows/s" in output
    assert served.position("DC-RNO", "A")["on_hand"] == 7
    assert served.position("ST-NYC", "B")["on_hand"] == 4


def test_a_full_ndjson_count_zeroes_what_it_does_not_list(
    served: Api, sqlite_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "counts.ndjson"
    file.write_text('{"location_id": "DC-RNO", "sku": "A", "on_hand": 3}\n')
    assert invoke(sqlite_url, str(file), "--as-of", AS_OF)[0] == 0
    file.write_text('{"location_id": "DC-RNO", "sku": "B", "on_hand": 5}\n')
    later = "2026-01-06T12:00:00+00:00"
    code, output = invoke(sqlite_url, str(file), "--mode", "full", "--as-of", later)
    assert code == 0, output
    assert "1 unlisted positions counted as zero" in output
    assert served.position("DC-RNO", "A")["on_hand"] == 0


def test_a_bad_row_refuses_the_file_with_its_row(
    served: Api, sqlite_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "counts.txt"
    file.write_text("location_id,sku,on_hand\nDC-RNO,A,7\nDC-RNO,NOPE,1\n")
    code, output = invoke(sqlite_url, str(file), "--format", "csv", "--as-of", AS_OF)
    assert code == 2
    assert "unknown_sku" in output
    assert "rows.2.sku" in output
    assert served.get("/v1/inventory/A").json()["positions"] == []


def test_a_json_file_counts_an_empty_location_in_full(
    served: Api, sqlite_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "counts.json"
    file.write_text(
        '{"locations": [{"location_id": "DC-RNO", "items": [{"sku": "A", "on_hand": 3}]}]}'
    )
    assert invoke(sqlite_url, str(file), "--as-of", AS_OF)[0] == 0
    file.write_text(
        '{"as_of": "2026-01-06T12:00:00Z", "locations": [{"location_id": "DC-RNO", "items": []}]}'
    )
    code, output = invoke(sqlite_url, str(file), "--mode", "full")
    assert code == 0, output
    assert served.position("DC-RNO", "A")["on_hand"] == 0
    file.write_text("{")
    code, output = invoke(sqlite_url, str(file))
    assert (code, "invalid_body" in output) == (2, True)
