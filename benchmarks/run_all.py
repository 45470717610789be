"""Run every benchmark in this folder with the same arguments (e.g. `--quick`).

    python benchmarks/run_all.py [--quick] [other arguments passed to each benchmark]

A benchmark is a `benchmarks/*.py` script that runs as a program (it has an
`if __name__ == "__main__":` block), except this file and files starting with `_`; the
other modules (`common.py`, the parts a benchmark is split into) are helpers it imports.
Each runs in its own process; its output is shown as it comes, except its `BENCH {json}`
lines, which are printed together at the very end (after a summary of which benchmarks
ran), so the collected output still ends with the BENCH lines. Exits non-zero when a
benchmark failed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"run_all.py"}
# Helper modules are imported, never run: only a script has this block.
MAIN_BLOCK = re.compile(r"^if __name__ == [\"']__main__[\"']:", re.MULTILINE)


@dataclass(frozen=True)
class Outcome:
    name: str
    returncode: int
    seconds: float
    bench_lines: tuple[str, ...]


def discover(folder: Path = HERE) -> list[Path]:
    """The benchmark scripts, by name (not the helper modules they import)."""
    return sorted(
        path
        for path in folder.glob("*.py")
        if path.name not in NOT_BENCHMARKS
        and not path.name.startswith("_")
        and MAIN_BLOCK.search(path.read_text(encoding="utf-8"))
    )


def run_one(script: Path, args: list[str]) -> Outcome:
    """Run one benchmark, echoing its output and keeping its BENCH lines."""
    print(f"\n=== {script.name} {' '.join(args)}".rstrip(), flush=True)
    started = time.monotonic()
    bench: list[str] = []
    with subprocess.Popen(
        [sys.executable, str(script), *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE.parent,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("BENCH "):
                bench.append(line.rstrip("\n"))
            else:
                print(line, end="", flush=True)
    return Outcome(script.stem, proc.returncode, time.monotonic() - started, tuple(bench))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    scripts = discover()
    if not scripts:
        print("no benchmark found in", HERE)
        return 1
    outcomes = [run_one(script, args) for script in scripts]
    print("\n=== summary")
    for o in outcomes:
        state = "ok" if o.returncode == 0 else f"FAILED (exit {o.returncode})"
        print(f"{o.name:<24} {state:<20} {o.seconds:6.1f} s  {len(o.bench_lines)} BENCH line(s)")
    for o in outcomes:
        for line in o.bench_lines:
            print(line)
    return 0 if all(o.returncode == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
