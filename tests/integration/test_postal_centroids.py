"""Postal-code centroids from a CSV for countries the bundled US data does not cover."""

from __future__ import annotations

from pathlib import Path

from ordergrid.adapters.geo import FirstFound, PostalCentroids, UsZipGeocoder
from ordergrid.bootstrap import bootstrap
from ordergrid.settings import Settings


def centroids(tmp_path: Path) -> Path:
    path = tmp_path / "centroids.csv"
    path.write_text("country,postal_code,lat,lon\nFR,69003,45.76,4.86\nde,10115,52.53,13.38\n")
    return path


def test_a_centroid_is_found_by_country_and_postal_code(tmp_path: Path) -> None:
    geo = PostalCentroids(centroids(tmp_path))
    assert geo.locate("fr", " 69003 ") == (45.76, 4.86)
    assert geo.locate("DE", "10115") == (52.53, 13.38)
    assert geo.locate("FR", "75001") is None
    assert geo.locate(None, "69003") is None


def test_us_codes_come_from_the_bundled_data_and_others_from_the_csv(tmp_path: Path) -> None:
    geo = FirstFound(UsZipGeocoder(), PostalCentroids(centroids(tmp_path)))
    us = geo.locate("US", "10001")
    assert us is not None
    assert abs(us[0] - 40.75) < 0.1
    assert geo.locate("FR", "69003") == (45.76, 4.86)


def test_the_setting_wires_the_csv_into_the_application(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'g.db'}", postal_centroids_csv=centroids(tmp_path)
    )
    app = bootstrap(settings)
    try:
        assert app.ctx.geocoder.locate("FR", "69003") == (45.76, 4.86)
    finally:
        app.close()
