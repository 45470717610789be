#!/usr/bin/env python3
"""Set up and run ordergrid on a fresh machine with nothing but Python 3.11+.

    python3 dev.py demo     create .venv, install, start the demo (URL and token printed)
    python3 dev.py test     create .venv, install, run linters, type checks and every test
    python3 dev.py bench    run the benchmarks (add --quick for a short run)

Anything after the command is passed on (to `ordergrid demo`, to pytest, to the benchmarks);
`test` spreads the tests over up to four cores unless given `-n` (`-n 0`: one process).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".ordergrid-installed"


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if code != 0:
        sys.exit(code)


def setup() -> None:
    """Create the virtual environment and (re)install when pyproject.toml changed."""
    if sys.version_info < (3, 11):
        sys.exit("ordergrid needs Python 3.11 or newer")
    if not (BIN / "python").exists():
        print("creating .venv", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text() != wanted:
        run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        STAMP.write_text(wanted)


def test(args: list[str]) -> None:
    run(BIN / "ruff", "check", "src", "tests", "benchmarks")
    run(BIN / "ruff", "format", "--check", "src", "tests", "benchmarks")
    run(BIN / "mypy")
    run(BIN / "lint-imports")
    run(BIN / "python", "-m", "pytest", *_spread(args), *args)


def _spread(args: list[str]) -> list[str]:
    """Spread the tests over the machine's cores (pytest-xdist), at most four, as the
    end-to-end tests start servers and processes of their own; a `-n` given wins."""
    if any(a.startswith(("-n", "--numprocesses")) for a in args):
        return []
    return ["-n", "auto", "--maxprocesses", "4"]


def main() -> None:
    command, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("", [])
    if command not in {"demo", "test", "bench"}:
        sys.exit(__doc__)
    setup()
    if command == "demo":
        run(BIN / "ordergrid", "demo", *args)
    elif command == "test":
        test(args)
    else:
        run(BIN / "python", "benchmarks/run_all.py", *args)


if __name__ == "__main__":
    main()
