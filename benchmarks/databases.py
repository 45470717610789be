"""The databases the placement benchmark runs on: a seeded base per backend (a SQLite
file in a temporary folder, a fresh PostgreSQL database) and throw-away copies of it."""

from __future__ import annotations

import io
import shutil
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Protocol

from rich.console import Console
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from api_server import TOKEN
from common import SPAWN, console
from ordergrid.demo.sample import build_network

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class Databases(Protocol):
    """A seeded base database per backend and throw-away copies of it."""

    base_url: str

    def copy(self) -> str: ...

    def drop(self, url: str) -> None: ...

    def close(self) -> None: ...

    def sessions(self, url: str) -> int | None:
        """Connections ever opened to that database (PostgreSQL 14+), else None."""
        ...


class SqliteDatabases:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.base = workdir / "base.db"
        self.base_url = f"sqlite:///{self.base}"
        self._copies = 0

    def copy(self) -> str:
        self._copies += 1
        target = self.dir / f"copy{self._copies}.db"
        for suffix in ("", "-wal"):
            source = Path(f"{self.base}{suffix}")
            if source.exists():
                shutil.copyfile(source, f"{target}{suffix}")
        return f"sqlite:///{target}"

    def drop(self, url: str) -> None:
        path = make_url(url).database or ""
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def sessions(self, url: str) -> int | None:
        del url  # SQLite has no server connections to count
        return None


class PostgresDatabases:
    """Fresh databases on the server: a seeded base, copies made with CREATE ... TEMPLATE."""

    def __init__(self, admin: Engine, admin_url: str) -> None:
        self.admin, self.admin_url = admin, admin_url
        self.prefix = f"ordergrid_bench_{uuid.uuid4().hex[:10]}"
        self._copies = 0
        self._created: list[str] = []
        self.base_url = self._create(f"{self.prefix}_base", template=None)

    def _url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None) -> str:
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        with self.admin.connect() as conn:
            conn.execute(text(sql))
        self._created.append(name)
        return self._url(name)

    def copy(self) -> str:
        self._copies += 1
        return self._create(f"{self.prefix}_c{self._copies}", template=f"{self.prefix}_base")

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self._created:
            self._created.remove(name)

    def close(self) -> None:
        for name in list(self._created):
            self.drop(self._url(name))
        self.admin.dispose()

    def sessions(self, url: str) -> int | None:
        query = text("SELECT sessions FROM pg_stat_database WHERE datname = :name")
        try:
            with self.admin.connect() as conn:
                value = conn.execute(query, {"name": make_url(url).database}).scalar()
        except SQLAlchemyError:  # before PostgreSQL 14 the column does not exist
            return None
        return None if value is None else int(value)


def connect_postgres(admin_url: str) -> PostgresDatabases | None:
    """The PostgreSQL side, or None (with the reason printed) when it cannot be used."""
    host = make_url(admin_url).host or "localhost"
    if host not in LOOPBACK:
        console.print(f"[yellow]PostgreSQL host {host!r} is not loopback; skipping it[/yellow]")
        return None
    admin = create_engine(
        admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]
        console.print(f"[yellow]PostgreSQL unreachable at {host} ({reason}); skipping it[/yellow]")
        admin.dispose()
        return None
    return PostgresDatabases(admin, admin_url)


def seed_database(url: str, seed: int) -> float:
    """Migrate and load the demo network through the service layer; seconds taken."""
    # Imported here: the load and DB processes, which import this module (placement.py
    # imports it), need none of it.
    from ordergrid.bootstrap import bootstrap  # noqa: PLC0415
    from ordergrid.entrypoints.cli.demo import load_network  # noqa: PLC0415
    from ordergrid.settings import Settings  # noqa: PLC0415

    started = time.perf_counter()
    app = bootstrap(Settings(database_url=url, admin_token=TOKEN, auto_migrate=True))
    try:
        load_network(app, build_network(seed=seed), Console(file=io.StringIO()))
    finally:
        app.close()
    return time.perf_counter() - started


def seed_all(dbs: dict[str, Databases], seed: int) -> None:
    """Seed every backend's base database, in parallel processes."""
    console.print(f"seeding the demo network (seed {seed}) into: {', '.join(dbs)} ...")
    with ProcessPoolExecutor(max_workers=len(dbs), mp_context=SPAWN) as pool:
        futures = {name: pool.submit(seed_database, db.base_url, seed) for name, db in dbs.items()}
        for name, future in futures.items():
            console.print(f"  {name}: seeded in {future.result():.1f} s")


def open_databases(
    backends: tuple[str, ...], postgres_url: str, stack: ExitStack
) -> dict[str, Databases]:
    """The base databases of the backends that can be used, closed when `stack` closes."""
    dbs: dict[str, Databases] = {}
    if "sqlite" in backends:
        dbs["sqlite"] = SqliteDatabases(Path(tempfile.mkdtemp(prefix="ordergrid-bench-")))
    if "postgresql" in backends and (pg := connect_postgres(postgres_url)):
        dbs["postgresql"] = pg
    for db in dbs.values():
        stack.callback(db.close)
    return dbs
